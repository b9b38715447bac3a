import type pg from 'pg';

/** How far a hot standby's replay is behind its primary, as the standby itself sees it. */
export interface ReplicaLag {
  /** false: the server is a primary (nothing to lag behind); lagSeconds is then null. */
  readonly standby: boolean;
  /**
   * Seconds between now and the commit time of the last transaction replayed, or 0 when the
   * standby has replayed everything it received. null on a primary, and on a standby that has
   * not replayed a commit since it started (there is no timestamp to measure from).
   */
  readonly lagSeconds: number | null;
}

/**
 * The usual lag measure of a streaming standby: with nothing received and not yet replayed it
 * is caught up (0, even when the primary is idle and the last commit is old); otherwise the age
 * of the last replayed commit. It cannot see WAL the primary has not sent yet (a broken
 * connection shows as 0 until wal_receiver_timeout ends it; the standby then replays nothing
 * new and the age grows once WAL arrives again).
 */
export const REPLICA_LAG_SQL = `
select pg_is_in_recovery() as standby,
       case when not pg_is_in_recovery() then null
            when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn() then 0
            else greatest(0, extract(epoch from now() - pg_last_xact_replay_timestamp()))
       end::float8 as lag_seconds`;

export async function queryReplicaLag(db: Pick<pg.ClientBase, 'query'>): Promise<ReplicaLag> {
  const { rows } = await db.query<{ standby: boolean; lag_seconds: number | null }>(REPLICA_LAG_SQL);
  const row = rows[0];
  return { standby: row?.standby ?? false, lagSeconds: row?.lag_seconds ?? null };
}
