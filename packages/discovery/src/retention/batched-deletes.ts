import type { RetentionCutoffs } from './cutoffs.js';
import { dayStart } from './cutoffs.js';
import type { RetentionSession } from './retention-session.js';

export type BatchedTable =
  'venue_metrics' | 'job_runs' | 'webhook_deliveries' | 'stream_tickets' | 'destinations' | 'venues';

interface BatchedDeleteSpec {
  readonly table: BatchedTable;
  /** Column that names a row for the outer DELETE: ctid (a TID scan) or the primary key. */
  readonly key: 'ctid' | 'venue_id';
  /** The rows to go, as a predicate on the given alias, with parameters $1… */
  readonly where: (alias: string) => string;
  readonly params: (c: RetentionCutoffs) => unknown[];
}

/**
 * What goes, table by table. Each predicate is evaluated twice per statement — in the LIMITed
 * sub-select and again on the row the DELETE reaches — so a row changed in between (a venue a
 * tick has just seen again) is re-checked on its new version and stays.
 */
export const BATCHED_DELETES: readonly BatchedDeleteSpec[] = [
  {
    // -- uses venue_metrics_day_idx
    table: 'venue_metrics',
    key: 'ctid',
    where: (t) => `${t}.day < $1::date`,
    params: (c) => [c.venueMetricsBeforeDay],
  },
  {
    // -- uses job_runs_started_at_idx
    table: 'job_runs',
    key: 'ctid',
    where: (t) => `${t}.started_at < $1`,
    params: (c) => [c.jobRuns],
  },
  {
    // -- uses webhook_deliveries_created_at_idx
    table: 'webhook_deliveries',
    key: 'ctid',
    where: (t) => `${t}.created_at < $1`,
    params: (c) => [c.jobRuns],
  },
  {
    // Subscription tickets live a minute; an expired one can never be redeemed again.
    // -- uses stream_tickets_expires_at_idx
    table: 'stream_tickets',
    key: 'ctid',
    where: (t) => `${t}.expires_at < $1`,
    params: (c) => [c.now],
  },
  {
    // A destination its receiver declared gone (410, a blocked bot) that the user left disabled
    // for as long as deliveries are kept. Live destinations are bounded per user instead
    // (MAX_DESTINATIONS_PER_USER); an expired push subscription is deleted when it answers 404/410.
    // -- uses destinations_disabled_at_idx
    table: 'destinations',
    key: 'ctid',
    where: (t) => `${t}.disabled_at < $1`,
    params: (c) => [c.jobRuns],
  },
  {
    // -- venues_last_seen_at_idx, then per venue drop_events_venue_opened_idx on the kept
    // partitions only (pruned by opened_minute) and a hash anti-join on availability_state.
    // "Kept" drops are those from the cutoff day's partition on: the same set before and after
    // the old partitions are dropped, so prune.preview counts what prune.now deletes.
    table: 'venues',
    key: 'venue_id',
    where: (v) => `${v}.last_seen_at < $1
      and not exists (select 1 from drop_events d where d.venue_id = ${v}.venue_id and d.opened_minute >= $2)
      and not exists (select 1 from availability_state a where a.venue_id = ${v}.venue_id)`,
    params: (c) => [c.venues, dayStart(c.dropEventsKeepFromDay)],
  },
];

export function countSql(spec: BatchedDeleteSpec): string {
  return `select count(*)::bigint as n from ${spec.table} t where ${spec.where('t')}`;
}

/** The DELETE of one batch; its LIMIT is the parameter after the spec's `paramCount`. */
export function deleteSql(spec: BatchedDeleteSpec, paramCount: number): string {
  const limitParam = `$${paramCount + 1}`;
  const order = spec.key === 'ctid' ? '' : ` order by s.${spec.key}`; // lock keys in sorted order
  return `delete from ${spec.table} t
           where t.${spec.key} = any(array(select s.${spec.key} from ${spec.table} s where ${spec.where('s')}${order} limit ${limitParam}))
             and ${spec.where('t')}`;
}

/** Rows `spec` would delete now. */
export async function countBatched(
  session: RetentionSession,
  spec: BatchedDeleteSpec,
  cutoffs: RetentionCutoffs,
): Promise<number> {
  const { rows } = await session.client.query<{ n: string }>(countSql(spec), spec.params(cutoffs));
  return Number(rows[0]?.n ?? 0);
}

/**
 * Deletes batchSize rows a statement — each statement its own short autocommit transaction
 * under the session's lock_timeout — until a statement finds fewer than batchSize.
 */
export async function deleteInBatches(
  session: RetentionSession,
  spec: BatchedDeleteSpec,
  cutoffs: RetentionCutoffs,
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  const specParams = spec.params(cutoffs);
  const sql = deleteSql(spec, specParams.length);
  const params = [...specParams, batchSize];
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const deleted = await session.retrying(
      `delete ${spec.table}`,
      async () => (await session.client.query(sql, params)).rowCount ?? 0,
    );
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
