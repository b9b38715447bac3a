import { getMarket } from '@dropwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResyProvider, type ProviderBucket, type Snapshot } from '../src/index.js';
import { startScriptedMarket } from './support/scripted-market.js';

const day = '2030-01-05';
const bucket: ProviderBucket = { bucketId: `nyc_${day}_20:30`, market: getMarket('nyc'), date: day, timeSlot: '20:30' };
const [south, west] = getMarket('nyc').boundingBox;
let market: Awaited<ReturnType<typeof startScriptedMarket>>;

beforeAll(async () => {
  market = await startScriptedMarket();
});
afterAll(async () => {
  await market.close();
});

const provider = () =>
  new ResyProvider({
    baseUrl: market.url,
    apiKey: 'k',
    perPage: 20,
    maxPages: 10,
    maxRps: 1_000,
    timeoutMs: 2_000,
    retryBaseMs: 5,
  });
const place = (id: number, starts: string[]) =>
  market.venues.set(id, { id, lat: south + 0.001 * (id % 50), lng: west + 0.001 * Math.floor(id / 50), starts });
const at = (hhmm: string) => `${day} ${hhmm}:00`;
const sizesAsked = () => new Set(market.requests.map((r) => r.body.slot_filter?.party_size));
/** The party sizes of a venue's slots, by start time. */
const sizesOf = (snap: Snapshot, venue: number) =>
  snap.slots
    .filter((s) => s.venueId === `resy:${venue}`)
    .sort((a, b) => a.localStart.localeCompare(b.localStart))
    .map((s) => s.partySizes);

describe('Resy provider: one party size refreshed per poll, the others carried', () => {
  it('asks every call first, then one party size a poll in turn, and keeps the snapshot whole', async () => {
    market.venues.clear();
    for (let id = 1; id <= 30; id++) place(id, [at('20:15'), at('20:30')]);
    const p = provider();

    market.requests.length = 0;
    const first = await p.fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([2, 4]));
    expect(sizesOf(first, 1)).toEqual([
      [2, 4],
      [2, 4],
    ]);

    // A new table opens; the next poll asks party size 2 only and carries the size-4 calls.
    place(31, [at('20:20')]);
    market.requests.length = 0;
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
    market.venues.get(1)!.starts = [at('20:30')];
    market.requests.length = 0;
    const third = await p.fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([4]));
    expect(sizesOf(third, 1)).toEqual([[2], [2, 4]]);
    expect(sizesOf(third, 31)).toEqual([[2, 4]]);

    market.requests.length = 0;
    const fourth = await p.fetchSnapshot(bucket, [2, 4]);
    expect(sizesAsked()).toEqual(new Set([2]));
    expect(sizesOf(fourth, 1)).toEqual([[2, 4]]);
  });

  it('with one party size every poll asks every call', async () => {
    market.venues.clear();
    for (let id = 1; id <= 10; id++) place(id, [at('20:30')]);
    const p = provider();
    market.requests.length = 0;
    await p.fetchSnapshot(bucket, [2]);
    await p.fetchSnapshot(bucket, [2]);
    expect(market.requests.filter((r) => r.body.slot_filter?.time_filter === '20:30')).toHaveLength(2);
  });
});
