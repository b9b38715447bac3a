import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import pg from 'pg';
import { bucketsSql, feedSql } from '@dropwatch/api';
import { addDays, bucketId, bucketWindow, loadConfig, localDate } from '@dropwatch/core';
import {
  encodeCursor,
  ensurePartitionsBetween,
  newDropsSql,
  toDropDto,
  withPgClient,
  type DropRow,
} from '@dropwatch/db';
import type { BenchContext, Scenario } from '../harness.js';

/** drop_events sizes measured (BENCH_FEED_SIZES overrides, e.g. "100000,1000000,5000000"). */
const DEFAULT_SIZES = [100_000, 1_000_000, 5_000_000];
/** Rows per seeding statement: each its own transaction, so tx_ids advance as in production. */
const SEED_CHUNK = 5_000;
const HISTORY_DAYS = 14;
const VENUES = 2_000;
/** The open set: availability_state rows (one per open slot), mostly recent drops. */
const OPEN_RECENT = 3_000;
const OPEN_OLDER = 1_000;
/** The unbounded seed read is only run up to this size (it loads every row into memory). */
const UNBOUNDED_MAX_ROWS = 1_000_000;
const MARKET = 'nyc';

const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** `$n` → `?` with the values in text order: the form MikroORM's `Connection.execute` (knex) takes. */
function toKnexPlaceholders(q: { sql: string; params: unknown[] }): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const sql = q.sql.replace(/\$(\d+)/g, (_, n: string) => {
    params.push(q.params[Number(n) - 1]);
    return '?';
  });
  return { sql, params };
}

/** Peak heap growth (MB) while fn runs, sampled every 2 ms from a collected baseline. */
async function withPeakHeap<T>(fn: () => Promise<T>): Promise<{ value: T; peakHeapMB: number }> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 2);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { value, peakHeapMB: (peak - base) / 1024 / 1024 };
  } finally {
    clearInterval(timer);
  }
}

async function seed(
  ctx: BenchContext,
  client: pg.Client,
  from: number,
  to: number,
  buckets: string[],
  slotDates: string[],
): Promise<void> {
  const now = Date.now();
  const span = HISTORY_DAYS * 86_400_000;
  for (let start = from; start < to; start += SEED_CHUNK) {
    const end = Math.min(to, start + SEED_CHUNK);
    // Row i opens at now - span * (1 - i/to): older rows first, so tx order follows time order.
    await client.query(
      `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes,
                                opened_at, opened_minute, closed_at, duration_seconds)
       select b.bucket_id, md5(i::text), i, 'resy:' || (i % $5), $6, b.slot_date, '20:30', '{2,4}',
              t.at, date_trunc('minute', t.at), t.at + interval '20 minutes', 1200
       from generate_series($1::int, $2::int - 1) as i
       cross join lateral (select to_timestamp(($3::float8 - $4::float8 * (1 - i::float8 / $7)) / 1000) as at) t
       cross join lateral (select ($8::text[])[1 + i % array_length($8::text[], 1)] as bucket_id,
                                  ($9::date[])[1 + i % array_length($9::date[], 1)] as slot_date) b`,
      [start, end, now, span, VENUES, MARKET, to, `{${buckets.join(',')}}`, `{${slotDates.join(',')}}`],
    );
  }
  ctx.log(`seeded drop_events to ${to}`);
}

/** Re-derives the open set: the newest OPEN_RECENT drops and OPEN_OLDER spread over the older ones. */
async function resetOpenSet(client: pg.Client, total: number): Promise<void> {
  await client.query('truncate availability_state');
  await client.query("update drop_events set closed_at = opened_at + interval '20 minutes' where closed_at is null");
  await client.query(
    `with picked as (
       (select id, opened_minute from drop_events order by opened_at desc limit $1)
       union
       (select id, opened_minute from drop_events where slot_key % $3 = 0 order by opened_at desc limit $2)
     ), opened as (
       update drop_events d set closed_at = null, duration_seconds = null
       from picked p where d.opened_minute = p.opened_minute and d.id = p.id
       returning d.*
     )
     insert into availability_state (bucket_id, slot_key, drop_event_id, drop_opened_minute, venue_id, market, slot_date, opened_at)
     select bucket_id, slot_key, id, opened_minute, venue_id, market, slot_date, opened_at from opened
     on conflict do nothing`,
    [OPEN_RECENT, OPEN_OLDER, Math.max(1, Math.floor(total / (OPEN_OLDER * 2)))],
  );
  await client.query('analyze');
}

/** The seed's still-open: every event of the window's buckets loaded, filtered and sorted in JS. */
async function unboundedStillOpen(
  client: pg.Client,
  buckets: string[],
  withinMinutes: number,
  limit: number,
): Promise<number> {
  const { rows } = await client.query<{ id: string; opened_at: Date; closed_at: Date | null }>(
    'select * from drop_events where bucket_id = any($1::text[])',
    [`{${buckets.join(',')}}`],
  );
  const cutoff = Date.now() - withinMinutes * 60_000;
  const open = rows.filter((r) => r.closed_at === null && r.opened_at.getTime() < cutoff);
  open.sort((a, b) => b.opened_at.getTime() - a.opened_at.getTime());
  return open.slice(0, limit).length;
}

export const feedReadsScenario: Scenario = {
  name: 'feed-reads',
  description:
    'justOpened / stillOpen / newDrops page / health.buckets: ORM path vs raw pg on 100k–5M drop_events; vs the unbounded still-open',
  async run(ctx) {
    const sizes = (process.env.BENCH_FEED_SIZES?.split(',').map(Number) ?? DEFAULT_SIZES).filter((n) => n > 0);
    const config = loadConfig({});
    const today = localDate(new Date(), 'UTC');
    await ensurePartitionsBetween(ctx.orm.em.fork(), addDays(today, -HISTORY_DAYS - 1), addDays(today, 3));
    const window = bucketWindow(MARKET, new Date(), config.DISCOVERY_WINDOW_DAYS, config.DISCOVERY_TIME_SLOTS);
    const buckets = window.map(bucketId);
    const client = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'dropwatch-bench-seed' });
    // The raw reference reads on a connection of its own, like the ORM's pool. The seeding
    // connection itself ran justOpened ~1.8× faster than any other connection, a fresh raw pg
    // client included: a property of that session, not of raw pg. It stays as a variant to show.
    const rawReader = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'dropwatch-bench-raw' });
    await client.connect();
    await rawReader.connect();
    try {
      await client.query(
        `insert into discovery_buckets (bucket_id, market, date, time_slot, scanned_at, slot_count, baseline_complete)
         select id, $1, d, t, now(), 400, true from unnest($2::text[], $3::date[], $4::text[]) as u(id, d, t)`,
        [
          MARKET,
          `{${buckets.join(',')}}`,
          `{${window.map((b) => b.date).join(',')}}`,
          `{${window.map((b) => b.timeSlot).join(',')}}`,
        ],
      );
      await client.query(
        `insert into venues (venue_id, provider, market, name) select 'resy:' || i, 'resy', $1, 'Venue ' || i from generate_series(0, $2 - 1) i`,
        [MARKET, VENUES],
      );
      await client.query(
        `insert into venue_metrics (venue_id, day, drops, closes)
         select 'resy:' || v, current_date - d, 1 + (v * 7 + d) % 40, 1 from generate_series(0, $1 - 1) v, generate_series(0, 13) d`,
        [VENUES],
      );

      const em = () => ctx.orm.em.fork();
      const rawOn = (c: pg.Client) => async (q: { sql: string; params: unknown[] }) =>
        (await c.query<DropRow>(q.sql, q.params)).rows;
      const raw = rawOn(rawReader);
      const rawOnSeeder = rawOn(client);
      const ours = async (q: { sql: string; params: unknown[] }) =>
        (await withPgClient(em(), (c) => c.query<DropRow>(q.sql, q.params))).rows;
      // The API's previous path: MikroORM's Connection.execute, which formats the values into the SQL text.
      const viaExecute = async (q: { sql: string; params: unknown[] }) => {
        const { sql, params } = toKnexPlaceholders(q);
        return em().getConnection().execute<DropRow[]>(sql, params);
      };
      let seeded = 0;
      for (const size of sizes) {
        await seed(
          ctx,
          client,
          seeded,
          size,
          buckets,
          window.map((b) => b.date),
        );
        seeded = size;
        await resetOpenSet(client, size);
        // A poller that is caught up to an hour ago: the cursor of the first drop opened then.
        const { rows: at } = await client.query<{ tx_id: string; id: string }>(
          `select tx_id::text, id::text from drop_events where opened_at >= now() - interval '1 hour' order by opened_at limit 1`,
        );
        const cursor = at[0] ? { txId: BigInt(at[0].tx_id), id: BigInt(at[0].id) } : { txId: 0n, id: 0n };
        ctx.log(`size ${size}: newDrops cursor ${encodeCursor(cursor)}`);
        const label = `${size / 1000}k drop_events`;
        const queries = {
          // A fixed page (the 10-minute window holds ~5 drops per 10k rows of history here).
          justOpened: feedSql.openDropsSql('justOpened', { market: MARKET }, 10, 40),
          stillOpen: feedSql.openDropsSql('stillOpen', { market: MARKET }, 10, 1000),
          'newDrops page': newDropsSql(cursor, undefined, 200),
          'health.buckets': bucketsSql(undefined, 90),
        };
        for (const [name, q] of Object.entries(queries)) {
          if (process.env.BENCH_EXPLAIN) {
            const plan = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${q.sql}`, q.params);
            ctx.log(`${name} plan:\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
          }
          const mapsDrops = name !== 'health.buckets';
          const mapped = (rows: DropRow[]) =>
            mapsDrops ? rows.filter((r) => r.id !== null).map(toDropDto).length : rows.length;
          await ctx.compare({
            case: `${name} @ ${label}`,
            variants: [
              { name: 'raw pg, same SQL', run: async () => ({ rows: (await raw(q)).length }) },
              { name: 'ours (ORM pool, pg protocol + DTO)', run: async () => ({ rows: mapped(await ours(q)) }) },
              { name: 'ORM execute, values inlined + DTO', run: async () => ({ rows: mapped(await viaExecute(q)) }) },
              { name: 'raw pg on the seeding connection', run: async () => ({ rows: (await rawOnSeeder(q)).length }) },
            ],
          });
        }
        if (size <= UNBOUNDED_MAX_ROWS) {
          const seedRead = () => unboundedStillOpen(client, buckets, 10, 1000);
          const oursRead = async () => (await ours(queries.stillOpen)).map(toDropDto).length;
          await ctx.compare({
            case: `stillOpen vs unbounded @ ${label}`,
            rounds: Math.min(ctx.rounds, 5),
            warmup: 1,
            variants: [
              { name: 'seed: load every event of the 28 buckets', run: async () => ({ rows: await seedRead() }) },
              { name: 'ours: bounded stillOpen', run: async () => ({ rows: await oursRead() }) },
            ],
          });
          // Peak heap, measured outside the timed runs (a full GC precedes each measurement).
          const seedHeap = await withPeakHeap(seedRead);
          const oursHeap = await withPeakHeap(oursRead);
          ctx.record({
            case: `stillOpen vs unbounded @ ${label}`,
            variant: 'seed: peak heap',
            metrics: { peakHeapMB: seedHeap.peakHeapMB },
          });
          ctx.record({
            case: `stillOpen vs unbounded @ ${label}`,
            variant: 'ours: peak heap',
            metrics: { peakHeapMB: oursHeap.peakHeapMB, heapRatioVsSeed: oursHeap.peakHeapMB / seedHeap.peakHeapMB },
          });
        }
      }
    } finally {
      await rawReader.end();
      await client.end();
    }
  },
};
