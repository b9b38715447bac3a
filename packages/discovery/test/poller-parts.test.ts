import { describe, expect, it } from 'vitest';
import { nextGrantAt, RequestBudget } from '../src/budget/request-budget.js';
import {
  bucketScore,
  DropRates,
  DROP_LIFE_SECONDS,
  isStarvingScore,
  RATE_FLOOR,
  STARVING_SHARE,
  STARVING_WINDOW,
  StarvingShare,
  type BucketView,
} from '../src/poller/bucket-priority.js';
import { cycleOrder, fastLaneModes, type FastTarget } from '../src/poller/fast-lane.js';
import { CallGuard, type CallSlot } from '../src/providers/resy/call-guard.js';
import {
  MAX_TILE_DEPTH,
  quadrants,
  SPLIT_FILL,
  Tiling,
  type Box,
  type Point,
} from '../src/providers/resy/search-tiles.js';

const slot = (venue: number, hhmm: string): CallSlot => ({
  venueId: `resy:${venue}`,
  localStart: `2030-01-05 ${hhmm}:00`,
  bookingUrl: null,
});
const slots = (n: number, from = 1): CallSlot[] => Array.from({ length: n }, (_, i) => slot(from + i, '20:30'));

describe('request budget', () => {
  it('gives the fast lane its share while both lanes wait, and everything to a lane waiting alone', async () => {
    const budget = new RequestBudget(2_000, 0.3);
    const order: string[] = [];
    const waits = [
      ...Array.from({ length: 40 }, () => budget.acquire('search').then(() => order.push('s'))),
      ...Array.from({ length: 40 }, () => budget.acquire('fast').then(() => order.push('f'))),
    ];
    expect(budget.pending()).toBe(80);
    await Promise.all(waits);
    const firstFifty = order.slice(0, 50);
    const fast = firstFifty.filter((l) => l === 'f').length;
    expect(fast).toBeGreaterThanOrEqual(13);
    expect(fast).toBeLessThanOrEqual(17);
    // Once searches ran out, the fast lane took every grant.
    expect(order.slice(-10).every((l) => l === 'f')).toBe(true);
    expect(budget.total).toBe(80);
  });

  it('keeps its rate when grants fire late, and banks no idle time', () => {
    // Every grant fires 30 ms after it was due, at 100 ms apart: the schedule still advances
    // 100 ms a grant (without the catch-up it would drift 130 ms a grant, 7.7 a second of 10).
    let due = 0;
    for (let i = 0; i < 50; i++) due = nextGrantAt(due, due + 30, 100, true);
    expect(due).toBe(50 * 100);
    // A request that comes after a minute idle leaves at once, and the next a full interval later.
    const idle = 60_000 + due;
    expect(nextGrantAt(due, idle, 100, false)).toBe(idle + 100);
    // A timer stalled for longer than an interval restarts from now: no burst of the lost time.
    expect(nextGrantAt(due, due + 1_000, 100, true)).toBe(due + 1_000);
  });

  it('grants several requests at once as one, taking their intervals from the schedule', async () => {
    const budget = new RequestBudget(20); // one every 50 ms
    await budget.acquire('search');
    const at: Record<string, number> = {};
    const start = Date.now();
    await Promise.all([
      budget.acquire('search', undefined, 3).then(() => (at.batch = Date.now() - start)),
      budget.acquire('search').then(() => (at.next = Date.now() - start)),
      budget.acquire('search', undefined, 100).then(() => (at.capped = Date.now() - start)),
    ]);
    // The batch leaves on one grant; the request after it waits the three intervals it took.
    expect(at.next! - at.batch!).toBeGreaterThanOrEqual(3 * 50 - 10);
    // A batch covers at most a second's worth (20 here): 1 + 3 + 1 + 20 granted.
    expect(budget.total).toBe(25);
    expect(budget.batchMax).toBe(20);
  });

  it('forgets a waiter whose signal aborts, and follows a rate change', async () => {
    const budget = new RequestBudget(0.5);
    await budget.acquire('search');
    const abort = new AbortController();
    const waiting = budget.acquire('search', abort.signal);
    expect(budget.pending('search')).toBe(1);
    abort.abort();
    await expect(waiting).rejects.toThrow(/aborted/);
    expect(budget.pending()).toBe(0);
    budget.setRate(1_000);
    expect(budget.requestsPerSecond).toBe(1_000);
    await budget.acquire('fast');
    expect(budget.total).toBe(2);
  });
});

const view = (over: Partial<BucketView> = {}): BucketView => ({
  calibrated: true,
  baselinePolls: 3,
  lastPollAt: 0,
  errorStreak: 0,
  rate: 0.01,
  cost: 6,
  watched: false,
  anchorMinute: 15 * 60,
  ...over,
});
const limits = { cooldownSeconds: 5, maxStalenessSeconds: 240 };

describe('bucket priority', () => {
  it('waits out the cooldown and backs off after errors', () => {
    expect(bucketScore(view(), 4_000, limits)).toBeNull();
    expect(bucketScore(view(), 6_000, limits)).not.toBeNull();
    expect(bucketScore(view({ errorStreak: 2 }), 15_000, limits)).toBeNull();
    expect(bucketScore(view({ errorStreak: 2 }), 21_000, limits)).not.toBeNull();
  });

  it('puts calibration first, then starving buckets, then the score', () => {
    const calibrating = bucketScore(view({ calibrated: false, baselinePolls: 0, lastPollAt: null }), 10_000, limits)!;
    const starving = bucketScore(view({ rate: RATE_FLOOR }), 250_000, limits)!;
    const busy = bucketScore(view({ rate: 1 }), 200_000, limits)!;
    expect(calibrating).toBeGreaterThan(starving);
    expect(starving).toBeGreaterThan(busy);
    // A bucket nearer its baseline is finished first, however long another has waited.
    const second = bucketScore(view({ calibrated: false, baselinePolls: 1, lastPollAt: 5_000 }), 10_000, limits)!;
    expect(second).toBeGreaterThan(calibrating);
  });

  it('lets the staleness rule take only its share of the polls; past it, stale buckets go by score', () => {
    const share = new StarvingShare();
    let first = 0;
    for (let i = 0; i < STARVING_WINDOW * 3; i++) {
      const score = bucketScore(view({ rate: RATE_FLOOR }), 250_000, { ...limits, starvingFirst: share.allowed })!;
      share.record(isStarvingScore(score));
      if (isStarvingScore(score)) first++;
    }
    expect(first).toBe(STARVING_SHARE * STARVING_WINDOW * 3);
    // Out of its turn, a stale quiet bucket yields to a busy one it would have overtaken.
    const stale = bucketScore(view({ rate: RATE_FLOOR }), 250_000, { ...limits, starvingFirst: false })!;
    const busy = bucketScore(view({ rate: 1 }), 200_000, limits)!;
    expect(isStarvingScore(stale)).toBe(false);
    expect(busy).toBeGreaterThan(stale);
  });

  it('scores delay cleared per request: √rate × age² / cost, weighted for watches and prime time', () => {
    const at = 60_000;
    const base = bucketScore(view(), at, limits)!;
    expect(bucketScore(view({ rate: 0.04 }), at, limits)! / base).toBeCloseTo(2);
    // Sixteen times the rate is worth polling twice as often: the same score at half the age.
    expect(bucketScore(view({ rate: 0.16 }), at / 2, limits)!).toBeCloseTo(base);
    expect(bucketScore(view({ cost: 12 }), at, limits)! / base).toBeCloseTo(0.5);
    expect(bucketScore(view({ watched: true }), at, limits)!).toBeGreaterThan(base);
    expect(bucketScore(view({ anchorMinute: 20 * 60 + 30 }), at, limits)!).toBeGreaterThan(base);
  });

  it("stops counting age past a drop's life, so a budget too small for every bucket goes to the busiest", () => {
    const life = DROP_LIFE_SECONDS * 1000;
    const atLife = bucketScore(view(), life, limits)!;
    expect(bucketScore(view(), life * 2, limits)).toBe(atLife);
    // Both past a drop's life: the busier bucket goes first, however much longer the other waited.
    const busy = bucketScore(view({ rate: 0.04 }), life + 1_000, limits)!;
    const quietOld = bucketScore(view({ rate: 0.01 }), 200_000, limits)!;
    expect(busy).toBeGreaterThan(quietOld);
    // Within a drop's life, age still counts as before.
    expect(bucketScore(view({ rate: 0.04 }), life / 4, limits)!).toBeLessThan(bucketScore(view(), life / 2, limits)!);
  });

  it('learns rates per (market, days ahead, anchor) and leans on the market mean where it knows little', () => {
    const rates = new DropRates();
    rates.observe('nyc', 0, '20:30', 60, 600, 0);
    rates.observe('nyc', 9, '15:00', 0, 600, 0);
    const hot = rates.rate('nyc', 0, '20:30', 0);
    const cold = rates.rate('nyc', 9, '15:00', 0);
    const unknown = rates.rate('nyc', 5, '20:30', 0);
    expect(hot).toBeGreaterThan(unknown);
    expect(unknown).toBeGreaterThan(cold);
    expect(unknown).toBeLessThan(hot);
    expect(rates.rate('la', 0, '20:30', 0)).toBe(RATE_FLOOR);
    // A key never seen leans on its days-ahead band: far days learned cold, near days hot.
    expect(rates.rate('nyc', 11, '20:30', 0)).toBeLessThan(rates.rate('nyc', 1, '15:00', 0));
    // Old observations fade: after many half-lives the key is back near the market mean.
    expect(rates.rate('nyc', 0, '20:30', 10 * 24 * 3_600_000)).toBeLessThan(hot);
  });

  it('counts a long poll interval as no more observation than a drop lives: a rarely polled key is not taken for a quiet one', () => {
    const often = new DropRates();
    const rarely = new DropRates();
    // The same market seen two ways: polled every 30 s it shows 1 drop a poll; polled every
    // 300 s it shows 3 (the drops of its last DROP_LIFE_SECONDS; older ones closed unseen).
    for (let i = 1; i <= 40; i++) often.observePoll('nyc', 3, '20:30', 1, 30, i * 30_000);
    for (let i = 1; i <= 4; i++) rarely.observePoll('nyc', 3, '20:30', 3, 300, i * 300_000);
    const a = often.rate('nyc', 3, '20:30', 1_200_000);
    const b = rarely.rate('nyc', 3, '20:30', 1_200_000);
    expect(b / a).toBeGreaterThan(0.8);
    expect(b / a).toBeLessThan(1.25);
  });
});

describe('fast lane', () => {
  const target = (venueId: string, date: string, partySize: number): FastTarget => ({
    key: `${venueId}|${date}|${partySize}`,
    venueId,
    market: 'nyc',
    date,
    partySize,
  });

  it('asks a day per venue while that is cheaper than a round of its buckets, and searches the day once it is not', () => {
    // Three watched venues on the 1st (6 targets), twenty on the 2nd (40); a round of each day's buckets costs 14.
    const targets = [
      ...['resy:1', 'resy:2', 'resy:3'].flatMap((v) => [2, 4].map((size) => target(v, '2026-12-01', size))),
      ...Array.from({ length: 20 }, (_, i) => `resy:${10 + i}`).flatMap((v) =>
        [2, 4].map((size) => target(v, '2026-12-02', size)),
      ),
    ];
    const modes = fastLaneModes(targets, () => 14);
    expect([...modes.searchedDays]).toEqual(['nyc|2026-12-02']);
    expect(modes.perVenue.map((t) => t.key)).toEqual(targets.slice(0, 6).map((t) => t.key));
    // A day whose buckets cannot be searched yet (no learned cost) stays per venue.
    const notReady = fastLaneModes(targets, (_m, date) => (date === '2026-12-02' ? undefined : 14));
    expect(notReady.searchedDays.size).toBe(0);
    expect(notReady.perVenue).toHaveLength(targets.length);
  });

  it('weighs every watched day before the per-venue cap: a day the cap cuts short is searched, not left unseen', () => {
    // Four venues on each of three days (8 targets a day), a round costs 14: all per venue, but the cap holds 20.
    const days = ['2026-12-01', '2026-12-02', '2026-12-03'];
    const targets = cycleOrder(
      ['resy:1', 'resy:2', 'resy:3', 'resy:4'].flatMap((v) =>
        days.flatMap((d) => [2, 4].map((size) => target(v, d, size))),
      ),
    );
    const modes = fastLaneModes(targets, () => 14, 20);
    // The nearest two days fit whole (16 targets); the third finds no room and is searched.
    expect([...modes.searchedDays]).toEqual(['nyc|2026-12-03']);
    expect(new Set(modes.perVenue.map((t) => t.date))).toEqual(new Set(days.slice(0, 2)));
    expect(modes.perVenue).toHaveLength(16);
    // Without a learned cost nothing can be searched: the cut day keeps what fits.
    const notReady = fastLaneModes(targets, () => undefined, 20);
    expect(notReady.searchedDays.size).toBe(0);
    expect(notReady.perVenue).toHaveLength(20);
    expect(notReady.perVenue.filter((t) => t.date === days[2])).toHaveLength(4);
  });

  it("cycles one party size's targets, nearest days first, then the other's: a venue-day's sizes half a cycle apart", () => {
    const targets = ['resy:1', 'resy:2'].flatMap((v) =>
      ['2026-12-02', '2026-12-01'].flatMap((d) => [2, 4].map((size) => target(v, d, size))),
    );
    const order = cycleOrder(targets).map((t) => t.key);
    expect(order).toEqual([
      'resy:1|2026-12-01|2',
      'resy:2|2026-12-01|2',
      'resy:1|2026-12-02|2',
      'resy:2|2026-12-02|2',
      'resy:1|2026-12-01|4',
      'resy:2|2026-12-01|4',
      'resy:1|2026-12-02|4',
      'resy:2|2026-12-02|4',
    ]);
  });
});

describe('search tiles', () => {
  const root: Box = [40, -74, 41, -73];

  it('splits a truncated box into four quadrants that cover it, down to MAX_TILE_DEPTH', () => {
    const tiling = new Tiling(root);
    const [whole] = tiling.current();
    const kids = tiling.split(whole!)!;
    expect(kids.map((k) => k.path)).toEqual(['0', '1', '2', '3']);
    expect(kids[0]!.box).toEqual([40, -74, 40.5, -73.5]);
    expect(kids[3]!.box).toEqual([40.5, -73.5, 41, -73]);
    expect(tiling.paths().sort()).toEqual(['0', '1', '2', '3']);
    let deepest = kids[0]!;
    while (deepest.path.length < MAX_TILE_DEPTH) deepest = tiling.split(deepest)![0]!;
    expect(tiling.split(deepest)).toBeNull();
  });

  it('merges four sparse siblings back and keeps busy ones split; a seeded tiling starts from given leaves', () => {
    const tiling = new Tiling(root, ['0', '1', '2', '3']);
    tiling.settle(
      new Map([
        ['0', 10],
        ['1', 5],
        ['2', 0],
        ['3', 200],
      ]),
      500,
    );
    expect(tiling.paths().sort()).toEqual(['0', '1', '2', '3']);
    tiling.settle(
      new Map([
        ['0', 10],
        ['1', 5],
        ['2', 0],
        ['3', 20],
      ]),
      500,
    );
    expect(tiling.paths()).toEqual(['']);
    expect(tiling.current()[0]!.box).toEqual(root);
    expect(quadrants({ path: '', box: root })).toHaveLength(4);
  });
});

describe('search tiles split where the venues are', () => {
  const root: Box = [40, -74, 41, -73];
  // 300 venues crowded into the west tenth of the box, spread north to south.
  const crowded: Point[] = Array.from({ length: 300 }, (_, i) => ({
    lat: 40 + ((i * 37) % 300) / 300,
    lng: -74 + ((i * 53) % 300) / 3000,
  }));

  it('cuts a truncated box across its longer side into strips of equal counts, as many as the count needs', () => {
    const tiling = new Tiling(root);
    const kids = tiling.split(tiling.current()[0]!, { points: crowded, expected: 1_200, capacity: 500 })!;
    // 1,200 venues at SPLIT_FILL of 500 a box: three strips.
    expect(kids).toHaveLength(Math.ceil(1_200 / (500 * SPLIT_FILL)));
    expect(kids.map((k) => k.path)).toEqual(['a', 'b', 'c']);
    // The box is taller than wide at this latitude: the cuts run east–west, and cover it edge to edge.
    expect(kids.map((k) => [k.box[1], k.box[3]])).toEqual(kids.map(() => [-74, -73]));
    expect(kids[0]!.box[0]).toBe(40);
    expect(kids[2]!.box[2]).toBe(41);
    expect(kids[0]!.box[2]).toBe(kids[1]!.box[0]);
    const counts = kids.map((k) => crowded.filter((p) => p.lat >= k.box[0] && p.lat <= k.box[2]).length);
    expect(counts).toEqual([100, 100, 100]);
  });

  it('falls back to quadrants without enough positions, and a seeded tiling merges its strips back', () => {
    const tiling = new Tiling(root);
    const quads = tiling.split(tiling.current()[0]!, { points: crowded.slice(0, 5), expected: 1_200, capacity: 500 })!;
    expect(quads.map((k) => k.path)).toEqual(['0', '1', '2', '3']);
    const [sw] = quads;
    const kids = tiling.split(sw!, { points: crowded, expected: 900, capacity: 500 })!;
    expect(kids.map((k) => k.path)).toEqual(['0a', '0b', '0c']);
    const seeded = new Tiling(root, tiling.seed());
    expect(seeded.paths().sort()).toEqual(['0a', '0b', '0c', '1', '2', '3']);
    seeded.settle(new Map(kids.map((k) => [k.path, 10])), 500);
    expect(seeded.paths().sort()).toEqual(['0', '1', '2', '3']);
    expect(seeded.current().find((t) => t.path === '0')!.box).toEqual(sw!.box);
  });
});

describe('call guard', () => {
  it('carries the last slots of a call that answers empty once; a second empty answer is believed', () => {
    const guard = new CallGuard();
    guard.guard('c', slots(5), false).commit();
    const first = guard.guard('c', [], false);
    expect(first.suspect).toBe(true);
    expect(first.slots).toHaveLength(5);
    first.commit();
    const second = guard.guard('c', [], false);
    expect(second.suspect).toBe(false);
    expect(second.slots).toHaveLength(0);
  });

  it('treats a collapse under 10% of at least 20 slots as suspect, a normal shrink not', () => {
    const guard = new CallGuard();
    guard.guard('c', slots(40), false).commit();
    expect(guard.guard('c', slots(3), false).suspect).toBe(true);
    expect(guard.guard('c', slots(30), false).suspect).toBe(false);
  });

  it('calls an empty or collapsed answer doubtful (asked again at once), and an empty one of a new split box', () => {
    const guard = new CallGuard();
    expect(guard.doubtful('new', 0, true)).toBe(true);
    expect(guard.doubtful('new', 0, false)).toBe(false);
    expect(guard.doubtful('new', 3, true)).toBe(false);
    guard.guard('c', slots(40), false).commit();
    expect(guard.doubtful('c', 0, false)).toBe(true);
    expect(guard.doubtful('c', 3, false)).toBe(true);
    expect(guard.doubtful('c', 30, false)).toBe(false);
  });

  it('changes nothing when the poll fails (no commit)', () => {
    const guard = new CallGuard();
    guard.guard('c', slots(5), false).commit();
    guard.guard('c', [], false); // the poll failed elsewhere: never committed
    expect(guard.guard('c', [], false).suspect).toBe(true);
  });

  it('a truncated answer brings only venues it saw before and keeps the last slots of venues it could not see', () => {
    const guard = new CallGuard();
    guard.guard('c', [slot(1, '20:00'), slot(2, '20:30')], false).commit();
    const truncated = guard.guard('c', [slot(2, '20:30'), slot(2, '21:00'), slot(3, '20:15')], true);
    const keys = truncated.slots.map((s) => `${s.venueId}|${s.localStart.slice(11, 16)}`).sort();
    expect(keys).toEqual(['resy:1|20:00', 'resy:2|20:30', 'resy:2|21:00']);
    expect(truncated.truncated).toBe(true);
  });
});
