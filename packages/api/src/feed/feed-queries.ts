import { RARITY_WINDOW_DAYS } from '@dropwatch/core';
import { dropProjection, pgArray, SqlParams, type DropRow, type PgClient } from '@dropwatch/db';

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
 * The drop columns the open-set feeds return, from `d` (drop_events), `v` (venues) and `w`
 * (the venue's drops in the rarity window, aggregated once per venue in a CTE instead of one
 * venue_metrics probe per row).
 */
const OPEN_PROJECTION = `
  d.id::text as id, d.tx_id::text as tx_id, d.market, d.bucket_id, d.venue_id,
  v.name as venue_name, v.neighborhood, coalesce(d.booking_url, v.booking_url) as booking_url, v.image_url,
  to_char(d.slot_date, 'YYYY-MM-DD') as slot_date, d.slot_time, d.party_sizes, d.opened_at, d.closed_at,
  w.drops as window_drops`;

/**
 * One drop by its primary key, as a LATERAL probe. The LIMIT 1 keeps the planner from pulling
 * the subquery up into a hash join over every partition (which it prefers on small tables and
 * which grows with the table): each open row costs one drop_events_pkey probe of one partition
 * (run-time partition pruning on opened_minute).
 */
const dropByKey = (alias: string, extra = '') => `(
    select d.* from drop_events d
    where d.opened_minute = ${alias}.drop_opened_minute and d.id = ${alias}.drop_event_id${extra}
    limit 1
  )`;

function marketAndDates(f: FeedFilters, p: SqlParams): string {
  let sql = '';
  if (f.market) sql += ` and a.market = ${p.add(f.market)}`;
  if (f.dates && f.dates.length > 0) sql += ` and a.slot_date = any(${p.add(pgArray(f.dates))}::date[])`;
  return sql;
}

function partyFilter(f: FeedFilters, p: SqlParams): string {
  if (!f.partySizes || f.partySizes.length === 0) return '';
  return ` and d.party_sizes && ${p.add(pgArray(f.partySizes))}::int[]`;
}

/**
 * Open drops opened within the last `withinMinutes` (justOpened) or before that (stillOpen),
 * newest first.
 * -- uses availability_state_market_opened_idx (market, opened_at desc): walks the open set
 * -- newest first and stops at the LIMIT (the open set is bounded by definition); each row
 * -- probes drop_events_pkey (opened_minute, id) of one partition (dropByKey); venue_metrics_pkey
 * -- (venue_id, day) range once per distinct venue of the page (LATERAL, so not a scan of all
 * -- venue_metrics); venues_pkey per row.
 */
export function openDropsSql(kind: 'justOpened' | 'stillOpen', f: FeedFilters, withinMinutes: number, limit: number) {
  const p = new SqlParams();
  const party = partyFilter(f, p);
  const since = `now() - make_interval(mins => ${p.add(withinMinutes)})`;
  const age = kind === 'justOpened' ? `a.opened_at >= ${since}` : `a.opened_at < ${since}`;
  const where = marketAndDates(f, p);
  const sql = `
with picked as materialized (
  select d.*
  from availability_state a
  cross join lateral ${dropByKey('a', party)} d
  where ${age}${where}
  order by a.opened_at desc, a.drop_event_id desc
  limit ${p.add(limit)}
), w as (
  select p.venue_id, s.drops
  from (select distinct venue_id from picked) p
  cross join lateral (
    select sum(m.drops) as drops from venue_metrics m
    where m.venue_id = p.venue_id and m.day > current_date - ${p.add(RARITY_WINDOW_DAYS)}::int
  ) s
)
select ${OPEN_PROJECTION}
from picked d
left join venues v on v.venue_id = d.venue_id
left join w on w.venue_id = d.venue_id
order by d.opened_at desc, d.id desc`;
  return { sql, params: p.values };
}

export async function queryOpenDrops(
  db: PgClient,
  kind: 'justOpened' | 'stillOpen',
  f: FeedFilters,
  withinMinutes: number,
  limit: number,
): Promise<DropRow[]> {
  const { sql, params } = openDropsSql(kind, f, withinMinutes, limit);
  return (await db.query<DropRow>(sql, params)).rows;
}

/**
 * The board: open drops, rarest venue first (fewest drops in the window), then freshest, then
 * venue name. Ranks the open set (bounded by definition: one row per open slot) against the
 * window's venue_metrics (venues × 14 days; uses venue_metrics_day_idx), keeps the LIMIT, and
 * only then probes drop_events_pkey for the kept rows (dropByKey). A party-size filter needs
 * the drop itself, so it probes while ranking.
 */
export function boardSql(f: FeedFilters, limit: number) {
  const p = new SqlParams();
  const windowDays = p.add(RARITY_WINDOW_DAYS);
  const where = marketAndDates(f, p);
  const party = partyFilter(f, p);
  const partyWhere = party ? ` and exists ${dropByKey('a', party)}` : '';
  const sql = `
with w as (
  select m.venue_id, sum(m.drops) as drops
  from venue_metrics m
  where m.day > current_date - ${windowDays}::int
  group by m.venue_id
), ranked as materialized (
  select a.drop_event_id, a.drop_opened_minute, a.opened_at, w.drops,
         coalesce(v.name, a.venue_id) as venue_name
  from availability_state a
  left join venues v on v.venue_id = a.venue_id
  left join w on w.venue_id = a.venue_id
  where true${where}${partyWhere}
  order by coalesce(w.drops, 0) asc, a.opened_at desc, coalesce(v.name, a.venue_id) asc, a.drop_event_id desc
  limit ${p.add(limit)}
)
select
  d.id::text as id, d.tx_id::text as tx_id, d.market, d.bucket_id, d.venue_id,
  v.name as venue_name, v.neighborhood, coalesce(d.booking_url, v.booking_url) as booking_url, v.image_url,
  to_char(d.slot_date, 'YYYY-MM-DD') as slot_date, d.slot_time, d.party_sizes, d.opened_at, d.closed_at,
  r.drops as window_drops
from ranked r
cross join lateral ${dropByKey('r')} d
left join venues v on v.venue_id = d.venue_id
order by coalesce(r.drops, 0) asc, r.opened_at desc, r.venue_name asc, r.drop_event_id desc`;
  return { sql, params: p.values };
}

export async function queryBoard(db: PgClient, f: FeedFilters, limit: number): Promise<DropRow[]> {
  const { sql, params } = boardSql(f, limit);
  return (await db.query<DropRow>(sql, params)).rows;
}

/**
 * A venue's most recent drops.
 * -- uses drop_events_venue_opened_idx (venue_id, opened_at) backwards, per partition, LIMIT.
 */
export async function queryVenueDrops(db: PgClient, venueId: string, limit: number): Promise<DropRow[]> {
  const { rows } = await db.query<DropRow>(
    `select ${dropProjection('$1')}
     from drop_events d
     left join venues v on v.venue_id = d.venue_id
     where d.venue_id = $2
     order by d.opened_at desc, d.id desc
     limit $3`,
    [RARITY_WINDOW_DAYS, venueId, limit],
  );
  return rows;
}
