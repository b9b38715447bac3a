/** Bounds of the webhook channel; its timeout, retries and URL length are every channel's (delivery-limits.ts). */

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
