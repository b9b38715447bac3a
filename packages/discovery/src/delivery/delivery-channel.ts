import type { PgClient } from '../tick/pg-session.js';
import type { DeliveryEvent } from './delivery-event.js';

/**
 * What one attempt to send came to. The loop records it the same way for every channel:
 * - `delivered`: done;
 * - `retryable`: tried again after the channel's backoff, until its attempts run out;
 * - `permanent`: this delivery can never succeed (a refused address, a removed destination);
 *   failed now, the destination stays as it is;
 * - `gone`: the destination says it no longer exists (HTTP 410 for a webhook): this delivery
 *   fails, the channel disables the destination, and its other pending deliveries are cancelled.
 */
export type SendOutcome =
  | { readonly kind: 'delivered'; readonly status: number | null }
  | { readonly kind: 'retryable'; readonly status: number | null; readonly error: string }
  | { readonly kind: 'permanent'; readonly status: number | null; readonly error: string }
  | { readonly kind: 'gone'; readonly status: number | null; readonly error: string };

/** How often and how long a channel retries: delay after the n-th failure = min(base × 2^(n-1), max). */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxDelayMs: number;
}

/** One claimed outbox row, as the channel sees it. */
export interface Delivery<Target> {
  /** The outbox row's id: the idempotency key a receiver dedupes on (the same on every retry). */
  readonly id: string;
  readonly userId: string;
  /** Attempts made before this one. */
  readonly attempts: number;
  readonly event: DeliveryEvent;
  /** Where to send it now; null when the user removed or disabled the destination meanwhile. */
  readonly target: Target | null;
}

export interface SendContext {
  readonly allowPrivate: boolean;
  readonly timeoutMs: number;
}

/**
 * A notification delivery channel. Adding one = a folder under delivery/ implementing this, and
 * its entry in DELIVERY_CHANNELS (channels.ts). The fan-out, the claim with `for update skip
 * locked`, the time budget, concurrency and recording outcomes with backoff are shared
 * (deliver-due.ts); a channel only says who receives it, where, and how one send goes.
 *
 * @typeParam Settings what a user configures (validated when they set it)
 * @typeParam Target what a send needs, loaded fresh at each attempt (a changed URL or rotated
 *   secret applies to deliveries still pending)
 */
export interface DeliveryChannel<Settings = unknown, Target = unknown> {
  /** Stored in the outbox row's `channel` column: lowercase letters, digits and `_` only. */
  readonly name: string;
  /** Validates what a user submits; throws AppError BAD_INPUT with a readable message. */
  validateSettings(raw: unknown, ctx: { readonly allowPrivate: boolean }): Promise<Settings>;
  /**
   * A SQL condition over `u` (the notified user's `users` row): true when this user receives
   * this channel. The fan-out writes one outbox row per (notification, channel) where it holds,
   * in the notification's own transaction.
   */
  readonly recipientSql: string;
  /** Current targets of these users (absent: nothing to send to any more). */
  loadTargets(db: PgClient, userIds: readonly string[]): Promise<Map<string, Target>>;
  /** One attempt. Must not throw for a failed send: report it as an outcome. */
  send(delivery: Delivery<Target> & { readonly target: Target }, ctx: SendContext): Promise<SendOutcome>;
  /** After a `gone` outcome: turn the destination off, saying why (the API shows it). */
  disable(db: PgClient, userId: string, reason: string): Promise<void>;
  readonly retry: RetryPolicy;
  /** Each send must finish within this (connect, send, answer). */
  readonly timeoutMs: number;
}

/** The delay before the next attempt after `attempts` failed ones (1-based). */
export function retryDelayMs(policy: RetryPolicy, attempts: number): number {
  return Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), policy.maxDelayMs);
}
