/** Bounds and names of the notify job. Every list query below takes its LIMIT from here. */

/** The job's row in consumer_cursors. */
export const NOTIFY_CURSOR_NAME = 'notify';
/** The job's row in job_leases (singleton across replicas). */
export const NOTIFY_LEASE_NAME = 'notify';
/**
 * Lease time-to-live. The long-lived worker holds the lease for its whole life, renewing it every
 * NOTIFY_LEASE_CHECK_MS; if it dies, a standby replica takes over once the TTL has run out.
 */
export const NOTIFY_LEASE_TTL_MS = 30_000;
/** How often the worker renews its lease, or (standby) tries to take a free or expired one. */
export const NOTIFY_LEASE_CHECK_MS = 5_000;
/** Drops read and fanned out per transaction. */
export const NOTIFY_BATCH_SIZE = 200;
/** Batches (transactions) per run at most; the next run carries on from the cursor. */
export const NOTIFY_MAX_BATCHES_PER_RUN = 25;
/**
 * Where a fresh install's cursor starts: drops opened this many minutes back, so the first run
 * neither floods users with two weeks of history nor misses what opened just before it.
 */
export const NOTIFY_INITIAL_LOOKBACK_MINUTES = 10;
/** A user may hold at most this many watches (includes and excludes together). */
export const MAX_WATCHES_PER_USER = 50;
/**
 * The worker is woken by `NOTIFY dropwatch_drops`; this sweep is only the safety net (a missed
 * notification) and what sends delivery retries when they come due.
 */
export const NOTIFY_SWEEP_MS = 5_000;
/** Delay before the worker's LISTEN connection is re-opened after it broke, doubling up to the max. */
export const NOTIFY_LISTEN_RETRY_MIN_MS = 250;
export const NOTIFY_LISTEN_RETRY_MAX_MS = 10_000;
/**
 * After a NOTIFY whose drops an older open transaction still hides from the cursor, how often the
 * worker checks whether that transaction has ended, and for how long at most (the sweep covers
 * anything longer).
 */
export const NOTIFY_VISIBILITY_POLL_MS = 50;
export const NOTIFY_VISIBILITY_MAX_WAIT_MS = 120_000;
/** A failed pass is retried after this, doubling; after NOTIFY_MAX_FAILED_PASSES in a row the worker fails. */
export const NOTIFY_PASS_RETRY_MIN_MS = 1_000;
export const NOTIFY_MAX_FAILED_PASSES = 5;
/**
 * The worker writes a job_runs row for every pass that did something or failed, and for an idle
 * pass only when the last row is older than this (health shows notify alive without a row per sweep).
 */
export const NOTIFY_IDLE_RECORD_MS = 60_000;
