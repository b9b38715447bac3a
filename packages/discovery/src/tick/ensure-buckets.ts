import { bucketId, bucketWindow, marketToday, type Config } from '@dropwatch/core';
import type { PgClient } from '@dropwatch/db';
import { notifyFeedChanged } from './apply-snapshot.js';
import { SQL_CLOSE_PAST_BUCKET_DROPS } from './close-past-drops-sql.js';

/** Buckets read by the ensure step at most: 5 markets × 14 days × 6 slots, twice over for stale ones. */
export const ENSURE_SELECT_LIMIT = 2_000;
/** Past buckets deleted per tick at most (the rest go next tick, or with retention). */
export const PAST_BUCKETS_PER_TICK = 50;

export interface EnsureResult {
  readonly created: number;
  readonly deleted: number;
  readonly pastDropsClosed: number;
}

/**
 * Step 1: one SELECT of the known buckets of the configured markets, one INSERT … ON CONFLICT
 * DO NOTHING of the window's missing ones; then buckets dated before today (market zone) are
 * deleted with their slots and state, their open drops closed and counted first.
 * -- uses discovery_buckets_market_date_idx
 */
export async function ensureBuckets(client: PgClient, config: Config, now: Date): Promise<EnsureResult> {
  const markets = config.DISCOVERY_MARKETS;
  const { rows } = await client.query<{ bucket_id: string; market: string; date: string }>(
    `select bucket_id, market, date::text as date from discovery_buckets
     where market = any($1::text[]) order by market, date limit $2`,
    [markets, ENSURE_SELECT_LIMIT],
  );
  const known = new Set(rows.map((r) => r.bucket_id));
  const missing = markets
    .flatMap((m) => bucketWindow(m, now, config.DISCOVERY_WINDOW_DAYS, config.DISCOVERY_TIME_SLOTS))
    .filter((b) => !known.has(bucketId(b)));
  let created = 0;
  if (missing.length > 0) {
    const res = await client.query(
      `insert into discovery_buckets (bucket_id, market, date, time_slot)
       select * from unnest($1::text[], $2::text[], $3::date[], $4::text[])
       on conflict (bucket_id) do nothing`,
      [missing.map(bucketId), missing.map((b) => b.market), missing.map((b) => b.date), missing.map((b) => b.timeSlot)],
    );
    created = res.rowCount ?? 0;
  }
  const past = rows
    .filter((r) => r.date < marketToday(r.market as (typeof markets)[number], now))
    .map((r) => r.bucket_id)
    .slice(0, PAST_BUCKETS_PER_TICK);
  if (past.length === 0) return { created, deleted: 0, pastDropsClosed: 0 };
  const { deleted, closed } = await deletePastBuckets(client, past, now);
  return { created, deleted, pastDropsClosed: closed };
}

/**
 * Closes the open drops of past buckets (counted into venue_metrics like any close, shared rows
 * in key order), then deletes the buckets; bucket_slots and availability_state go by cascade.
 * A bucket a poll holds right now is skipped (advisory lock taken, or row locked).
 */
async function deletePastBuckets(
  client: PgClient,
  ids: string[],
  now: Date,
): Promise<{ deleted: number; closed: number }> {
  await client.query('begin');
  try {
    const { rows } = await client.query<{ bucket_id: string }>(
      `select bucket_id from discovery_buckets
       where bucket_id = any($1::text[]) and pg_try_advisory_xact_lock(hashtextextended('dropwatch.bucket:' || bucket_id, 0))
       order by bucket_id for update skip locked`,
      [ids],
    );
    const locked = rows.map((r) => r.bucket_id);
    let closed = 0;
    let deleted = 0;
    if (locked.length > 0) {
      const res = await client.query<{ closed: number }>(SQL_CLOSE_PAST_BUCKET_DROPS, [locked, now, '-infinity']);
      closed = Number(res.rows[0]?.closed ?? 0);
      if (closed > 0) await notifyFeedChanged(client, 'past-buckets');
      const del = await client.query('delete from discovery_buckets where bucket_id = any($1::text[])', [locked]);
      deleted = del.rowCount ?? 0;
    }
    await client.query('commit');
    return { deleted, closed };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}
