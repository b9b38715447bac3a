/** Bounds and names of the notify job (DESIGN §6). Every list query below takes its LIMIT from here. */

/** The job's row in consumer_cursors. */
export const NOTIFY_CURSOR_NAME = 'notify';
/** The job's row in job_leases (singleton across replicas). */
export const NOTIFY_LEASE_NAME = 'notify';
/** Lease time-to-live; renewed every third of it while a run lasts. */
export const NOTIFY_LEASE_TTL_MS = 30_000;
/** The channel the notify job NOTIFYs when it committed new notifications (payload: nothing). */
export const NOTIFICATIONS_CHANNEL = 'dropwatch_notifications';
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
/** The notify job runs this often (DESIGN §6). */
export const NOTIFY_INTERVAL_MS = 5_000;
