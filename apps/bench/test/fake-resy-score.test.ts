import { describe, expect, it } from 'vitest';
import { FakeResyMarket, type Opening } from '../src/fake-resy/index.js';
import { scoreDetection, type DropRow } from '../src/scenarios/detection/score.js';

const EPOCH = Date.parse('2026-12-01T14:00:00Z');
const T0 = EPOCH + 3_600_000;
const T1 = T0 + 600_000;

describe('detection scoring against the fake market', () => {
  const market = new FakeResyMarket({ seed: 3, venues: 300, epochMs: EPOCH });
  const slot = (o: { venueId: string; date: string; time: string }) => `${o.venueId}|${o.date}|${o.time}`;
  const near = market.openings(T0 - 3_600_000, T1 + 3_600_000);
  const scored = near.filter((o) => o.startMs >= T0 && o.startMs <= T1 - 120_000);
  /** Openings alone on their slot for an hour around the window. */
  const lone = scored.filter((o) => near.filter((x) => slot(x) === slot(o)).length === 1);
  const scope = { dates: new Set(near.map((o) => o.date)), ranges: [[0, 24 * 60]] as const, dedupeMs: 0 };
  const watched = { venueIds: new Set([scored[0]!.venueId]), dates: new Set([scored[0]!.date]) };
  const dropOf = (o: Opening, delayMs: number, closedAt: number | null): DropRow => ({
    bucketId: 'b',
    partySizes: o.partySizes,
    venueId: o.venueId,
    slotDate: o.date,
    slotTime: o.time,
    openedAt: o.startMs + delayMs,
    closedAt,
  });

  it('scores a detector 10 s late on every opening with no misses and no false drops', () => {
    const all = near.filter((o) => o.startMs <= T1);
    const s = scoreDetection(
      market,
      all.map((o) => dropOf(o, 10_000, null)),
      T0,
      T1,
      scope,
      watched,
    );
    // Overlapping openings of one slot are one bookable stretch: the later ones count as repeats.
    expect(s.openings + s.repeats).toBe(scored.length);
    expect(s.openings).toBeGreaterThan(0.9 * scored.length);
    expect(s.missed).toBe(0);
    expect([s.missedNearShare, s.missedWeekShare, s.missedFarShare]).toEqual([0, 0, 0]);
    expect([s.p50S, s.p90S, s.maxS, s.watchedP50S]).toEqual([10, 10, 10, 10]);
    expect(s.falseDrops).toBe(0);
  });

  it('counts missed openings, a drop of a regular slot as false, and closes of still-bookable slots as false', () => {
    const half = lone.filter((_, i) => i % 2 === 0);
    const drops = half.map((o, i) => dropOf(o, 30_000, i % 3 === 0 ? o.endMs + 3_000 : o.startMs + 40_000));
    const regular = market.venues.find((v) => v.kind === 'regular')!;
    const date = market.localDate(T0);
    const time = market.find(regular.resyId, date, 2, T0 + 60_000)!.times[0]!;
    drops.push({
      bucketId: 'b',
      partySizes: [2],
      venueId: regular.venueId,
      slotDate: date,
      slotTime: time,
      openedAt: T0 + 60_000,
      closedAt: null,
    });
    const s = scoreDetection(market, drops, T0, T1, scope, watched);
    expect(s.missed).toBe(s.openings - half.length);
    expect(s.missedAtBaselineVenue).toBe(0);
    // Misses in every days-ahead band; the overall share is a mix of the bands'.
    const bands = [s.missedNearShare, s.missedWeekShare, s.missedFarShare];
    for (const share of bands) expect(share).toBeGreaterThan(0);
    expect(s.missedShare).toBeGreaterThanOrEqual(Math.min(...bands));
    expect(s.missedShare).toBeLessThanOrEqual(Math.max(...bands));
    // A miss at a venue the bucket's baseline saw bookable is told apart; a detected opening never counts.
    const missedVenue = lone.find((_, i) => i % 2 === 1)!.venueId;
    const oneVenue = scoreDetection(
      market,
      drops,
      T0,
      T1,
      { ...scope, atBaselineVenue: (o) => o.venueId === missedVenue },
      watched,
    );
    expect(oneVenue.missedAtBaselineVenue).toBeGreaterThanOrEqual(1);
    expect(oneVenue.missedAtBaselineVenue).toBeLessThan(s.missed);
    const every = scoreDetection(market, drops, T0, T1, { ...scope, atBaselineVenue: () => true }, watched);
    expect(every.missedAtBaselineVenue).toBe(s.missed);
    expect(s.p90S).toBe(30);
    expect(s.falseDrops).toBe(1);
    expect(s.falseDropsRegular).toBe(1);
    // Openings last ≥ 60 s: closed 40 s after the start, each was still bookable.
    expect(s.falseCloses).toBe(half.filter((_, i) => i % 3 !== 0).length);
  });

  it('leaves out openings that repeat their slot within the dedupe window', () => {
    const withDedupe = scoreDetection(market, [], T0, T1, { ...scope, dedupeMs: 3_600_000 }, watched);
    expect(withDedupe.repeats).toBeGreaterThan(0);
    expect(withDedupe.repeats).toBeLessThanOrEqual(scored.length - lone.length);
    expect(withDedupe.openings + withDedupe.repeats).toBe(scored.length);
  });
});
