import type { Config } from '@dropwatch/core';

/** The settings retention reads (of the one validated Config; the job passes the whole of it). */
export type RetentionConfig = Pick<
  Config,
  | 'DROP_EVENTS_RETENTION_DAYS'
  | 'NOTIFICATIONS_RETENTION_DAYS'
  | 'VENUE_RETENTION_DAYS'
  | 'VENUE_METRICS_RETENTION_DAYS'
  | 'JOB_RUNS_RETENTION_DAYS'
  | 'PRUNE_BATCH_SIZE'
  | 'PARTITION_PREMAKE_DAYS'
>;

/** Name of the job_leases row and of the job_runs rows. */
export const RETENTION_JOB = 'retention';
/** A lease outlives a stalled holder by at most this; the holder renews it every third of it. */
export const RETENTION_LEASE_TTL_MS = 5 * 60_000;
/** Each DDL or DELETE statement waits at most this long for a lock before it gives up… */
export const RETENTION_LOCK_TIMEOUT_MS = 3_000;
/** …and is retried this many times, with a growing pause. */
export const RETENTION_LOCK_RETRIES = 4;
export const RETENTION_RETRY_BASE_MS = 250;
/** Past buckets removed per transaction (each holds at most BUCKET_SLOT_CAP slots). */
export const PAST_BUCKETS_PER_TRANSACTION = 10;
/** Upper bound on the partitions one listing reads (~days of retention plus premade days). */
export const PARTITION_LIST_LIMIT = 1_000;
