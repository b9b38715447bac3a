import pg from 'pg';
import { addDays, bucketId, bucketWindow, loadConfig, localDate } from '@dropwatch/core';
import { ensurePartitionsBetween } from '@dropwatch/db';
import type { BenchContext } from '../../harness.js';

export const MARKET = 'nyc';
/** drop_events seeded: enough for a full newDrops page far from the head, and realistic index depth. */
const DROPS = 20_000;
/** Rows per seeding statement: each its own transaction, so tx_ids advance as in production. */
const SEED_CHUNK = 1_000;
const VENUES = 700;
/** The seeded drops opened over this many hours before now. */
const HISTORY_HOURS = 3;

/** A feed_cache payload in the shape the tick writes (DTO drops, ISO dates), at its default caps. */
function cachePayload(): unknown {
  const drop = (i: number, minutesAgo: number) => ({
    id: String(1_000_000 + i),
    market: MARKET,
    bucketId: 'nyc_2026-12-01_20:30',
    venue: {
      id: `resy:${i % VENUES}`,
      name: `Venue number ${i % VENUES}`,
      neighborhood: 'West Village',
      bookingUrl: `https://resy.com/cities/ny/venue-${i % VENUES}?date=2026-12-01&seats=2`,
      imageUrl: `https://image.resy.com/3/003/2/${i % VENUES}/abcdef0123456789.jpg`,
    },
    slotDate: '2026-12-01',
    slotTime: '20:30',
    partySizes: [2, 4],
    openedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    closedAt: null,
    rarity: 50 + (i % 50),
  });
  return {
    market: MARKET,
    builtAt: new Date().toISOString(),
    justOpenedMinutes: 10,
    justOpened: Array.from({ length: 500 }, (_, i) => drop(i, i / 60)),
    stillOpen: Array.from({ length: 1000 }, (_, i) => drop(500 + i, 11 + i)),
    board: Array.from({ length: 500 }, (_, i) => drop(1500 + i, i)),
  };
}

/**
 * What the read paths under test look at: the market's feed_cache row (feed.live), its 28
 * buckets scanned just now (health.buckets, health.status), a recent discovery run (health.status),
 * venues with their 14 days of metrics (every drop's rarity) and DROPS drop_events committed in
 * order over the last hours (feed.newDrops). Returns the (tx_id, id) of every drop, in commit order.
 */
export async function seedHttpBench(ctx: BenchContext): Promise<Array<{ txId: bigint; id: bigint }>> {
  const config = loadConfig({});
  const today = localDate(new Date(), 'UTC');
  await ensurePartitionsBetween(ctx.orm.em.fork(), addDays(today, -1), addDays(today, 3));
  const window = bucketWindow(MARKET, new Date(), config.DISCOVERY_WINDOW_DAYS, config.DISCOVERY_TIME_SLOTS);
  const buckets = window.map(bucketId);
  const sql = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'dropwatch-bench-seed' });
  await sql.connect();
  try {
    await sql.query(`insert into feed_cache (key, payload, version) values ('market:nyc', $1, 1)`, [
      JSON.stringify(cachePayload()),
    ]);
    await sql.query(
      `insert into discovery_buckets (bucket_id, market, date, time_slot, scanned_at, slot_count, baseline_complete)
       select id, $1, d, t, now(), 400, true from unnest($2::text[], $3::date[], $4::text[]) as u(id, d, t)`,
      [
        MARKET,
        `{${buckets.join(',')}}`,
        `{${window.map((b) => b.date).join(',')}}`,
        `{${window.map((b) => b.timeSlot).join(',')}}`,
      ],
    );
    await sql.query(
      `insert into job_runs (job, started_at, finished_at, status) values ('discovery', now() - interval '2 seconds', now(), 'ok')`,
    );
    await sql.query(
      `insert into venues (venue_id, provider, market, name, neighborhood, image_url, booking_url)
       select 'resy:' || i, 'resy', $1, 'Venue number ' || i, 'West Village',
              'https://image.resy.com/3/003/2/' || i || '/abcdef0123456789.jpg',
              'https://resy.com/cities/ny/venue-' || i
       from generate_series(0, $2 - 1) i`,
      [MARKET, VENUES],
    );
    await sql.query(
      `insert into venue_metrics (venue_id, day, drops, closes)
       select 'resy:' || v, current_date - d, 1 + (v * 7 + d) % 40, 1 from generate_series(0, $1 - 1) v, generate_series(0, 13) d`,
      [VENUES],
    );
    const now = Date.now();
    const span = HISTORY_HOURS * 3_600_000;
    for (let start = 0; start < DROPS; start += SEED_CHUNK) {
      // Row i opens at now - span * (1 - i/DROPS): older rows first, so tx order follows time order.
      // One in ten is still open (closed_at null), as in a feed's mix.
      await sql.query(
        `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes,
                                  opened_at, opened_minute, closed_at, duration_seconds)
         select b.bucket_id, md5(i::text), i, 'resy:' || (i % $5), $6, b.slot_date, '20:30', '{2,4}',
                t.at, date_trunc('minute', t.at),
                case when i % 10 = 0 then null else t.at + interval '20 minutes' end,
                case when i % 10 = 0 then null else 1200 end
         from generate_series($1::int, $2::int - 1) as i
         cross join lateral (select to_timestamp(($3::float8 - $4::float8 * (1 - i::float8 / $7)) / 1000) as at) t
         cross join lateral (select ($8::text[])[1 + i % array_length($8::text[], 1)] as bucket_id,
                                    ($9::date[])[1 + i % array_length($9::date[], 1)] as slot_date) b`,
        [
          start,
          Math.min(DROPS, start + SEED_CHUNK),
          now,
          span,
          VENUES,
          MARKET,
          DROPS,
          `{${buckets.join(',')}}`,
          `{${window.map((b) => b.date).join(',')}}`,
        ],
      );
    }
    await sql.query('analyze');
    const { rows } = await sql.query<{ tx_id: string; id: string }>(
      'select tx_id::text, id::text from drop_events order by tx_id, id',
    );
    ctx.log(`seeded ${rows.length} drop_events, ${VENUES} venues, ${buckets.length} buckets, feed_cache`);
    return rows.map((r) => ({ txId: BigInt(r.tx_id), id: BigInt(r.id) }));
  } finally {
    await sql.end();
  }
}
