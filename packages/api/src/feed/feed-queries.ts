import { RARITY_WINDOW_DAYS } from '@dropwatch/core';
import { DROP_PROJECTION } from '@dropwatch/discovery';
import type { DropRow } from './drop-dto.js';
import { pgArray, type SqlRunner } from './sql-runner.js';

/**
 * The feed's SQL, hand-written, with the plan each statement relies on. Every statement has a
 * LIMIT bound by the caller from a named constant (limits.ts / config caps).
 */

export interface FeedFilters {
  readonly market?: string | undefined;
  readonly partySizes?: readonly number[] | undefined;
  /** Venue-local slot dates, YYYY-MM-DD. */
  readonly dates?: readonly string[] | undefined;
}

/**
 * The exactly-once "drops after a cursor" statements (and DROP_PROJECTION, the columns every feed
 * returns) live in @dropwatch/discovery: the notify job reads drop_events with the same cursor.
 */
export {
  newDropsSql,
  queryNewDrops,
  querySnapshotXmin,
  queryWindowStartTx,
  type NewDropsPage,
} from '@dropwatch/discovery';

interface Where {
  readonly sql: string;
  readonly params: unknown[];
}

/** Filters on the open set (a = availability_state, d = drop_events). */
function openSetFilters(f: FeedFilters): Where {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.market) {
    parts.push('a.market = ?');
    params.push(f.market);
  }
  if (f.dates && f.dates.length > 0) {
    parts.push('a.slot_date = any(?::date[])');
    params.push(pgArray(f.dates));
  }
  if (f.partySizes && f.partySizes.length > 0) {
    parts.push('d.party_sizes && ?::int[]');
    params.push(pgArray(f.partySizes));
  }
  return { sql: parts.map((p) => ` and ${p}`).join(''), params };
}

/**
 * Open drops opened within the last `withinMinutes` (justOpened) or before that (stillOpen),
 * newest first.
 * -- uses availability_state_market_opened_idx (market, opened_at desc): walks the open set
 * -- newest first and stops at the LIMIT; each row finds its drop by drop_events_pkey
 * -- (opened_minute, id) with run-time partition pruning (one partition probed per row).
 */
export function openDropsSql(kind: 'justOpened' | 'stillOpen', f: FeedFilters, withinMinutes: number, limit: number) {
  const where = openSetFilters(f);
  const age = kind === 'justOpened' ? 'a.opened_at >= now() - make_interval(mins => ?)' : 'a.opened_at < now() - make_interval(mins => ?)';
  const sql = `
with picked as (
  select d.*
  from availability_state a
  join drop_events d on d.opened_minute = a.drop_opened_minute and d.id = a.drop_event_id
  where ${age}${where.sql}
  order by a.opened_at desc, a.drop_event_id desc
  limit ?
)
select ${DROP_PROJECTION}
from picked d
left join venues v on v.venue_id = d.venue_id
order by d.opened_at desc, d.id desc`;
  return { sql, params: [withinMinutes, ...where.params, limit, RARITY_WINDOW_DAYS] };
}

export function queryOpenDrops(
  run: SqlRunner,
  kind: 'justOpened' | 'stillOpen',
  f: FeedFilters,
  withinMinutes: number,
  limit: number,
): Promise<DropRow[]> {
  const { sql, params } = openDropsSql(kind, f, withinMinutes, limit);
  return run<DropRow>(sql, params);
}

/**
 * The board: open drops, rarest venue first (fewest drops in the window), then freshest, then
 * venue name. Reads the open set (bounded by definition: one row per open slot) and the window's
 * venue_metrics (venues × 14 days) -- uses venue_metrics_day_idx -- sorts, and keeps the LIMIT.
 */
export function boardSql(f: FeedFilters, limit: number) {
  const where = openSetFilters(f);
  const sql = `
with window_drops as (
  select m.venue_id, sum(m.drops) as drops
  from venue_metrics m
  where m.day > current_date - ?::int
  group by m.venue_id
)
select
  d.id::text as id, d.tx_id::text as tx_id, d.market, d.bucket_id, d.venue_id,
  v.name as venue_name, v.neighborhood, coalesce(d.booking_url, v.booking_url) as booking_url, v.image_url,
  to_char(d.slot_date, 'YYYY-MM-DD') as slot_date, d.slot_time, d.party_sizes, d.opened_at, d.closed_at,
  w.drops as window_drops
from availability_state a
join drop_events d on d.opened_minute = a.drop_opened_minute and d.id = a.drop_event_id
left join venues v on v.venue_id = a.venue_id
left join window_drops w on w.venue_id = a.venue_id
where true${where.sql}
order by coalesce(w.drops, 0) asc, a.opened_at desc, coalesce(v.name, a.venue_id) asc, a.drop_event_id desc
limit ?`;
  return { sql, params: [RARITY_WINDOW_DAYS, ...where.params, limit] };
}

export function queryBoard(run: SqlRunner, f: FeedFilters, limit: number): Promise<DropRow[]> {
  const { sql, params } = boardSql(f, limit);
  return run<DropRow>(sql, params);
}

/**
 * A venue's most recent drops.
 * -- uses drop_events_venue_opened_idx (venue_id, opened_at) backwards, per partition, LIMIT.
 */
export function queryVenueDrops(run: SqlRunner, venueId: string, limit: number): Promise<DropRow[]> {
  return run<DropRow>(
    `select ${DROP_PROJECTION}
     from drop_events d
     left join venues v on v.venue_id = d.venue_id
     where d.venue_id = ?
     order by d.opened_at desc, d.id desc
     limit ?`,
    [RARITY_WINDOW_DAYS, venueId, limit],
  );
}
