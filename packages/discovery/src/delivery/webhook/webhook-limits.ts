/** Bounds of the webhook channel. */

/** Each POST must answer within this. */
export const WEBHOOK_TIMEOUT_MS = 5_000;
/**
 * Retries follow Standard Webhooks' advice (back off exponentially, keep trying for about a
 * day): the n-th failure waits min(WEBHOOK_RETRY_BASE_MS × 2^(n-1), WEBHOOK_RETRY_MAX_DELAY_MS):
 * 10 s, 20 s, 40 s … 5.7 h, then 6 h, so the 15th and last attempt comes about 23.4 h after the
 * first. A receiver down for less than a day misses nothing.
 */
export const WEBHOOK_MAX_ATTEMPTS = 15;
export const WEBHOOK_RETRY_BASE_MS = 10_000;
export const WEBHOOK_RETRY_MAX_DELAY_MS = 6 * 3_600_000;
/** Webhook URLs longer than this are refused. */
export const WEBHOOK_URL_MAX_LENGTH = 2_000;
/** Random bytes of a signing secret (shown once, as `whsec_<base64>`: 24 bytes = 32 characters, no padding). */
export const WEBHOOK_SECRET_BYTES = 24;
/** After webhooks.rotateSecret the old secret still signs for this long by default… */
export const WEBHOOK_ROTATION_DEFAULT_HOURS = 24;
/** …and at most this long. */
export const WEBHOOK_ROTATION_MAX_HOURS = 7 * 24;
/** Standard Webhooks 1.0 header names. */
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
