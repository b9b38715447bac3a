import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { addDays } from '@dropwatch/core';
import { ensurePartitionsBetween } from '@dropwatch/db';
import { feedSql } from '@dropwatch/api';
import { listDayPartitions, openRetentionSession, partitionsToRemove, removeDayPartition } from '@dropwatch/discovery';
import type { BenchContext, Scenario } from '../harness.js';
import { median, p99 } from '../stats.js';

/** Expired rows (spread over EXPIRED_DAYS old day partitions) and kept rows (the last KEPT_DAYS days). */
export const PRUNE_EXPIRED_ROWS = 1_000_000;
export const PRUNE_KEPT_ROWS = 1_000_000;
const EXPIRED_DAYS = 5;
const KEPT_DAYS = 10;
/** Days back of the oldest kept partition: every older one is expired. */
const KEEP_FROM_DAYS_AGO = 14;
/** Open drops of the last minutes the feed reader walks (availability_state rows). */
const OPEN_DROPS = 2_000;
/** Each round rebuilds 1M rows per variant: few rounds, no warm-up. */
const MAX_ROUNDS = 3;
const BATCH_SIZE = 10_000;
/** How long the reader runs alone before each variant, for its idle latency. */
const IDLE_READ_MS = 2_000;

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

interface VariantRun {
  readonly totalMs: number;
  /** The longest single statement (one transaction) of the variant: what holds its locks longest. */
  readonly longestMs: number;
  /** The longest statement holding a lock on drop_events itself (the parent readers plan against). */
  readonly parentLockMs: number;
  readonly statements: number;
  /** Extra per-variant figures (ms), recorded beside. */
  readonly extra?: Record<string, number>;
}

/**
 * The concurrent reader: feed.justOpened's own SQL (feedSql.openDropsSql, as the API runs it),
 * newest open drops of the market, LIMIT 500, in a loop on its own connection. Its window is a
 * day wide so the seeded open set (the last ~8 minutes before seeding) stays in it however long
 * the run takes.
 */
const JUST_OPENED_LIMIT = 500;
const JUST_OPENED_WINDOW_MINUTES = 24 * 60;

class ReadLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  samples: number[] = [];

  private readonly query = feedSql.openDropsSql(
    'justOpened',
    { market: 'nyc' },
    JUST_OPENED_WINDOW_MINUTES,
    JUST_OPENED_LIMIT,
  );

  constructor(private readonly client: pg.Client) {}

  start(): void {
    this.samples = [];
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t0 = performance.now();
        const res = await this.client.query(this.query.sql, this.query.params);
        if (res.rowCount !== JUST_OPENED_LIMIT) throw new Error(`justOpened read ${res.rowCount} rows`);
        this.samples.push(performance.now() - t0);
      }
    })();
  }

  async stop(): Promise<number[]> {
    this.running = false;
    await this.loop;
    return this.samples;
  }
}

async function timed(c: pg.Client, sql: string, params: unknown[] = []): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now();
  const res = await c.query(sql, params);
  return { ms: performance.now() - t0, rows: res.rowCount ?? 0 };
}

/** 1M kept drops over the last KEPT_DAYS days, and OPEN_DROPS of them open in the last 10 minutes. */
async function seedKept(ctx: BenchContext, c: pg.Client, now: Date): Promise<void> {
  await ensurePartitionsBetween(
    ctx.orm.em.fork(),
    addDays(utcDay(now), -(KEEP_FROM_DAYS_AGO + EXPIRED_DAYS)),
    utcDay(now),
  );
  const spanSeconds = (KEPT_DAYS - 1) * 86_400 + 3_600;
  await c.query(
    `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes, opened_at, opened_minute)
     select 'nyc_' || to_char(ts, 'YYYY-MM-DD') || '_20:30', md5(g::text), 1000000000 + g, 'sim:' || (g % 2000), 'nyc',
            ts::date, '20:30', '{2,4}', ts, date_trunc('minute', ts)
       from generate_series(1, $1::int) g,
            lateral (select $2::timestamptz - (g * ($3::float8 / $1)) * interval '1 second' - interval '15 minutes' as ts) x`,
    [PRUNE_KEPT_ROWS - OPEN_DROPS, now, spanSeconds],
  );
  // The open set: recent drops with their availability_state rows (bucket rows for the FK).
  await c.query(
    `insert into discovery_buckets (bucket_id, market, date, time_slot) values ('nyc_bench_20:30', 'nyc', $1::date, '20:30')`,
    [utcDay(now)],
  );
  await c.query(
    `with d as (
       insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes, opened_at, opened_minute)
       select 'nyc_bench_20:30', md5('open' || g), 2000000000 + g, 'sim:' || (g % 2000), 'nyc', $2::date, '20:30', '{2,4}', ts, date_trunc('minute', ts)
         from generate_series(1, $1::int) g, lateral (select $3::timestamptz - g * interval '250 milliseconds' as ts) x
       returning id, opened_minute, slot_key, venue_id, opened_at, slot_date)
     insert into availability_state (bucket_id, slot_key, drop_event_id, drop_opened_minute, venue_id, market, slot_date, opened_at)
     select 'nyc_bench_20:30', slot_key, id, opened_minute, venue_id, 'nyc', slot_date, opened_at from d`,
    [OPEN_DROPS, utcDay(now), now],
  );
  await c.query(
    `insert into venues (venue_id, provider, market, name) select 'sim:' || g, 'sim', 'nyc', 'Venue ' || g from generate_series(0, 1999) g`,
  );
  await c.query('vacuum analyze drop_events, availability_state, venues');
}

/** Fresh expired partitions holding PRUNE_EXPIRED_ROWS (the previous round's are dropped first, untimed). */
async function rebuildExpired(ctx: BenchContext, c: pg.Client, now: Date): Promise<void> {
  const keepFrom = addDays(utcDay(now), -KEEP_FROM_DAYS_AGO);
  for (const p of partitionsToRemove(await listDayPartitions(c, 'drop_events'), keepFrom)) {
    await c.query(`drop table ${c.escapeIdentifier(p.name)}`);
  }
  const first = addDays(keepFrom, -EXPIRED_DAYS);
  await ensurePartitionsBetween(ctx.orm.em.fork(), first, addDays(keepFrom, -1));
  await c.query(
    `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes, opened_at, opened_minute)
     select 'nyc_' || to_char(ts, 'YYYY-MM-DD') || '_20:30', md5(g::text), g, 'sim:' || (g % 2000), 'nyc',
            ts::date, '20:30', '{2,4}', ts, date_trunc('minute', ts)
       from generate_series(1, $1::int) g,
            lateral (select $2::date::timestamptz + ((g - 1) * ($3::float8 / $1)) * interval '1 second' as ts) x`,
    [PRUNE_EXPIRED_ROWS, first, EXPIRED_DAYS * 86_400],
  );
  await c.query('vacuum analyze drop_events');
  await c.query('checkpoint');
}

export const pruneScenario: Scenario = {
  name: 'prune',
  description: `${PRUNE_EXPIRED_ROWS} expired drop_events (+${PRUNE_KEPT_ROWS} kept): one DELETE vs batched DELETE vs detach+drop of day partitions, with a concurrent feed.justOpened reader`,
  async run(ctx: BenchContext) {
    const now = new Date();
    const cutoff = new Date(`${addDays(utcDay(now), -KEEP_FROM_DAYS_AGO)}T00:00:00.000Z`);
    const admin = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'bench-prune' });
    const reader = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'bench-prune-reader' });
    await admin.connect();
    await reader.connect();
    const readLoop = new ReadLoop(reader);
    try {
      ctx.log('seeding 1M kept drops');
      await seedKept(ctx, admin, now);

      const variants: { name: string; run: () => Promise<VariantRun> }[] = [
        {
          name: 'old: one unbounded DELETE',
          run: async () => {
            const { ms } = await timed(admin, 'delete from drop_events where opened_minute < $1', [cutoff]);
            return { totalMs: ms, longestMs: ms, parentLockMs: ms, statements: 1 };
          },
        },
        {
          name: `batched DELETE (${BATCH_SIZE}/statement, by key range)`,
          run: async () => {
            const t0 = performance.now();
            let longestMs = 0;
            let statements = 0;
            for (;;) {
              // -- drop_events_pkey (opened_minute, id): the bound is the BATCH_SIZE-th oldest minute.
              const { ms, rows } = await timed(
                admin,
                `delete from drop_events
                  where opened_minute < coalesce(
                    (select opened_minute from drop_events where opened_minute < $1 order by opened_minute offset $2 limit 1), $1)`,
                [cutoff, BATCH_SIZE],
              );
              longestMs = Math.max(longestMs, ms);
              statements++;
              if (rows === 0) break;
            }
            return { totalMs: performance.now() - t0, longestMs, parentLockMs: longestMs, statements };
          },
        },
        {
          name: 'ours: DETACH CONCURRENTLY + DROP day partitions',
          run: async () => {
            const t0 = performance.now();
            const session = await openRetentionSession({ databaseUrl: ctx.databaseUrl });
            let longestMs = 0;
            let parentLockMs = 0;
            let statements = 0;
            const sums = { count_ms: 0, detach_ms: 0, drop_ms: 0 };
            try {
              const keepFrom = utcDay(cutoff);
              for (const p of partitionsToRemove(await listDayPartitions(session.client, 'drop_events'), keepFrom)) {
                const { ms } = await removeDayPartition(session, p); // exact count, DETACH CONCURRENTLY, DROP TABLE
                longestMs = Math.max(longestMs, ms.count, ms.detach, ms.drop);
                parentLockMs = Math.max(parentLockMs, ms.detach); // DROP and count touch only the partition
                sums.count_ms += ms.count;
                sums.detach_ms += ms.detach;
                sums.drop_ms += ms.drop;
                statements += 3;
              }
            } finally {
              await session.close();
            }
            return { totalMs: performance.now() - t0, longestMs, parentLockMs, statements, extra: sums };
          },
        },
      ];

      const rounds = Math.min(ctx.rounds, MAX_ROUNDS);
      const results = variants.map(() => ({
        total: [] as number[],
        longest: [] as number[],
        parentLock: [] as number[],
        statements: [] as number[],
        idle: [] as number[],
        busy: [] as number[],
        extra: new Map<string, number[]>(),
      }));
      for (let round = 0; round < rounds; round++) {
        for (const [i, variant] of variants.entries()) {
          ctx.log(`round ${round + 1}/${rounds}: rebuilding ${PRUNE_EXPIRED_ROWS} expired rows for "${variant.name}"`);
          await rebuildExpired(ctx, admin, now);
          readLoop.start();
          await new Promise((r) => setTimeout(r, IDLE_READ_MS));
          const idle = await readLoop.stop();
          readLoop.start();
          const run = await variant.run();
          const busy = await readLoop.stop();
          // Not in total_ms: the VACUUM that deleted rows leave to autovacuum (dropped partitions leave none).
          const vacuum = await timed(admin, 'vacuum drop_events');
          const expiredLeft = await admin.query<{ n: string }>(
            'select count(*)::bigint as n from drop_events where opened_minute < $1',
            [cutoff],
          );
          if (Number(expiredLeft.rows[0]?.n) !== 0) throw new Error(`${variant.name} left expired rows`);
          const r = results[i]!;
          r.total.push(run.totalMs);
          r.longest.push(run.longestMs);
          r.parentLock.push(run.parentLockMs);
          r.extra.set('vacuum_after_ms', [...(r.extra.get('vacuum_after_ms') ?? []), vacuum.ms]);
          for (const [k, v] of Object.entries(run.extra ?? {})) r.extra.set(k, [...(r.extra.get(k) ?? []), v]);
          r.statements.push(run.statements);
          r.idle.push(...idle);
          r.busy.push(...busy);
          ctx.log(
            `  ${variant.name}: ${run.totalMs.toFixed(0)} ms, longest statement ${run.longestMs.toFixed(1)} ms, reads idle p99 ${p99(idle).toFixed(2)} / during p99 ${p99(busy).toFixed(2)} ms (${busy.length} reads)`,
          );
        }
      }
      const kept = await admin.query<{ n: string }>('select count(*)::bigint as n from drop_events');
      if (Number(kept.rows[0]?.n) !== PRUNE_KEPT_ROWS) throw new Error(`kept rows changed: ${kept.rows[0]?.n}`);

      const reference = median(results[0]!.total);
      for (const [i, variant] of variants.entries()) {
        const r = results[i]!;
        ctx.record({
          case: `${PRUNE_EXPIRED_ROWS} expired + ${PRUNE_KEPT_ROWS} kept, ${rounds} round(s)`,
          variant: variant.name,
          metrics: {
            total_ms: median(r.total),
            speedup_vs_delete: reference / median(r.total),
            longest_stmt_ms: median(r.longest),
            longest_parent_lock_ms: median(r.parentLock),
            statements: median(r.statements),
            read_p99_idle_ms: p99(r.idle),
            read_p99_during_ms: p99(r.busy),
            read_p99_ratio: p99(r.busy) / p99(r.idle),
            reads_during: r.busy.length,
            ...Object.fromEntries([...r.extra].map(([k, v]) => [k, median(v)])),
          },
        });
      }
    } finally {
      await readLoop.stop();
      await reader.end();
      await admin.end();
    }
  },
};
