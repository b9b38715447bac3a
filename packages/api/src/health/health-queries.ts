import { JobRun, SqlParams, type EntityManager, type PgClient } from '@dropwatch/db';
import { HEALTH_BUCKETS_LIMIT, HEALTH_JOBS_LIMIT, HEALTH_TABLES_LIMIT } from '../limits.js';

export interface BucketRow {
  bucket_id: string;
  market: string;
  date: string;
  time_slot: string;
  scanned_at: Date | null;
  slot_count: number;
  poll_interval_seconds: number | null;
  baseline_complete: boolean;
  stale: boolean;
  last_error: string | null;
  last_error_at: Date | null;
}

/**
 * health.buckets in ONE query.
 * -- uses discovery_buckets_market_date_idx when a market is given; the table holds at most
 * -- markets × window days × time slots rows (≤ 420), LIMIT HEALTH_BUCKETS_LIMIT.
 */
export function bucketsSql(market: string | undefined, staleSeconds: number) {
  const p = new SqlParams();
  const stale = p.add(staleSeconds);
  const where = market ? `where b.market = ${p.add(market)}` : '';
  const sql = `
select b.bucket_id, b.market, to_char(b.date, 'YYYY-MM-DD') as date, b.time_slot, b.scanned_at,
       b.slot_count, b.poll_interval_seconds, b.baseline_complete, b.last_error, b.last_error_at,
       (b.scanned_at is null or b.scanned_at < now() - make_interval(secs => ${stale})) as stale
from discovery_buckets b
${where}
order by b.market, b.date, b.time_slot
limit ${p.add(HEALTH_BUCKETS_LIMIT)}`;
  return { sql, params: p.values };
}

export async function queryBuckets(
  db: PgClient,
  market: string | undefined,
  staleSeconds: number,
): Promise<BucketRow[]> {
  const { sql, params } = bucketsSql(market, staleSeconds);
  return (await db.query<BucketRow>(sql, params)).rows;
}

export interface StatusRow {
  last_discovery_at: Date | null;
  buckets: string;
  stale: string;
  auth_errors: string;
  /** Buckets whose last poll failed (a failed poll sets last_error, a good one clears it). */
  failed_last: string;
  /** Newest scan of a bucket whose last poll succeeded: when discovery last saw the provider answer. */
  last_good_scan_at: Date | null;
  /** Newest poll of any bucket, failed or not. */
  last_scan_at: Date | null;
}

/**
 * Everything health.status looks at, in one round trip.
 * -- uses job_runs_job_started_idx (job, started_at desc): one row; discovery_buckets is small.
 */
export async function queryStatus(db: PgClient, staleSeconds: number): Promise<StatusRow | undefined> {
  const { rows } = await db.query<StatusRow>(
    `select
       (select coalesce(r.finished_at, r.started_at) from job_runs r
         where r.job = 'discovery' order by r.started_at desc limit 1) as last_discovery_at,
       (select count(*) from discovery_buckets)::text as buckets,
       (select count(*) from discovery_buckets b
         where b.scanned_at is null or b.scanned_at < now() - make_interval(secs => $1))::text as stale,
       (select count(*) from discovery_buckets b
         where b.last_error ~* '^\\W*(auth|blocked)')::text as auth_errors,
       (select count(*) from discovery_buckets b where b.last_error is not null)::text as failed_last,
       (select max(b.scanned_at) from discovery_buckets b where b.last_error is null) as last_good_scan_at,
       (select max(b.scanned_at) from discovery_buckets b) as last_scan_at`,
    [staleSeconds],
  );
  return rows[0];
}

export interface JobRow {
  job: string;
  started_at: Date;
  finished_at: Date | null;
  status: string;
  stats: unknown;
  error: string | null;
}

/** A job_runs row as the JobRun entity maps it. */
interface LastRun {
  job: string;
  startedAt: Date;
  finishedAt?: Date | null;
  status: string;
  stats: unknown;
  error?: string | null;
}

/**
 * The last run of each job, through the JobRun entity: a walk over job names, each step one
 * probe of job_runs_job_started_idx (job, started_at desc) that gives the newest run of the next
 * job name. A handful of jobs make a handful of short statements; a distinct over the table would
 * read every run kept (days of a run every few seconds).
 */
export async function queryLastJobs(em: EntityManager): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  let after: string | null = null;
  while (rows.length < HEALTH_JOBS_LIMIT) {
    const run: LastRun | undefined = await em
      .createQueryBuilder(JobRun)
      .select('*')
      .where(after === null ? {} : { job: { $gt: after } })
      .orderBy([{ job: 'asc' }, { startedAt: 'desc' }])
      .limit(1)
      .execute<LastRun | undefined>('get', true);
    if (!run) break;
    rows.push({
      job: run.job,
      started_at: run.startedAt,
      finished_at: run.finishedAt ?? null,
      status: run.status,
      stats: run.stats,
      error: run.error ?? null,
    });
    after = run.job;
  }
  return rows;
}

export interface TableRow {
  table: string;
  partitioned: boolean;
  partitions: string;
  row_estimate: string;
  bytes: string;
}

/** Row estimates and sizes from the catalog (no table scan); partitioned tables sum their partitions. */
export async function queryTables(db: PgClient): Promise<TableRow[]> {
  const { rows } = await db.query<TableRow>(
    `select c.relname as "table", c.relkind = 'p' as partitioned,
       (select count(*) from pg_inherits i where i.inhparent = c.oid)::text as partitions,
       (case when c.relkind = 'p'
          then (select coalesce(sum(greatest(ch.reltuples, 0)), 0) from pg_inherits i
                join pg_class ch on ch.oid = i.inhrelid where i.inhparent = c.oid)
          else greatest(c.reltuples, 0) end)::bigint::text as row_estimate,
       (case when c.relkind = 'p'
          then (select coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) from pg_inherits i
                where i.inhparent = c.oid)
          else pg_total_relation_size(c.oid) end)::text as bytes
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
     order by c.relname
     limit $1`,
    [HEALTH_TABLES_LIMIT],
  );
  return rows;
}
