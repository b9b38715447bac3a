import { getMarket } from '@dropwatch/core';
import { describe, expect, it } from 'vitest';
import { SimulatedProvider, type ProviderBucket, type Snapshot } from '../src/index.js';

const bucket: ProviderBucket = {
  bucketId: 'nyc_2030-01-05_20:30',
  market: getMarket('nyc'),
  date: '2030-01-05',
  timeSlot: '20:30',
};
const market = (seed = 1, churn = 0.02) =>
  new SimulatedProvider({ seed, venues: 300, slotsPerBucket: 400, churn, stepMs: 30_000 });
const keys = (s: Snapshot) => new Set(s.slots.map((x) => `${x.venueId}|${x.localStart}`));

describe('simulated market', () => {
  it('is a pure function of seed, bucket and step', () => {
    const a = market().snapshotAt(bucket, [2, 4], 1000);
    const b = market().snapshotAt(bucket, [2, 4], 1000);
    expect(b.slots).toEqual(a.slots);
    expect([...b.venues.keys()]).toEqual([...a.venues.keys()]);
    const other = market(2).snapshotAt(bucket, [2, 4], 1000);
    expect(keys(other)).not.toEqual(keys(a));
  });

  it('reads its step from the clock, one step per stepMs', async () => {
    let now = 30_000 * 1000 + 5;
    const p = new SimulatedProvider({
      seed: 1,
      venues: 300,
      slotsPerBucket: 400,
      churn: 0.05,
      stepMs: 30_000,
      now: () => new Date(now),
    });
    const first = await p.fetchSnapshot(bucket, [2]);
    now += 1_000;
    expect(keys(await p.fetchSnapshot(bucket, [2]))).toEqual(keys(first));
    now += 60_000;
    expect(keys(await p.fetchSnapshot(bucket, [2]))).not.toEqual(keys(first));
  });

  it('keeps a stable base with about SIM_CHURN of change per step, at the bucket anchor ± 2 h', () => {
    const p = market(7, 0.02);
    const changes: number[] = [];
    let prev = keys(p.snapshotAt(bucket, [2, 4], 5000));
    for (let step = 5001; step <= 5040; step++) {
      const curr = keys(p.snapshotAt(bucket, [2, 4], step));
      let changed = 0;
      for (const k of curr) if (!prev.has(k)) changed++;
      for (const k of prev) if (!curr.has(k)) changed++;
      changes.push(changed / prev.size);
      prev = curr;
      for (const k of curr)
        expect(k.split('|')[1]! >= '2030-01-05 18:30:00' && k.split('|')[1]! <= '2030-01-05 22:30:00').toBe(true);
    }
    const mean = changes.reduce((a, b) => a + b, 0) / changes.length;
    expect(mean).toBeGreaterThan(0.005);
    expect(mean).toBeLessThan(0.06);
    expect(prev.size).toBeGreaterThanOrEqual(400);
  });

  it('opens slots at venues absent from the first polls (what makes drops after calibration)', () => {
    const p = market(3, 0.02);
    const baselineVenues = new Set<string>();
    for (let step = 100; step < 103; step++)
      for (const s of p.snapshotAt(bucket, [2, 4], step).slots) baselineVenues.add(s.venueId);
    const newVenues = new Set<string>();
    for (let step = 103; step < 133; step++) {
      for (const s of p.snapshotAt(bucket, [2, 4], step).slots)
        if (!baselineVenues.has(s.venueId)) newVenues.add(s.venueId);
    }
    expect(newVenues.size).toBeGreaterThan(5);
  });

  it('makes no churn at SIM_CHURN=0', () => {
    const p = market(1, 0);
    expect(keys(p.snapshotAt(bucket, [2], 10))).toEqual(keys(p.snapshotAt(bucket, [2], 99)));
  });
});
