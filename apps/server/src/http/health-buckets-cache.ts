import { LiveResponseCache } from './live-response-cache.js';

/**
 * How long an anonymous health.buckets answer is kept: from the moment the request that rendered
 * it arrived, so what the answer shows was read at most this long before it is served.
 */
export const HEALTH_BUCKETS_MAX_AGE_MS = 1_000;
/** Distinct health.buckets requests (market, input spellings) kept at once; the oldest goes first. */
export const HEALTH_BUCKETS_MAX_ENTRIES = 64;

/**
 * health.buckets answers, rendered, serialized and compressed once and served to every identical
 * anonymous GET for HEALTH_BUCKETS_MAX_AGE_MS at most. Nothing announces a change in it (every poll
 * rewrites its bucket's `scanned_at` without a NOTIFY, and `stale` moves with the clock), so unlike
 * feed.newDrops it is kept for a fixed time, short beside what it shows: scan ages of buckets polled
 * every few seconds to minutes, read from the replica when there is one (docs/architecture.md,
 * "health.buckets answers"). `Cache-Control: no-cache`: a client or proxy revalidates each time
 * (ETag per encoding), so the bound is not stretched by a cache in front.
 */
export function createHealthBucketsCache(): LiveResponseCache {
  return new LiveResponseCache(HEALTH_BUCKETS_MAX_AGE_MS, 'no-cache', { maxEntries: HEALTH_BUCKETS_MAX_ENTRIES });
}
