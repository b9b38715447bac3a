import { loadConfig } from '@dropwatch/core';
import {
  bucketScore,
  DROP_LIFE_SECONDS,
  hourFilters,
  isStarvingScore,
  StarvingShare,
  type BucketView,
} from '@dropwatch/discovery/internals';
import { FakeResyMarket, timeToMinutes, type Opening } from '../fake-resy/index.js';
import type { BenchContext, Scenario } from '../harness.js';
import { quantile } from '../stats.js';

/** Simulated market hour; the first WARMUP_S of it only fill the buckets' ages. */
const MODEL_SECONDS = 3_600;
const WARMUP_S = 600;
/**
 * Bucket polls a second the budget allows. At 10 requests/s the detection bench sees about 2 at
 * 300 venues (a poll is a few requests) and 0.15–0.2 at 2,000 (a poll reads several boxes' pages).
 */
const BUDGETS = [2, 0.5, 0.3, 0.2, 0.15, 0.1] as const;
/** A poll's cost in the model: every bucket alike, so only the choice of bucket differs. */
const POLL_COST = 4;
const EPOCH_MS = Date.parse('2030-01-08T14:00:00Z');
const MODEL_VENUES = 2_000;

interface ModelBucket {
  readonly daysAhead: number;
  readonly anchorMinute: number;
  readonly openings: Opening[];
  rate: number;
  lastPollAt: number | null;
  turn: number;
}

type Policy = (b: ModelBucket, nowMs: number, starvingFirst: boolean) => number | null;

/**
 * What the poller's choice of bucket does when the budget cannot poll every bucket within a
 * drop's life, without network or database: an hour of the fake market's openings (their rates
 * by day and hour, party sizes and lives), polled at a fixed number of bucket polls a second.
 * Each poll sees the openings of its bucket bookable at that instant for the party size of its
 * turn (sizes alternate, as the provider asks them). The rates are the true ones (what the
 * poller's learned rates approach). Variants: round-robin (oldest first: the old ticks), the
 * score with the age uncounted past a drop's life (`bucketScore`, as the poller runs it), and the
 * same score counting all of the age (as it was before).
 */
export const scheduleModelScenario: Scenario = {
  name: 'schedule-model',
  description:
    "which bucket to poll next, modelled: an hour of the fake market's openings at fixed bucket-poll budgets, round-robin vs the score with and without its age cap",
  run(ctx: BenchContext) {
    const config = loadConfig({});
    const limits = {
      cooldownSeconds: config.DISCOVERY_BUCKET_COOLDOWN_SECONDS,
      maxStalenessSeconds: config.DISCOVERY_MAX_STALENESS_SECONDS,
    };
    const view = (b: ModelBucket): BucketView => ({
      calibrated: true,
      baselinePolls: config.DISCOVERY_BASELINE_POLLS,
      lastPollAt: b.lastPollAt,
      errorStreak: 0,
      rate: b.rate,
      cost: POLL_COST,
      watched: false,
      anchorMinute: b.anchorMinute,
    });
    const policies: Record<string, Policy> = {
      'round-robin': (b, now) => (b.lastPollAt === null ? Infinity : now - b.lastPollAt),
      'score, age uncapped (before)': (b, now, starvingFirst) => {
        const capped = bucketScore(view(b), now, { ...limits, starvingFirst });
        if (capped === null || isStarvingScore(capped)) return capped;
        // The same score with all of the age counted: past a drop's life, (age / life)² more.
        const age = b.lastPollAt === null ? Infinity : (now - b.lastPollAt) / 1000;
        return age > DROP_LIFE_SECONDS ? capped * (age / DROP_LIFE_SECONDS) ** 2 : capped;
      },
      'score (bucketScore)': (b, now, starvingFirst) => bucketScore(view(b), now, { ...limits, starvingFirst }),
    };
    // The openings scale with the venues, so their mix (and every share below) does not depend on it.
    const market = new FakeResyMarket({ seed: 1, venues: MODEL_VENUES, epochMs: EPOCH_MS });
    for (const budget of BUDGETS) {
      for (const [name, policy] of Object.entries(policies)) {
        const result = simulate(market, config.DISCOVERY_TIME_SLOTS, policy, budget, config.DISCOVERY_PARTY_SIZES);
        ctx.record({ case: `${budget} bucket polls/s`, variant: name, metrics: result });
      }
    }
    return Promise.resolve();
  },
};

function simulate(
  market: FakeResyMarket,
  anchors: readonly string[],
  policy: Policy,
  pollsPerSecond: number,
  partySizes: readonly number[],
): Record<string, number> {
  const t0 = EPOCH_MS;
  const t1 = t0 + MODEL_SECONDS * 1000;
  const today = market.localDate(t0);
  const dayOffset = (date: string) => Math.round((Date.parse(date) - Date.parse(today)) / 86_400_000);
  const buckets = new Map<string, ModelBucket>();
  const windows = anchors.map((a) => {
    const starts = hourFilters(a).map(timeToMinutes);
    return { anchor: timeToMinutes(a), from: Math.min(...starts) - 30, to: Math.max(...starts) + 30 };
  });
  for (const o of market.openings(t0, t1)) {
    const minute = timeToMinutes(o.time);
    const w = windows.find((x) => minute >= x.from && minute < x.to);
    if (!w) continue;
    const key = `${o.date}|${w.anchor}`;
    let b = buckets.get(key);
    if (!b) {
      b = { daysAhead: dayOffset(o.date), anchorMinute: w.anchor, openings: [], rate: 0, lastPollAt: null, turn: 0 };
      buckets.set(key, b);
    }
    b.openings.push(o);
  }
  for (const b of buckets.values()) b.rate = b.openings.length / MODEL_SECONDS;
  // Every bucket starts polled just now, spread over one round, as after calibration.
  const all = [...buckets.values()];
  all.forEach((b, i) => (b.lastPollAt = t0 - (i * 1000) / pollsPerSecond));

  const seenAt = new Map<Opening, number>();
  const share = new StarvingShare();
  const stepMs = 1000 / pollsPerSecond;
  const polls = Math.floor(MODEL_SECONDS * pollsPerSecond);
  for (let i = 0; i < polls; i++) {
    const now = t0 + i * stepMs;
    let best: ModelBucket | undefined;
    let bestScore = -Infinity;
    for (const b of all) {
      const score = policy(b, now, share.allowed);
      if (score !== null && score > bestScore) [best, bestScore] = [b, score];
    }
    if (!best) continue;
    share.record(isStarvingScore(bestScore));
    const size = partySizes[best.turn++ % partySizes.length]!;
    best.lastPollAt = now;
    for (const o of best.openings) {
      if (!seenAt.has(o) && o.startMs <= now && now < o.endMs && o.partySizes.includes(size)) seenAt.set(o, now);
    }
  }

  const scored = all.flatMap((b) =>
    b.openings.filter((o) => o.startMs >= t0 + WARMUP_S * 1000 && o.endMs <= t1).map((o) => ({ o, b })),
  );
  const delays = scored.flatMap(({ o }) => (seenAt.has(o) ? [(seenAt.get(o)! - o.startMs) / 1000] : []));
  const missedIn = (near: (d: number) => boolean) => {
    const band = scored.filter(({ b }) => near(b.daysAhead));
    return band.filter(({ o }) => !seenAt.has(o)).length / Math.max(1, band.length);
  };
  return {
    openings: scored.length,
    missedShare: round(1 - delays.length / Math.max(1, scored.length)),
    missedNearShare: round(missedIn((d) => d <= 1)),
    missedWeekShare: round(missedIn((d) => d >= 2 && d <= 6)),
    missedFarShare: round(missedIn((d) => d >= 7)),
    p50S: round(quantile(delays, 0.5)),
    p90S: round(quantile(delays, 0.9)),
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
