import { LiveResponseCache } from './live-response-cache.js';

/**
 * How long an anonymous answer of the procedures below is kept: from the moment the request that
 * rendered it arrived, so what the answer shows was read at most this long before it is served.
 */
export const BRIEF_ANSWER_MAX_AGE_MS = 1_000;
/** Distinct URLs (procedures, inputs and their spellings) kept at once; the oldest goes first. */
export const BRIEF_ANSWER_MAX_ENTRIES = 128;

/**
 * Public queries whose anonymous answer may be kept BRIEF_ANSWER_MAX_AGE_MS, alone or in a batch
 * made only of them. Each depends on its input and the database only, never on who asks:
 * - health.buckets: nothing announces a change in it (every poll rewrites its bucket's
 *   `scanned_at` without a NOTIFY, and `stale` moves with the clock); what it shows (scan ages of
 *   buckets polled every few seconds to minutes, replica reads that may lag by seconds) is coarse
 *   beside a second.
 * - health.status: a reading of the database's reachability and of discovery's heartbeat, scan
 *   ages and errors, judged on horizons of tens of seconds; its `checkedAt` says when it was read.
 *   The orchestrator's probes (/healthz, /readyz) are not tRPC and never kept.
 * - feed.live: inside a batch only (alone it has its own cache); a batch holding it also ends at
 *   the next feed.live generation (`invalidate`, on the same NOTIFY as the feed.live cache).
 */
export const BRIEFLY_KEPT_PROCEDURES: ReadonlySet<string> = new Set(['health.buckets', 'health.status', 'feed.live']);

/** Whether a request for `procedures` (already known to be an anonymous GET) may be kept briefly. */
export const keptBriefly = (procedures: readonly string[]): boolean =>
  procedures.length > 0 && procedures.every((p) => BRIEFLY_KEPT_PROCEDURES.has(p));

/**
 * Answers of BRIEFLY_KEPT_PROCEDURES, rendered, serialized and compressed once and served to every
 * identical anonymous GET (same URL) for BRIEF_ANSWER_MAX_AGE_MS at most (docs/architecture.md,
 * "Briefly kept answers"). `Cache-Control: no-cache`: a client or proxy revalidates each time (ETag
 * per encoding), so the bound is not stretched by a cache in front. The caller ends every kept
 * answer (`invalidate`) when feed.live starts a new generation: answers without feed.live go too,
 * which costs one render each, once per NOTIFY.
 */
export function createBriefAnswersCache(): LiveResponseCache {
  return new LiveResponseCache(BRIEF_ANSWER_MAX_AGE_MS, 'no-cache', { maxEntries: BRIEF_ANSWER_MAX_ENTRIES });
}
