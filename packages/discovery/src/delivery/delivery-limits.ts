import type { RetryPolicy } from './delivery-channel.js';

/** Bounds of the delivery loop, shared by every channel. */

/** Deliveries sent at once per run; a slow destination holds one slot, never the others. */
export const DELIVERY_CONCURRENCY = 16;
/**
 * A run starts no new send after this long, so slow destinations delay the next fan-out by at
 * most this plus one channel timeout; claimed but unsent deliveries are released, due at once.
 */
export const DELIVERY_PHASE_BUDGET_MS = 2_000;
/** Due deliveries claimed per run at most. */
export const DELIVERY_CLAIM_LIMIT = 500;
/**
 * A claimed delivery is not due again for this long: a worker that dies mid-send lets another
 * retry it after this. Longer than any channel's timeout, so a live sender always finishes first.
 */
export const DELIVERY_CLAIM_MS = 60_000;
/** last_error is cut to this length. */
export const DELIVERY_ERROR_MAX = 500;
/** Each request of an HTTP channel (webhook, ntfy, Telegram, Web Push) must answer within this. */
export const DELIVERY_HTTP_TIMEOUT_MS = 5_000;
/**
 * Every channel retries as Standard Webhooks advises (back off exponentially, keep trying for
 * about a day): the n-th failure waits min(DELIVERY_RETRY_BASE_MS × 2^(n-1),
 * DELIVERY_RETRY_MAX_DELAY_MS): 10 s, 20 s, 40 s … 5.7 h, then 6 h, so the 15th and last attempt
 * comes about 23.4 h after the first. A destination down for less than a day misses nothing.
 */
export const DELIVERY_MAX_ATTEMPTS = 15;
export const DELIVERY_RETRY_BASE_MS = 10_000;
export const DELIVERY_RETRY_MAX_DELAY_MS = 6 * 3_600_000;
export const DELIVERY_RETRY: RetryPolicy = {
  maxAttempts: DELIVERY_MAX_ATTEMPTS,
  baseMs: DELIVERY_RETRY_BASE_MS,
  maxDelayMs: DELIVERY_RETRY_MAX_DELAY_MS,
};
/** Destination URLs (a webhook, an ntfy topic, a push endpoint) longer than this are refused. */
export const DELIVERY_URL_MAX_LENGTH = 2_000;
