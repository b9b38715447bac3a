import { getMarket } from '@dropwatch/core';
import { describe, expect, it, vi } from 'vitest';
import { FULL_SCAN_EVERY_MS } from '../src/providers/resy/resy-provider.js';
import { useScriptedBucket } from './support/scripted-market.js';

const { bucket, provider, place, at, market: scripted } = useScriptedBucket();
const [south, west] = getMarket('nyc').boundingBox as [number, number, number, number];
const venuesOf = (slots: readonly { venueId: string }[]) => new Set(slots.map((s) => s.venueId));

describe('Resy provider: the tail of the ranking between full scans', () => {
  it('reads only the pages of venues with few slots, carries the head, and sees a new opening there', async () => {
    scripted().venues.clear();
    // 140 venues with three slots each (pages 1–7 of 20) and 10 with one (page 8).
    for (let id = 1; id <= 140; id++) place(id, [at('20:15'), at('20:30'), at('20:45')]);
    for (let id = 141; id <= 150; id++) place(id, [at('20:05')]);
    const p = provider();
    const first = await p.fetchSnapshot(bucket, [2]);
    expect(venuesOf(first.slots).size).toBe(150);
    const fullRequests = first.stats.requests;

    place(151, [at('20:10')]);
    scripted().requests.length = 0;
    const second = await p.fetchSnapshot(bucket, [2]);
    const pages = scripted()
      .requests.filter((r) => r.body.slot_filter?.time_filter === '20:30')
      .map((r) => r.body.page);
    // The tail of the 20:30 call: its last page, then back one page to where three-slot venues start.
    expect(pages.sort()).toEqual([7, 8]);
    expect(second.stats.requests).toBeLessThan(fullRequests);
    // Every venue is still in the snapshot (the head carried), and the new one-slot venue is seen.
    expect(venuesOf(second.slots).size).toBe(151);
    expect(second.slots.filter((s) => s.venueId === 'resy:151')).toHaveLength(1);
  });

  const pagesOf2030 = () =>
    scripted()
      .requests.filter((r) => r.body.slot_filter?.time_filter === '20:30')
      .map((r) => r.body.page);
  const findsOf = () => scripted().requests.filter((r) => r.path.startsWith('/4/find')).length;

  /** 60 three-slot venues (pages 1–3 of 20) and five one-slot ones; then 61 is booked out and 62 gains three tables and ranks first. */
  const tailVenueLeaves = async (p: ReturnType<typeof provider>) => {
    scripted().venues.clear();
    for (let id = 1; id <= 60; id++) place(id, [at('20:15'), at('20:30'), at('20:45')]);
    for (let id = 61; id <= 65; id++) place(id, [at('20:05')]);
    await p.fetchSnapshot(bucket, [2]);
    scripted().venues.get(61)!.starts = [];
    scripted().venues.get(62)!.starts = [at('20:05'), at('20:10'), at('20:15'), at('20:20')];
    scripted().requests.length = 0;
  };

  it('a venue gone from the tail is told apart by one per-venue request: closed, or moved up with all its slots', async () => {
    const p = provider();
    await tailVenueLeaves(p);
    const polled = await p.fetchSnapshot(bucket, [2]);
    // The head was not read; one /4/find for each of the two venues that left the tail.
    expect(pagesOf2030()).not.toContain(1);
    expect(findsOf()).toBe(2);
    expect(polled.stats.vanishedResolved).toBe(2);
    expect(venuesOf(polled.slots).has('resy:61')).toBe(false);
    expect(polled.slots.filter((s) => s.venueId === 'resy:62')).toHaveLength(4);
    expect(venuesOf(polled.slots).size).toBe(64);
    // Nothing is left unsure: the next read of the box is a tail read again.
    scripted().requests.length = 0;
    const next = await p.fetchSnapshot(bucket, [2]);
    expect(pagesOf2030()).not.toContain(1);
    expect(findsOf()).toBe(0);
    expect(next.slots.filter((s) => s.venueId === 'resy:62')).toHaveLength(4);
  });

  /** 60 three-slot venues (pages 1–3 of 20) and ten one-slot ones (page 4). */
  const tenInTail = async (p: ReturnType<typeof provider>) => {
    scripted().venues.clear();
    for (let id = 1; id <= 60; id++) place(id, [at('20:15'), at('20:30'), at('20:45')]);
    for (let id = 61; id <= 70; id++) place(id, [at('20:05')]);
    await p.fetchSnapshot(bucket, [2]);
    scripted().requests.length = 0;
  };

  it("closes venues gone from the tail without a request when the box's count says they left it", async () => {
    const p = provider();
    await tenInTail(p);
    // Five are booked out (more than per-venue requests would tell apart) and one new venue opens.
    for (let id = 61; id <= 65; id++) scripted().venues.get(id)!.starts = [];
    place(71, [at('20:10')]);
    const polled = await p.fetchSnapshot(bucket, [2]);
    expect(pagesOf2030()).not.toContain(1);
    expect(findsOf()).toBe(0);
    for (let id = 61; id <= 65; id++) expect(venuesOf(polled.slots).has(`resy:${id}`)).toBe(false);
    expect(venuesOf(polled.slots).has('resy:71')).toBe(true);
    expect(venuesOf(polled.slots).size).toBe(66);
    // The count checks out against this read in turn: the next tail read needs nothing more either.
    scripted().requests.length = 0;
    scripted().venues.get(66)!.starts = [];
    const next = await p.fetchSnapshot(bucket, [2]);
    expect(pagesOf2030()).not.toContain(1);
    expect(findsOf()).toBe(0);
    expect(venuesOf(next.slots).size).toBe(65);
  });

  it('reads the head when the count says a venue entered it unseen (several tables at once), or one that left the tail moved up', async () => {
    const p = provider();
    await tenInTail(p);
    // A venue new to the box with four tables ranks on page 1, which a tail read skips.
    place(72, [at('20:05'), at('20:10'), at('20:15'), at('20:20')]);
    const entered = await p.fetchSnapshot(bucket, [2]);
    expect(pagesOf2030()).toContain(1);
    expect(entered.slots.filter((s) => s.venueId === 'resy:72')).toHaveLength(4);
    // Four leave the tail: three closed, one moved up with three more tables. The count is one
    // short of "all closed", so the head is read rather than the one that moved up closed.
    for (let id = 61; id <= 63; id++) scripted().venues.get(id)!.starts = [];
    scripted().venues.get(64)!.starts = [at('20:05'), at('20:10'), at('20:15'), at('20:20')];
    scripted().requests.length = 0;
    const moved = await p.fetchSnapshot(bucket, [2]);
    expect(pagesOf2030()).toContain(1);
    expect(moved.slots.filter((s) => s.venueId === 'resy:64')).toHaveLength(4);
    for (let id = 61; id <= 63; id++) expect(venuesOf(moved.slots).has(`resy:${id}`)).toBe(false);
  });

  it('reads the head instead when it costs no more than asking each venue that left the tail', async () => {
    scripted().venues.clear();
    // 25 three-slot venues (page 1 and the start of page 2 of 20) and five one-slot ones (page 2).
    for (let id = 1; id <= 25; id++) place(id, [at('20:15'), at('20:30'), at('20:45')]);
    for (let id = 26; id <= 30; id++) place(id, [at('20:05')]);
    const p = provider();
    await p.fetchSnapshot(bucket, [2]);
    // 26 is booked out and 27 gains three tables: both leave the tail, whose head is one page.
    scripted().venues.get(26)!.starts = [];
    scripted().venues.get(27)!.starts = [at('20:05'), at('20:10'), at('20:15'), at('20:20')];
    scripted().requests.length = 0;
    const polled = await p.fetchSnapshot(bucket, [2]);
    expect(pagesOf2030().sort()).toEqual([1, 2]);
    expect(findsOf()).toBe(0);
    expect(polled.stats.headReads).toBeGreaterThanOrEqual(1);
    expect(venuesOf(polled.slots).has('resy:26')).toBe(false);
    expect(polled.slots.filter((s) => s.venueId === 'resy:27')).toHaveLength(4);
    expect(venuesOf(polled.slots).size).toBe(29);
  });

  it('without a per-venue answer a venue gone from the tail is carried until a full scan tells; an empty tail page is asked again', async () => {
    const p = provider();
    await tailVenueLeaves(p);
    scripted().state.findFails = true;
    try {
      const unsure = await p.fetchSnapshot(bucket, [2]);
      expect(pagesOf2030()).not.toContain(1);
      // Neither closes on a read that could not see the head.
      expect(venuesOf(unsure.slots).has('resy:61')).toBe(true);
      expect(unsure.slots.filter((s) => s.venueId === 'resy:62').map((s) => s.localStart)).toEqual([at('20:05')]);
      // The next read is a full scan: 61 is gone, 62 has all four.
      scripted().requests.length = 0;
      const gone = await p.fetchSnapshot(bucket, [2]);
      expect(pagesOf2030()).toContain(1);
      expect(venuesOf(gone.slots).has('resy:61')).toBe(false);
      expect(gone.slots.filter((s) => s.venueId === 'resy:62')).toHaveLength(4);
      expect(venuesOf(gone.slots).size).toBe(64);
    } finally {
      scripted().state.findFails = false;
    }
    // One tail page answers empty: asked again, nothing is lost.
    scripted().state.emptyNext = { filter: '20:30', count: 1 };
    const after = await p.fetchSnapshot(bucket, [2]);
    expect(venuesOf(after.slots).size).toBe(64);
    expect(after.stats.doubtfulRetries).toBeGreaterThanOrEqual(1);
  });

  it('a full read whose ranking moves between its pages does not close the venue that slipped across the boundary', async () => {
    scripted().venues.clear();
    // 19 three-slot venues and six one-slot ones: page 1 of 20 ends with one-slot venue 20, page 2 holds 21–25.
    for (let id = 1; id <= 19; id++) place(id, [at('20:15'), at('20:30'), at('20:45')]);
    for (let id = 20; id <= 25; id++) place(id, [at('20:05')]);
    const p = provider();
    await p.fetchSnapshot(bucket, [2]);
    // Past the full-scan period, so the next read is a full one again.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + FULL_SCAN_EVERY_MS + 1_000 });
    try {
      // Venue 5 is booked out once page 1 was answered: 21 moves up onto page 1, and page 2 starts
      // at 22. (The two pages are asked at once, so page 2 waits for page 1's answer whichever
      // arrives first.)
      let page1Answered!: () => void;
      const page1 = new Promise<void>((resolve) => (page1Answered = resolve));
      scripted().state.beforeSearch = async (body) => {
        if (body.slot_filter?.time_filter !== '20:30') return;
        if (body.page === 1) setTimeout(page1Answered, 0);
        if (body.page === 2) {
          await page1;
          scripted().venues.get(5)!.starts = [];
        }
      };
      scripted().requests.length = 0;
      const torn = await p.fetchSnapshot(bucket, [2]);
      expect(pagesOf2030().sort()).toEqual([1, 2]);
      // No page showed 21; the count fell between the pages, so it is asked on its own and kept.
      expect(findsOf()).toBe(1);
      expect(torn.stats.vanishedResolved).toBe(1);
      expect(torn.slots.filter((s) => s.venueId === 'resy:21').map((s) => s.localStart)).toEqual([at('20:05')]);
      expect(venuesOf(torn.slots).size).toBe(25);
    } finally {
      scripted().state.beforeSearch = null;
      vi.useRealTimers();
    }
  });

  it('a box still truncated at the deepest tiling never reads only its tail: a venue shifting in is no drop, one shifting out does not close', async () => {
    scripted().venues.clear();
    // 50 one-slot venues at one point: no split separates them, and 2 pages of 20 show 40.
    const point = (id: number) =>
      scripted().venues.set(id, { id, lat: south + 0.0123, lng: west + 0.0123, starts: [at('20:20')] });
    for (let id = 2; id <= 51; id++) point(id);
    const q = provider({ maxPages: 2 });
    const first = await q.fetchSnapshot(bucket, [2]);
    expect(first.stats.truncatedCalls).toBeGreaterThanOrEqual(1);
    expect(venuesOf(first.slots).has('resy:41')).toBe(true);
    expect(venuesOf(first.slots).has('resy:42')).toBe(false);
    // Venue 1 ranks first now and pushes venue 41 past the cap.
    point(1);
    const second = await q.fetchSnapshot(bucket, [2]);
    expect(second.stats.truncatedCalls).toBeGreaterThanOrEqual(1);
    expect(venuesOf(second.slots).has('resy:1')).toBe(false);
    expect(venuesOf(second.slots).has('resy:41')).toBe(true);
  });
});
