import { FEED_JUST_OPENED_MINUTES } from '@dropwatch/db';

/**
 * Every bound of the API in one place: zod input ranges and the LIMIT of every list query.
 * The ranges of the feed inputs.
 */
export const JUST_OPENED_MINUTES = { min: 1, max: 120, default: FEED_JUST_OPENED_MINUTES } as const;
export const JUST_OPENED_LIMIT = { min: 1, max: 2000, default: 500 } as const;
export const STILL_OPEN_LIMIT = { min: 1, max: 10_000, default: 1000 } as const;
export const NEW_DROPS_LIMIT = { min: 1, max: 500, default: 200 } as const;
/**
 * newDrops without a cursor starts with the drops opened this many minutes back: by default the
 * last hour, so a first call shows something; at most the retention window (older days are gone).
 */
export const NEW_DROPS_WITHIN_MINUTES = { min: 1, max: 30 * 24 * 60, default: 60 } as const;
export const BOARD_LIMIT = { min: 1, max: 500, default: 100 } as const;
/** Segment size of feed.live on the wire; the cache caps bound what exists. */
export const LIVE_LIMIT = { min: 1, max: 5000, default: 100 } as const;

/** Filters: at most this many party sizes / dates in one request. */
export const MAX_PARTY_SIZE_FILTERS = 20;
export const MAX_DATE_FILTERS = 31;

/** Drops read per wake-up of an onDrop subscriber (it loops until caught up). */
export const ON_DROP_PAGE = 200;
/** An onDrop subscriber re-reads at least this often even without a NOTIFY (a missed one, a held-back page). */
export const ON_DROP_FALLBACK_POLL_MS = 5_000;

/** venues.get: the venue's most recent drops returned, and closed drops read for the median. */
export const VENUE_RECENT_DROPS_LIMIT = 50;
export const VENUE_MEDIAN_SAMPLE_LIMIT = 500;
/** venues.history: the venue's most recent drops listed, and the window (days) its counts cover. */
export const VENUE_HISTORY_LIMIT = { min: 1, max: 500, default: 200 } as const;
export const VENUE_HISTORY_DAYS = { min: 1, max: 30, default: 14 } as const;

/** health.buckets: 5 markets × 14 days × 6 time slots is 420; one page always holds them all. */
export const HEALTH_BUCKETS_LIMIT = 500;
/** health.jobs: distinct job names (there are three); bounded all the same. */
export const HEALTH_JOBS_LIMIT = 50;
/** health.tables: tables of the public schema listed at most. */
export const HEALTH_TABLES_LIMIT = 200;
/** A bucket is stale when not scanned for this many times its maximum staleness (or housekeeping passes, if longer). */
export const STALE_BUCKET_FACTOR = 2;
/** The scheduler is considered alive when discovery ran within this many ticks. */
export const HEARTBEAT_TICKS = 5;
/** health.status: degraded after this many bucket cooldowns without one successful poll. */
export const SCAN_QUIET_COOLDOWNS = 6;

/**
 * Procedures in one batched request at most; a larger batch is 400. One request of hundreds of
 * procedures would hold a pool connection for seconds and starve everyone else. The client
 * SDK's batch link splits at the same number.
 */
export const MAX_BATCH_SIZE = 25;

/** Strings in inputs: ids and names are short. */
export const MAX_ID_LENGTH = 120;
export const MAX_NAME_LENGTH = 100;
/** One limit for every opaque cursor string, shared with the notify job. */
export { MAX_CURSOR_LENGTH } from '@dropwatch/db';

/** A subscription ticket (auth.streamTicket) must be redeemed within this many seconds. */
export const STREAM_TICKET_TTL_SECONDS = 60;
/** Unused, unexpired tickets one user may hold at once. */
export const STREAM_TICKETS_PER_USER = 50;

/** Destinations one user may have (destinations.list returns them all). */
export const MAX_DESTINATIONS_PER_USER = 20;
