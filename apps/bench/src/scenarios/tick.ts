import { performance } from 'node:perf_hooks';
import { bucketId, bucketWindow, getMarket, loadConfig } from '@dropwatch/core';
import { withPgClient, type PgClient } from '@dropwatch/db';
import { SimulatedProvider } from '@dropwatch/discovery';
import { applySnapshot, prepareSnapshot, VenueCache, type PreparedSnapshot } from '@dropwatch/discovery/internals';
import type { BenchContext, Scenario } from '../harness.js';
import { median, p99 } from '../stats.js';
import { LEGACY_TABLE_DDL, legacyApply } from './tick/legacy-json-tick.js';

const SIZES = listFromEnv('BENCH_TICK_SIZES', [500, 2000, 5000]);
const CHURNS = listFromEnv('BENCH_TICK_CHURNS', [0.002, 0.02, 0.1]);
/** Simulated venues: enough regular venues for 5000 slots a bucket (49 start times each). */
const VENUES = 400;
const STEP_MS = 31_000;

/** A comma-separated subset of the cases (e.g. BENCH_TICK_SIZES=2000 BENCH_TICK_CHURNS=0.1), for iterating on one. */
function listFromEnv(name: string, all: readonly number[]): readonly number[] {
  const raw = process.env[name];
  if (!raw) return all;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !Number.isFinite(v) || v <= 0))
    throw new Error(`${name}: expected positive numbers, got ${raw}`);
  return values;
}

interface VariantRun {
  ms: number;
  rows: number;
  wal: number;
  drops: number;
  closes: number;
}

async function walLsn(client: PgClient): Promise<string> {
  // Both variants commit once per bucket; without this the machine's fsync latency dominates.
  await client.query('set synchronous_commit = off');
  const { rows } = await client.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
  return rows[0]!.lsn;
}

async function walSince(client: PgClient, from: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    'select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint as n',
    [from],
  );
  return Number(rows[0]!.n);
}

/**
 * One discovery tick's database work (28 buckets, polled one after the other) with our
 * set-based diff vs the legacy JSON-array pattern, at three bucket sizes and three churn rates.
 * Snapshots are generated before each round (not timed); each variant gets the same sequence.
 * Time is the tick's database work including the legacy variant's JS diff; WAL is measured on
 * the cluster around each tick (run it on a quiet server: the embedded one by default).
 * synchronous_commit is off for both, so commit fsync latency does not mask the work.
 */
export const tickScenario: Scenario = {
  name: 'tick',
  description:
    'discovery tick, 28 buckets × 500/2000/5000 slots × 0.2/2/10% churn: set-based diff vs JSON arrays in the bucket row',
  async run(ctx: BenchContext) {
    // The cap is a safety bound; here it must not bind (5 000 regular slots plus churn).
    const config = loadConfig({ BUCKET_SLOT_CAP: '20000' });
    const market = getMarket('nyc');
    const base = Date.now();
    const keys = bucketWindow(market, new Date(base), config.DISCOVERY_WINDOW_DAYS, config.DISCOVERY_TIME_SLOTS);
    const buckets = keys.map((k) => ({ bucketId: bucketId(k), market, date: k.date, timeSlot: k.timeSlot }));
    const orm = ctx.orm;
    await withPgClient(orm.em, (c) => c.query(LEGACY_TABLE_DDL));

    for (const size of SIZES) {
      for (const churn of CHURNS) {
        const label = `${buckets.length} buckets × ${size} slots, ${churn * 100}% churn`;
        await withPgClient(orm.em, async (c) => {
          await c.query(
            'truncate discovery_buckets, bucket_slots, availability_state, drop_events, venue_metrics, venues, bench_legacy_buckets',
          );
          await c.query(
            `insert into discovery_buckets (bucket_id, market, date, time_slot)
             select * from unnest($1::text[], $2::text[], $3::date[], $4::text[])`,
            [
              buckets.map((b) => b.bucketId),
              buckets.map(() => 'nyc'),
              buckets.map((b) => b.date),
              buckets.map((b) => b.timeSlot),
            ],
          );
        });
        const sim = new SimulatedProvider({ seed: 1, venues: VENUES, slotsPerBucket: size, churn, stepMs: STEP_MS });
        const startStep = Math.floor(base / STEP_MS);
        const snapshots = (step: number): PreparedSnapshot[] =>
          buckets.map((b) =>
            prepareSnapshot(
              sim.name,
              sim.snapshotAt(b, config.DISCOVERY_PARTY_SIZES, startStep + step),
              config.BUCKET_SLOT_CAP,
            ),
          );
        const nowAt = (step: number) => new Date(base + step * STEP_MS);
        const venueCache = new VenueCache();
        const scanned = new Map<string, Date | null>(buckets.map((b) => [b.bucketId, null]));

        /** One tick: every bucket polled in turn on one connection, timed, with the WAL it wrote. */
        const tick = (
          step: number,
          applyBucket: (
            client: PgClient,
            i: number,
            now: Date,
          ) => Promise<{ rows: number; drops: number; closes: number }>,
        ): Promise<VariantRun> =>
          withPgClient(orm.em, async (client) => {
            const lsn = await walLsn(client);
            const now = nowAt(step);
            const t0 = performance.now();
            const run = { rows: 0, drops: 0, closes: 0 };
            for (let i = 0; i < buckets.length; i++) {
              const out = await applyBucket(client, i, now);
              run.rows += out.rows;
              run.drops += out.drops;
              run.closes += out.closes;
            }
            const ms = performance.now() - t0;
            return { ms, ...run, wal: await walSince(client, lsn) };
          });
        const ours = (snaps: PreparedSnapshot[], step: number) =>
          tick(step, async (client, i, now) => {
            const b = buckets[i]!;
            const out = await applySnapshot(
              client,
              { config, venueCache },
              { bucketId: b.bucketId, market: 'nyc', pickedScannedAt: scanned.get(b.bucketId) ?? null },
              snaps[i]!,
              now,
            );
            if (out.status !== 'applied' && out.status !== 'calibrating')
              throw new Error(`bucket ${b.bucketId}: ${out.status}`);
            scanned.set(b.bucketId, now);
            return { rows: out.rowsWritten, drops: out.drops.length, closes: out.closes };
          });
        const legacy = (snaps: PreparedSnapshot[], step: number) =>
          tick(step, async (client, i, now) => {
            const out = await legacyApply(
              client,
              buckets[i]!.bucketId,
              'nyc',
              snaps[i]!,
              now,
              config.DISCOVERY_BASELINE_POLLS,
            );
            return { rows: out.rowsWritten, drops: out.drops, closes: out.closes };
          });

        // Calibration polls (not measured), then warmup and measured rounds, order alternating.
        let step = 0;
        for (; step < config.DISCOVERY_BASELINE_POLLS; step++) {
          const snaps = snapshots(step);
          await legacy(snaps, step);
          await ours(snaps, step);
        }
        const results = { legacy: [] as VariantRun[], ours: [] as VariantRun[] };
        for (let round = 0; round < ctx.warmup + ctx.rounds; round++, step++) {
          const snaps = snapshots(step);
          const order = round % 2 === 0 ? (['legacy', 'ours'] as const) : (['ours', 'legacy'] as const);
          for (const v of order) {
            const r = v === 'ours' ? await ours(snaps, step) : await legacy(snaps, step);
            if (round >= ctx.warmup) results[v].push(r);
          }
        }
        const summary = (runs: VariantRun[]) => ({
          medianMs: median(runs.map((r) => r.ms)),
          p99Ms: p99(runs.map((r) => r.ms)),
          rowsWritten: median(runs.map((r) => r.rows)),
          walBytes: median(runs.map((r) => r.wal)),
          drops: median(runs.map((r) => r.drops)),
          closes: median(runs.map((r) => r.closes)),
        });
        const old = summary(results.legacy);
        const neu = summary(results.ours);
        ctx.record({ case: label, variant: 'old: JSON arrays in the bucket row', metrics: old });
        ctx.record({
          case: label,
          variant: 'ours: set-based SQL diff',
          metrics: {
            ...neu,
            timeRatio: neu.medianMs / old.medianMs,
            walRatio: old.walBytes / Math.max(1, neu.walBytes),
          },
        });
        ctx.log(
          `${label}: ${old.medianMs.toFixed(1)} → ${neu.medianMs.toFixed(1)} ms/tick, WAL ${old.walBytes} → ${neu.walBytes} B (${(old.walBytes / Math.max(1, neu.walBytes)).toFixed(1)}× less)`,
        );
      }
    }
  },
};
