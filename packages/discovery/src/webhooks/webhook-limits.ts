/** Bounds of webhook delivery. */

/** Each POST must answer within this. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/** Attempts per delivery before it is marked failed with its last error. */
export const WEBHOOK_MAX_ATTEMPTS = 5;
/** Backoff after the n-th failed attempt: base × 2^(n-1) (2 s, 4 s, 8 s, 16 s). */
export const WEBHOOK_RETRY_BASE_MS = 2_000;
/** Deliveries sent at once; a slow receiver holds one slot, never the others. */
export const WEBHOOK_CONCURRENCY = 16;
/**
 * A run starts no new POST after this long, so slow receivers delay the next fan-out by at most
 * this plus one timeout; claimed but unsent deliveries are released, due at once for the next run.
 */
export const WEBHOOK_PHASE_BUDGET_MS = 2_000;
/** Due deliveries claimed per run at most. */
export const WEBHOOK_CLAIM_LIMIT = 500;
/**
 * A claimed delivery is not due again for this long: a worker that dies mid-send lets another
 * retry it after this. Longer than the timeout, so a live sender always finishes first.
 */
export const WEBHOOK_CLAIM_MS = 60_000;
/** last_error is cut to this length. */
export const WEBHOOK_ERROR_MAX = 500;
/** Webhook URLs longer than this are refused. */
export const WEBHOOK_URL_MAX_LENGTH = 2_000;
/** Bytes of the per-user signing secret (shown once, as `whsec_<base64url>`). */
export const WEBHOOK_SECRET_BYTES = 32;
export const SIGNATURE_HEADER = 'X-Dropwatch-Signature';
export const TIMESTAMP_HEADER = 'X-Dropwatch-Timestamp';
