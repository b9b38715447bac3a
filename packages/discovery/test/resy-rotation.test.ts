import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/index.js';
import { useScriptedBucket } from './support/scripted-market.js';

const { bucket, provider, place, at, market: scripted } = useScriptedBucket();
const sizesAsked = () => new Set(scripted().requests.map((r) => r.body.slot_filter?.party_size));
/** The party sizes of a venue's slots, by start time. */
const sizesOf = (snap: Snapshot, venue: number) =>
  snap.slots
    .filter((s) => s.venueId === `resy:${venue}`)
    .sort((a, b) => a.localStart.localeCompare(b.localStart))
    .map((s) => s.partySizes);

describe('Resy provider: one party size refreshed per poll, the others carried', () => {
  it('asks every call first, then one party size a poll in turn, and keeps the snapshot whole', async () => {
    scripted().venues.clear();
    for (let id = 1; id <= 30; id++) place(id, [at('20:15'), at('20:30')]);
    const p = provider();

    scripted().requests.length = 0;
    const first = await p.fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([2, 4]));
    expect(sizesOf(first, 1)).toEqual([
      [2, 4],
      [2, 4],
    ]);

    // A new table opens; the next poll asks party size 2 only and carries the size-4 calls.
    place(31, [at('20:20')]);
    scripted().requests.length = 0;
    const second = await p.fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([2]));
    expect(second.slots).toHaveLength(61);
    expect(sizesOf(second, 1)).toEqual([
      [2, 4],
      [2, 4],
    ]);
    expect(sizesOf(second, 31)).toEqual([[2]]);

    // A table closes: the size-4 poll drops it from size 4, the carried size-2 answer keeps it
    // until size 2 is asked again (a carried slot closes only when its own call says so).
    scripted().venues.get(1)!.starts = [at('20:30')];
    scripted().requests.length = 0;
    const third = await p.fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([4]));
    expect(sizesOf(third, 1)).toEqual([[2], [2, 4]]);
    expect(sizesOf(third, 31)).toEqual([[2, 4]]);

    scripted().requests.length = 0;
    const fourth = await p.fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([2]));
    expect(sizesOf(fourth, 1)).toEqual([[2, 4]]);
  });

  it('a table the fast lane saw is in the carried answers of its party size, so a poll of the other size does not close it', async () => {
    scripted().venues.clear();
    for (let id = 1; id <= 30; id++) place(id, [at('20:15'), at('20:30')]);
    const p = provider();
    await p.fetchSnapshot(bucket, [2, 4]);
    await p.fetchSnapshot(bucket, [2, 4]); // size 2 asked; size 4's turn is next
    // A table opens that the searches do not show yet; the fast lane asks the venue for size 2.
    place(31, [at('20:20')]);
    scripted().state.searchHidden.add(31);
    try {
      const day = await p.fetchVenueDay({ market: bucket.market, venueId: 'resy:31', date: bucket.date, partySize: 2 });
      expect(day.slots.map((s) => s.localStart)).toEqual([at('20:20')]);
      scripted().requests.length = 0;
      const next = await p.fetchSnapshot(bucket, [2, 4]);
      expect(sizesAsked()).toEqual(new Set([4]));
      // The size-2 answers carried into this poll predate the table, but now hold it.
      expect(sizesOf(next, 31)).toEqual([[2]]);
      // Once it is gone, the venue's next answer takes it out of them again.
      scripted().venues.get(31)!.starts = [];
      await p.fetchVenueDay({ market: bucket.market, venueId: 'resy:31', date: bucket.date, partySize: 2 });
      expect(sizesOf(await p.fetchSnapshot(bucket, [2, 4]), 31)).toEqual([]);
    } finally {
      scripted().state.searchHidden.delete(31);
    }
  });

  it('with one party size every poll asks every call', async () => {
    scripted().venues.clear();
    for (let id = 1; id <= 10; id++) place(id, [at('20:30')]);
    const p = provider();
    scripted().requests.length = 0;
    await p.fetchSnapshot(bucket, [2]);
    await p.fetchSnapshot(bucket, [2]);
    expect(scripted().requests.filter((r) => r.body.slot_filter?.time_filter === '20:30')).toHaveLength(2);
  });

  it('a first poll of a bucket with a baseline asks one party size and says it is partial; the next asks the other and is whole', async () => {
    scripted().venues.clear();
    for (let id = 1; id <= 30; id++) place(id, [at('20:15'), at('20:30')]);
    const calibrated = { ...bucket, hasBaseline: true };

    // Without a baseline the first poll asks every size (a baseline needs them all).
    scripted().requests.length = 0;
    const whole = await provider().fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([2, 4]));
    expect(whole.partial).toBeUndefined();

    // With one, what a replica that took the bucket over (or restarted) does first.
    const p = provider();
    scripted().requests.length = 0;
    const first = await p.fetchSnapshot(calibrated, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([2]));
    expect(first.partial).toBe(true);
    expect(sizesOf(first, 1)).toEqual([[2], [2]]);

    scripted().requests.length = 0;
    const second = await p.fetchSnapshot(calibrated, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([4]));
    expect(second.partial).toBeUndefined();
    expect(sizesOf(second, 1)).toEqual([
      [2, 4],
      [2, 4],
    ]);

    // Then the sizes take turns as usual.
    scripted().requests.length = 0;
    expect((await p.fetchSnapshot(calibrated, [2, 4])).partial).toBeUndefined();
    expect(sizesAsked()).toEqual(new Set([2]));
  });
});
