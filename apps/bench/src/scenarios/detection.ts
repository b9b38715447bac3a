import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { addDays, windowDates, type Config } from '@dropwatch/core';
import {
  startFakeResyMarket,
  timeToMinutes,
  type FakeResyHandle,
  type FakeMarketOptions,
  type FakeResyMarket,
  type SearchLogEntry,
} from '../fake-resy/index.js';
import type { BenchContext, Scenario } from '../harness.js';
import { readDetectionOptions, type DetectionOptions, type VariantName } from './detection/options.js';
import {
  SCORE_TAIL_MS,
  scoreDetection,
  type DetectionScope,
  type DetectionScore,
  type DropRow,
} from './detection/score.js';
import {
  bucketProgress,
  openVariantDatabase,
  readBaselineVenues,
  readDrops,
  seedWatches,
} from './detection/variant-db.js';
import { sleep, variantSetup, VARIANTS } from './detection/variants.js';

/**
 * What the benchmark asks a design to find: the buckets' searches (time_filter anchor − 1 h,
 * anchor, anchor + 1 h, each matching [t − 30 min, t + 30 min)) cover [anchor − 90 min, anchor + 90 min).
 * Fixed here, not read from the provider, so both designs are scored on the same openings.
 */
const SCOPE_HALF_WIDTH_MIN = 90;
/** Progress lines at most this often per variant. */
const LOG_EVERY_MS = 30_000;
const PROBE_EVERY_MS = 2_000;
/** After the abort, a variant gets this long to stop before it is reported as hung. */
const STOP_TIMEOUT_MS = 60_000;

interface VariantOutcome {
  readonly variant: VariantName;
  readonly failed?: string;
  readonly calibrated: boolean;
  readonly calibrationS: number;
  readonly t0: number;
  readonly t1: number;
  readonly score?: DetectionScore;
  readonly requests: number;
  readonly emptyAnswers: number;
  /** Per-venue (/4/find) requests in the window: the fast lane's share of the budget. */
  readonly findRequests: number;
  readonly stoppedInTime: boolean;
  readonly counters: Record<string, number>;
}

interface SizeSetup {
  readonly size: number;
  readonly options: DetectionOptions;
  readonly watched: readonly string[];
  readonly watchFrom: string;
  readonly watchTo: string;
}

/** Deterministic: hard-to-book venues evenly spaced through the market's list. */
function pickWatched(market: FakeResyMarket, n: number): string[] {
  const hard = market.venues.filter((v) => v.kind === 'hard');
  const step = Math.max(1, Math.floor(hard.length / Math.max(1, n)));
  return hard
    .filter((_, i) => i % step === 0)
    .slice(0, n)
    .map((v) => v.venueId);
}

async function runVariant(
  ctx: BenchContext,
  setup: SizeSetup,
  variant: VariantName,
  fake: FakeResyHandle,
): Promise<VariantOutcome> {
  const { options, size } = setup;
  const tag = `${variant} ${size}`;
  const logger = pino({ level: options.logLevel, base: { variant, venues: size } }, pino.destination(2));
  const env = {
    RESY_API_KEY: 'bench-key',
    RESY_BASE_URL: fake.url,
    RESY_MAX_RPS: String(options.rps),
    DISCOVERY_MARKETS: 'nyc',
    LOG_LEVEL: options.logLevel,
  };
  const { config, provider } = variantSetup(variant, env, logger);
  const db = await openVariantDatabase(ctx.adminUrl, `dw_bench_detection_${variant}_${size}_${process.pid}`);
  const started = Date.now();
  const controller = new AbortController();
  let failed: string | undefined;
  let counters: Record<string, number> = {};
  let settled = false;
  try {
    await seedWatches(db.sql, setup.watched, setup.watchFrom, setup.watchTo);
    const run = VARIANTS[variant]({ orm: db.orm, config, provider, logger, signal: controller.signal })
      .then((c) => {
        counters = c;
      })
      .catch((err: unknown) => {
        failed = err instanceof Error ? err.message : String(err);
      })
      .finally(() => {
        settled = true;
      });

    // Calibration: until every bucket of the window has its baseline, bounded.
    let calibrated = false;
    let lastLog = started;
    const calibrationDeadline = started + options.calibrationMaxSeconds * 1000;
    while (!settled && Date.now() < calibrationDeadline) {
      const p = await bucketProgress(db.sql);
      if (p.buckets > 0 && p.calibrating === 0) {
        calibrated = true;
        break;
      }
      if (Date.now() - lastLog >= LOG_EVERY_MS) {
        lastLog = Date.now();
        ctx.log(
          `${tag}: calibrating, ${p.buckets - p.calibrating}/${p.buckets} buckets done, ${fake.stats().searchRequests} searches`,
        );
      }
      await sleep(PROBE_EVERY_MS);
    }
    const t0 = Date.now();
    const calibrationS = (t0 - started) / 1000;
    if (!settled)
      ctx.log(
        `${tag}: ${calibrated ? 'calibrated' : 'calibration timed out'} after ${calibrationS.toFixed(0)} s; measuring ${options.seconds} s + ${SCORE_TAIL_MS / 1000} s tail`,
      );

    // Measurement: openings starting in the first BENCH_DETECTION_SECONDS are scored, and the
    // variant runs SCORE_TAIL_MS longer so the last of them can still be seen.
    const measureEnd = t0 + options.seconds * 1000 + SCORE_TAIL_MS;
    const emptyAtT0 = fake.stats().emptyAnswers;
    const findAtT0 = fake.stats().findRequests;
    while (!settled && Date.now() < measureEnd) {
      await sleep(Math.min(LOG_EVERY_MS, measureEnd - Date.now()));
      const drops = await db.sql.query<{ n: string }>('select count(*) as n from drop_events where opened_at >= $1', [
        new Date(t0),
      ]);
      ctx.log(
        `${tag}: ${Math.round((Date.now() - t0) / 1000)}/${options.seconds + SCORE_TAIL_MS / 1000} s measured, ${drops.rows[0]?.n ?? 0} drops, ${fake.requestsBetween(t0, Date.now())} requests`,
      );
    }
    const t1 = Date.now();
    const emptyInWindow = fake.stats().emptyAnswers - emptyAtT0;
    const findInWindow = fake.stats().findRequests - findAtT0;
    controller.abort();
    const stoppedInTime = await Promise.race([run.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (failed !== undefined) {
      ctx.log(`${tag}: FAILED: ${failed}`);
      return {
        variant,
        failed,
        calibrated,
        calibrationS,
        t0,
        t1,
        requests: 0,
        emptyAnswers: 0,
        findRequests: 0,
        stoppedInTime,
        counters,
      };
    }
    ctx.log(`${tag}: counters over the whole run: ${JSON.stringify(counters)}`);
    // Where the poller spent its polls: the mean interval between two polls, by days ahead.
    const intervals = await db.sql.query<{ d: number; anchor: string; s: number }>(
      `select (date - min(date) over ())::int as d, time_slot as anchor, round(poll_interval_seconds)::int as s
       from discovery_buckets where poll_interval_seconds is not null order by 1, 2 limit 100`,
    );
    if (intervals.rows.length > 0)
      ctx.log(
        `${tag}: poll interval s by days ahead/anchor: ${intervals.rows.map((r) => `${r.d}/${r.anchor}=${r.s}`).join(' ')}`,
      );
    const score = scoreDetection(
      fake.market,
      await readDrops(db.sql, t0 - 600_000),
      t0,
      t1,
      scopeOf(config, fake.market, t0, t1, await readBaselineVenues(db.sql)),
      {
        venueIds: new Set(setup.watched),
        dates: new Set([setup.watchFrom, setup.watchTo]),
      },
    );
    return {
      variant,
      calibrated,
      calibrationS,
      t0,
      t1,
      score,
      requests: fake.requestsBetween(t0, t1),
      emptyAnswers: emptyInWindow,
      findRequests: findInWindow,
      stoppedInTime,
      counters,
    };
  } finally {
    controller.abort();
    await db.close();
  }
}

/** Bucket dates of the window at T0 and T1 (a midnight may fall in between), and the covered times. */
function scopeOf(
  config: Config,
  market: FakeResyMarket,
  t0: number,
  t1: number,
  baselineVenues: ReadonlySet<string>,
): DetectionScope {
  const days = config.DISCOVERY_WINDOW_DAYS;
  const dates = new Set([
    ...windowDates(market.market, new Date(t0), days),
    ...windowDates(market.market, new Date(t1), days),
  ]);
  const ranges = config.DISCOVERY_TIME_SLOTS.map(
    (a) => [timeToMinutes(a) - SCOPE_HALF_WIDTH_MIN, timeToMinutes(a) + SCOPE_HALF_WIDTH_MIN] as const,
  );
  const anchorOf = (time: string) =>
    config.DISCOVERY_TIME_SLOTS.find((a, i) => {
      const [from, to] = ranges[i]!;
      return timeToMinutes(time) >= from && timeToMinutes(time) < to;
    });
  return {
    dates,
    ranges,
    dedupeMs: config.DROP_DEDUPE_MINUTES * 60_000,
    atBaselineVenue: (o) => baselineVenues.has(`${o.venueId}|${o.date}|${anchorOf(o.time) ?? ''}`),
  };
}

const round = (n: number, digits = 1) =>
  Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : Number.NaN;

function record(ctx: BenchContext, label: string, o: VariantOutcome): void {
  if (o.failed !== undefined || !o.score) {
    ctx.record({
      case: label,
      variant: `${o.variant}: FAILED`,
      metrics: { failed: 1, calibrationS: round(o.calibrationS) },
    });
    return;
  }
  const s = o.score;
  const seconds = (o.t1 - o.t0) / 1000;
  ctx.record({
    case: label,
    variant: `${o.variant}: detection`,
    metrics: {
      openings: s.openings,
      repeats: s.repeats,
      missed: s.missed,
      missedShare: round(s.missedShare, 3),
      missedAtBaselineVenue: s.missedAtBaselineVenue,
      p50S: round(s.p50S),
      p90S: round(s.p90S),
      maxS: round(s.maxS),
      watchedOpenings: s.watchedOpenings,
      watchedMissed: s.watchedMissed,
      watchedP50S: round(s.watchedP50S),
      p90NearS: round(s.p90NearS),
      p90WeekS: round(s.p90WeekS),
      p90FarS: round(s.p90FarS),
      missedNearShare: round(s.missedNearShare, 3),
      missedWeekShare: round(s.missedWeekShare, 3),
      missedFarShare: round(s.missedFarShare, 3),
      p90OneSizeS: round(s.p90OneSizeS),
      crowdedOpenings: s.crowdedOpenings,
      p90CrowdedS: round(s.p90CrowdedS),
    },
  });
  ctx.record({
    case: label,
    variant: `${o.variant}: cost & errors`,
    metrics: {
      drops: s.drops,
      falseDrops: s.falseDrops,
      falseDropsRegular: s.falseDropsRegular,
      closes: s.closes,
      falseCloses: s.falseCloses,
      falseClosesAfterReopen: s.falseClosesAfterReopen,
      requestsPerSec: round(o.requests / seconds, 2),
      requestsPerDrop: round(o.requests / Math.max(1, s.drops)),
      venueRequestsPerSec: round(o.findRequests / seconds, 2),
      emptyAnswers: o.emptyAnswers,
      calibrationS: round(o.calibrationS),
      calibrated: o.calibrated ? 1 : 0,
      stoppedInTime: o.stoppedInTime ? 1 : 0,
      ...(o.variant === 'old' ? { skippedTicks: o.counters.skippedTicks ?? 0, ticks: o.counters.ticks ?? 0 } : {}),
    },
  });
}

async function runSize(ctx: BenchContext, options: DetectionOptions, size: number): Promise<void> {
  const epochMs = Date.now();
  const dumps = options.variants.map((v) =>
    openSearchDump(options.dumpDir, `${v}-${size}`, { seed: options.seed, venues: size, epochMs }),
  );
  const fakes = await Promise.all(
    options.variants.map((_, i) =>
      startFakeResyMarket({
        seed: options.seed,
        venues: size,
        epochMs,
        emptyCallShare: options.emptyShare,
        onSearch: dumps[i]?.write,
      }),
    ),
  );
  try {
    const market = fakes[0]!.market;
    const watchFrom = market.localDate(epochMs);
    const setup: SizeSetup = {
      size,
      options,
      watched: pickWatched(market, options.watched),
      watchFrom,
      watchTo: addDays(watchFrom, 1),
    };
    const label = `${size} venues, ${options.seconds} s, ${options.rps} rps, empty ${round(options.emptyShare, 3)}`;
    ctx.log(
      `${label}: ${options.variants.join(' + ')} side by side; ~${market.openingsPerSecond.toFixed(1)} openings/s market-wide`,
    );
    // Side by side: each variant against its own instance of the same market (same seed and epoch).
    const outcomes = await Promise.all(options.variants.map((v, i) => runVariant(ctx, setup, v, fakes[i]!)));
    for (const o of outcomes) {
      record(ctx, label, o);
      if (o.score) {
        const s = o.score;
        if (options.dumpDir) writeFalseEvents(options.dumpDir, `${o.variant}-${size}`, market, s);
        ctx.log(
          `${label} ${o.variant}: ${s.detected}/${s.openings} detected, p50 ${round(s.p50S)} s p90 ${round(s.p90S)} s, ${s.falseDrops} false drops, ${s.falseCloses} false closes (${s.falseClosesAfterReopen} after a reopen)`,
        );
      }
    }
    const old = outcomes.find((o) => o.variant === 'old')?.score;
    const neu = outcomes.find((o) => o.variant === 'new')?.score;
    if (old && neu) {
      ctx.record({
        case: label,
        variant: 'new / old',
        metrics: {
          p50Ratio: round(neu.p50S / old.p50S, 3),
          p90Ratio: round(neu.p90S / old.p90S, 3),
          missedRatio: round(neu.missedShare / old.missedShare, 3),
        },
      });
    }
  } finally {
    await Promise.all(fakes.map((f) => f.close()));
    for (const d of dumps) await d?.close();
  }
}

/**
 * The fake's searches as JSON lines in `${dir}/${name}-searches.jsonl` (BENCH_DETECTION_DUMP), after
 * a first line with the market's options: a FakeResyMarket made from them answers as this one did.
 */
function openSearchDump(
  dir: string | undefined,
  name: string,
  market: FakeMarketOptions,
): { write: (e: SearchLogEntry) => void; close: () => Promise<void> } | undefined {
  if (dir === undefined) return undefined;
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, `${name}-searches.jsonl`));
  out.write(`${JSON.stringify({ market })}\n`);
  return {
    write: (e) => out.write(`${JSON.stringify(e)}\n`),
    close: () => new Promise<void>((resolve) => out.end(resolve)),
  };
}

/** The false drops and closes with what the market says of their slot then, to `${dir}/${name}-false.json`. */
function writeFalseEvents(dir: string, name: string, market: FakeResyMarket, s: DetectionScore): void {
  const truth = (d: DropRow, at: number) => ({
    at,
    bookable: market.isBookable(d.venueId, d.slotDate, d.slotTime, at),
    bySize: Object.fromEntries([2, 4].map((p) => [p, market.isBookable(d.venueId, d.slotDate, d.slotTime, at, p)])),
    regular: market.isRegularBookable(d.venueId, d.slotDate, d.slotTime, at),
  });
  const openingsOf = (d: DropRow) =>
    market
      .openings(d.openedAt - 600_000, (d.closedAt ?? d.openedAt) + 600_000)
      .filter((o) => o.venueId === d.venueId && o.date === d.slotDate);
  const detail = (d: DropRow, at: number) => ({
    drop: d,
    venue: market.venue(d.venueId),
    truth: [truth(d, at - 30_000), truth(d, at), truth(d, at + 30_000)],
    venueOpenings: openingsOf(d),
  });
  writeFileSync(
    join(dir, `${name}-false.json`),
    JSON.stringify(
      {
        falseDrops: s.falseDropRows.map((d) => detail(d, d.openedAt)),
        falseCloses: s.falseCloseRows.map((d) => detail(d, d.closedAt!)),
      },
      null,
      1,
    ),
  );
}

/**
 * Detection quality against a fake Resy with ground truth (src/fake-resy): today's ticks and the
 * continuous poller run at the same time, each on its own database and its own market instance,
 * calibrate, then are measured for BENCH_DETECTION_SECONDS. Knobs: BENCH_DETECTION_VENUES,
 * _VARIANTS, _SECONDS, _RPS, _WATCHED, _EMPTY_SHARE, _CALIBRATION_MAX_SECONDS, _SEED, _LOG_LEVEL, _DUMP
 * (a directory: every search answered and the false drops and closes with their ground truth).
 */
export const detectionScenario: Scenario = {
  name: 'detection',
  description:
    'discovery detection quality vs a fake Resy with ground truth: ticks (old) and the continuous poller (new) side by side',
  async run(ctx) {
    const options = readDetectionOptions(process.env);
    for (const size of options.sizes) await runSize(ctx, options, size);
  },
};
