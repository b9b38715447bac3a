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
