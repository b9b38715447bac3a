/**
 * Closes the still-open drops of the given buckets exactly like a poll that no longer sees them:
 * closed_at/duration_seconds set, closes and open seconds added to venue_metrics (shared rows
 * written in sorted key order, counters added atomically). `closed_at is null` makes it
 * idempotent: a drop already closed is neither closed nor counted again. Drops opened before $3
 * are left alone (retention passes the first kept day: those partitions are about to go).
 * Used by the tick's ensure step and by retention, both inside the bucket's advisory lock.
 * $1 bucket ids, $2 now, $3 oldest opened_minute to close ('-infinity' for all).
 * The close is counted on the UTC day the drop opened, the same venue_metrics row its open was.
 */
export const SQL_CLOSE_PAST_BUCKET_DROPS = `
with closed as (
  update drop_events d
     set closed_at = $2, duration_seconds = greatest(0, floor(extract(epoch from ($2::timestamptz - d.opened_at))))::int
    from availability_state a
   where a.bucket_id = any($1::text[])
     and d.opened_minute = a.drop_opened_minute and d.id = a.drop_event_id
     and d.closed_at is null and d.opened_minute >= $3::timestamptz
  returning d.venue_id, d.opened_at, d.duration_seconds
), per_day as (
  select c.venue_id, (c.opened_at at time zone 'UTC')::date as day, count(*)::int as closes,
         sum(c.duration_seconds)::bigint as secs, sum(c.duration_seconds::float8 * c.duration_seconds) as sq
    from closed c group by 1, 2
), counted as (
  insert into venue_metrics (venue_id, day, closes, open_seconds_sum, open_seconds_sq)
  select venue_id, day, closes, secs, sq from per_day order by venue_id, day
  on conflict (venue_id, day) do update
     set closes = venue_metrics.closes + excluded.closes,
         open_seconds_sum = venue_metrics.open_seconds_sum + excluded.open_seconds_sum,
         open_seconds_sq = venue_metrics.open_seconds_sq + excluded.open_seconds_sq
  returning 1
)
select (select count(*) from closed)::int as closed, (select count(*) from counted)::int as metric_rows`;
