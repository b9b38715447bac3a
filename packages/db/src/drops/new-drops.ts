import { RARITY_WINDOW_DAYS } from '@dropwatch/core';
import { compareCursors, cursorBelowXmin, MAX_ID, type DropCursor } from './cursor.js';
import { toDropDto, type DropDto, type DropRow } from './drop-dto.js';
import { SqlParams, type PgClient } from '../pg-client.js';

/**
 * The drop columns every feed returns (DropRow), from `d` (drop_events) and `v` (venues).
 * `window_drops` is the venue's drop count in the rarity window -- uses venue_metrics_pkey
 * (venue_id, day): one short range scan per returned row. `windowDays` is the placeholder bound
 * to RARITY_WINDOW_DAYS; `today` is the SQL of the day the window ends on (the readers use the
 * database's `current_date`; the feed-cache build passes its own clock's day).
 */
export function dropProjection(windowDays: string, today = 'current_date'): string {
  return `
  d.id::text as id, d.tx_id::text as tx_id, d.market, d.bucket_id, d.venue_id,
  v.name as venue_name, v.neighborhood, coalesce(d.booking_url, v.booking_url) as booking_url, v.image_url,
  to_char(d.slot_date, 'YYYY-MM-DD') as slot_date, d.slot_time, d.party_sizes, d.opened_at, d.closed_at,
  (select sum(m.drops) from venue_metrics m
    where m.venue_id = d.venue_id and m.day > ${today} - ${windowDays}::int) as window_drops`;
}

export interface NewDropsPage {
  readonly rows: DropRow[];
  /** xmin of the statement's snapshot: every transaction below it has ended. */
  readonly snapshotXmin: bigint;
  /** xmax of the same snapshot: no transaction id at or above it has been handed out yet. */
  readonly snapshotXmax: bigint;
}

/**
 * The exactly-once page: rows after the cursor whose writing transaction is below
 * the snapshot's xmin -- so no transaction that could still commit a smaller (tx_id, id) is
 * passed over -- in (tx_id, id) order. The xmin comes from the same statement (same snapshot).
 * -- uses drop_events_tx_id_idx (tx_id, id) on each partition: a Merge Append of index range
 * -- scans starting at the cursor, stopped by the LIMIT.
 */
export function newDropsSql(cursor: DropCursor, market: string | undefined, limit: number) {
  const p = new SqlParams();
  const projection = dropProjection(p.add(RARITY_WINDOW_DAYS));
  const after = `(${p.add(cursor.txId.toString())}::xid8, ${p.add(cursor.id.toString())}::bigint)`;
  const marketSql = market ? ` and d.market = ${p.add(market)}` : '';
  const sql = `
with page as (
  select d.tx_id as tx, d.id as idn, d.opened_minute, ${projection}
  from drop_events d
  left join venues v on v.venue_id = d.venue_id
  where (d.tx_id, d.id) > ${after}
    and d.tx_id < pg_snapshot_xmin(pg_current_snapshot())${marketSql}
  order by d.tx_id, d.id
  limit ${p.add(limit)}
)
select s.snapshot_xmin, s.snapshot_xmax, page.*
from (select pg_snapshot_xmin(pg_current_snapshot())::text as snapshot_xmin,
             pg_snapshot_xmax(pg_current_snapshot())::text as snapshot_xmax) s
left join page on true
order by page.tx, page.idn`;
  return { sql, params: p.values };
}

/** A page row: the drop plus the partition key the notify job needs to address it. */
export type NewDropRow = DropRow & { opened_minute: Date | string };

export async function queryNewDrops(
  db: PgClient,
  cursor: DropCursor,
  market: string | undefined,
  limit: number,
): Promise<NewDropsPage & { rows: NewDropRow[] }> {
  const { sql, params } = newDropsSql(cursor, market, limit);
  const { rows } = await db.query<NewDropRow & { snapshot_xmin: string; snapshot_xmax: string; id: string | null }>(
    sql,
    params,
  );
  const snapshotXmin = BigInt(rows[0]?.snapshot_xmin ?? '0');
  const snapshotXmax = BigInt(rows[0]?.snapshot_xmax ?? '0');
  return { rows: rows.filter((r) => r.id !== null), snapshotXmin, snapshotXmax };
}

/** xmin of the current snapshot: the "from now on" cursor is just below it. */
export async function querySnapshotXmin(db: PgClient): Promise<bigint> {
  const { rows } = await db.query<{ xmin: string }>('select pg_snapshot_xmin(pg_current_snapshot())::text as xmin');
  return BigInt(rows[0]?.xmin ?? '0');
}

/**
 * The smallest transaction id among the drops opened within the window: a cursor just below it
 * starts a cursor-less newDrops({ withinMinutes }) with every drop of the window (and whatever
 * committed after them). The smallest id, not the oldest opened_at's: a poll's drops carry the
 * poll's time, and polls that run side by side commit in any order, so the oldest-opened drop
 * need not hold the smallest transaction id.
 * -- uses drop_events_opened_at_idx (opened_at desc): a range scan over the window's rows;
 * -- partitions before the window's first minute are pruned by opened_minute.
 */
export async function queryWindowStartTx(db: PgClient, withinMinutes: number): Promise<bigint | null> {
  const { rows } = await db.query<{ tx_id: string | null }>(
    `select min(d.tx_id)::text as tx_id from drop_events d
     where d.opened_at >= now() - make_interval(mins => $1)
       and d.opened_minute >= date_trunc('minute', now() - make_interval(mins => $2))`,
    [withinMinutes, withinMinutes],
  );
  const tx = rows[0]?.tx_id;
  return tx ? BigInt(tx) : null;
}

export interface NewDropsResult {
  readonly drops: DropDto[];
  readonly rows: NewDropRow[];
  readonly cursor: DropCursor;
  /**
   * The cursor read from names a transaction that did not exist when the page was read, so no
   * server of this database issued it (made up, or from another database). Every cursor handed
   * out is below a snapshot's xmin, and xmax only grows, so a genuine cursor is never flagged.
   * Such a cursor would read nothing until the cluster's transaction ids caught up with it.
   */
  readonly fromFuture: boolean;
}

/**
 * One exactly-once page after `cursor`. When the page is not full, everything below the
 * statement's xmin has been read, so the returned cursor jumps to just below that xmin: the
 * next read starts its index scan there instead of re-walking rows of other markets.
 */
export async function readNewDrops(
  db: PgClient,
  cursor: DropCursor,
  market: string | undefined,
  limit: number,
): Promise<NewDropsResult> {
  const page = await queryNewDrops(db, cursor, market, limit);
  let next = cursor;
  const last = page.rows[page.rows.length - 1];
  if (last) next = { txId: BigInt(last.tx_id), id: BigInt(last.id) };
  if (page.rows.length < limit) {
    const floor = cursorBelowXmin(page.snapshotXmin);
    if (compareCursors(floor, next) > 0) next = floor;
  }
  const fromFuture = cursor.txId >= page.snapshotXmax;
  return { drops: page.rows.map(toDropDto), rows: page.rows, cursor: next, fromFuture };
}

/** Where a reader without a cursor starts: `withinMinutes` back, else from now on. */
export async function startCursor(db: PgClient, withinMinutes: number | undefined): Promise<DropCursor> {
  if (withinMinutes !== undefined) {
    const tx = await queryWindowStartTx(db, withinMinutes);
    if (tx !== null) return { txId: tx > 0n ? tx - 1n : 0n, id: MAX_ID };
  }
  return cursorBelowXmin(await querySnapshotXmin(db));
}
