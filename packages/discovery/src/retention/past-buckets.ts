import { MARKET_SLUGS, marketToday } from '@dropwatch/core';
import { notifyFeedChanged } from '../tick/apply-snapshot.js';
import { SQL_CLOSE_PAST_BUCKET_DROPS } from '../tick/close-past-drops-sql.js';
import type { RetentionCutoffs } from './cutoffs.js';
import { dayStart } from './cutoffs.js';
import { PAST_BUCKETS_PER_TRANSACTION, RETENTION_JOB } from './retention-config.js';
import type { RetentionSession } from './retention-session.js';

export interface PastBucketCounts {
  readonly discovery_buckets: number;
  readonly bucket_slots: number;
  readonly availability_state: number;
  /** Open drops of past dates closed (and counted into venue_metrics) before their state went. */
  readonly dropsClosed: number;
}

/**
 * Deletes the buckets dated before today in their market's zone, with their bucket_slots and
 * availability_state, closing their open drops first — a few buckets per short transaction.
 * A bucket a poll is writing right now is locked: SKIP LOCKED leaves it to the next run.
 */
export async function deletePastBuckets(
  session: RetentionSession,
  cutoffs: RetentionCutoffs,
  signal?: AbortSignal,
): Promise<PastBucketCounts> {
  const { client } = session;
  const totals = { discovery_buckets: 0, bucket_slots: 0, availability_state: 0, dropsClosed: 0 };
  const keptFrom = dayStart(cutoffs.dropEventsKeepFromDay);
  for (const market of MARKET_SLUGS) {
    const today = marketToday(market, cutoffs.now);
    for (;;) {
      signal?.throwIfAborted();
      const batch = await session.transaction(`past buckets ${market}`, async () => {
        // The same per-bucket advisory lock a poll takes (tick/bucket-sql.ts), then the row lock:
        // a bucket a poll holds is skipped, not waited for.
        // -- uses discovery_buckets_market_date_idx
        const { rows } = await client.query<{ bucket_id: string }>(
          `select bucket_id from discovery_buckets
            where market = $1 and date < $2::date
              and pg_try_advisory_xact_lock(hashtextextended('dropwatch.bucket:' || bucket_id, 0))
            order by bucket_id limit $3 for update skip locked`,
          [market, today, PAST_BUCKETS_PER_TRANSACTION],
        );
        const ids = rows.map((r) => r.bucket_id);
        if (ids.length === 0) return { picked: 0, closed: 0, state: 0, slots: 0, buckets: 0 };
        const closed = await client.query<{ closed: number }>(SQL_CLOSE_PAST_BUCKET_DROPS, [
          ids,
          cutoffs.now,
          keptFrom,
        ]);
        // Sent at commit: a cached feed.newDrops answer may list these drops as still open.
        if ((closed.rows[0]?.closed ?? 0) > 0) await notifyFeedChanged(client, RETENTION_JOB);
        const state = await client.query('delete from availability_state where bucket_id = any($1::text[])', [ids]);
        const slots = await client.query('delete from bucket_slots where bucket_id = any($1::text[])', [ids]);
        const buckets = await client.query('delete from discovery_buckets where bucket_id = any($1::text[])', [ids]);
        return {
          picked: ids.length,
          closed: closed.rows[0]?.closed ?? 0,
          state: state.rowCount ?? 0,
          slots: slots.rowCount ?? 0,
          buckets: buckets.rowCount ?? 0,
        };
      });
      // Counted once committed: a retried transaction counts only its successful attempt.
      totals.dropsClosed += batch.closed;
      totals.availability_state += batch.state;
      totals.bucket_slots += batch.slots;
      totals.discovery_buckets += batch.buckets;
      if (batch.picked < PAST_BUCKETS_PER_TRANSACTION) break;
    }
  }
  return totals;
}

/** What deletePastBuckets would remove now, without removing it. */
export async function countPastBuckets(
  session: RetentionSession,
  cutoffs: RetentionCutoffs,
): Promise<PastBucketCounts> {
  const totals = { discovery_buckets: 0, bucket_slots: 0, availability_state: 0, dropsClosed: 0 };
  const keptFrom = dayStart(cutoffs.dropEventsKeepFromDay);
  for (const market of MARKET_SLUGS) {
    const { rows } = await session.client.query<{ buckets: number; slots: number; states: number; open: number }>(
      `with past as (select bucket_id from discovery_buckets where market = $1 and date < $2::date)
       select (select count(*) from past)::int as buckets,
              (select count(*) from bucket_slots s where s.bucket_id in (select bucket_id from past))::int as slots,
              (select count(*) from availability_state a where a.bucket_id in (select bucket_id from past))::int as states,
              (select count(*) from availability_state a
                 join drop_events d on d.opened_minute = a.drop_opened_minute and d.id = a.drop_event_id
                where a.bucket_id in (select bucket_id from past) and d.closed_at is null and d.opened_minute >= $3)::int as open`,
      [market, marketToday(market, cutoffs.now), keptFrom],
    );
    const r = rows[0];
    totals.discovery_buckets += r?.buckets ?? 0;
    totals.bucket_slots += r?.slots ?? 0;
    totals.availability_state += r?.states ?? 0;
    totals.dropsClosed += r?.open ?? 0;
  }
  return totals;
}
