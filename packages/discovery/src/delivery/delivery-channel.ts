import type { z } from 'zod';
import type { DestinationChannelName } from '@dropwatch/db';
import type { DeliveryEvent } from './delivery-event.js';
import type { ChannelEnv } from './channel-env.js';

/**
 * What one attempt to send came to. The loop records it the same way for every channel:
 * - `delivered`: done;
 * - `retryable`: tried again after the channel's backoff, until its attempts run out;
 * - `permanent`: this delivery can never succeed (a refused address, a removed destination);
 *   failed now, the destination stays as it is;
 * - `gone`: the destination says it no longer exists (410 from a webhook, 404/410 from a push
 *   service, a Telegram chat that blocked the bot): this delivery fails, the destination is
 *   disabled (or removed, for a push subscription), and its other pending deliveries end.
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
export interface Delivery {
  /**
   * The outbox row's id: the idempotency key (a webhook's `webhook-id`, ntfy's sequence id, an
   * email's Message-ID), the same on every retry. Test sends use `test_<uuid>`.
   */
  readonly id: string;
  readonly userId: string;
  /** Attempts made before this one. */
  readonly attempts: number;
  readonly event: DeliveryEvent;
}

/** A destination as a send needs it, read at each attempt (a change applies to what is pending). */
export interface DestinationTarget<Settings = Record<string, unknown>, Secrets = Record<string, unknown>> {
  readonly id: string;
  readonly userId: string;
  readonly channel: DestinationChannelName;
  readonly settings: Settings;
  readonly secrets: Secrets;
  /** When the destination's quiet hours end, while they hold; null otherwise. */
  readonly quietUntil: Date | null;
}

export interface SendContext {
  readonly allowPrivate: boolean;
  readonly timeoutMs: number;
  readonly env: ChannelEnv;
}

export interface PrepareContext {
  readonly allowPrivate: boolean;
  readonly env: ChannelEnv;
}

/** What a destination stores: public settings (the API shows them) and secrets (never shown again). */
export interface PreparedDestination<Settings, Secrets> {
  readonly settings: Settings;
  readonly secrets: Secrets;
  /** Secrets to show the user this once (a generated signing secret, the tokens they gave). */
  readonly shownOnce: Record<string, string>;
}

/**
 * A notification delivery channel. Adding one = a folder under delivery/ implementing this, its
 * entry in DELIVERY_CHANNELS (channels.ts) and its name in DESTINATION_CHANNELS (db). The
 * fan-out (one outbox row per notification and routed destination), the claim with `for update
 * skip locked`, quiet hours, the time budget, per-channel concurrency and recording outcomes with
 * backoff are shared (deliver-due.ts); a channel says what its settings are and how one send goes.
 *
 * @typeParam Input what a user submits (beside `channel` and the fields every destination has)
 * @typeParam Settings what is stored and shown; @typeParam Secrets what is stored and never shown
 */
export interface DeliveryChannel<Input = unknown, Settings = unknown, Secrets = unknown> {
  readonly name: DestinationChannelName;
  /** The shape of what a user submits (a zod object without `channel`): the API builds its union of these. */
  readonly input: z.ZodType<Input>;
  /** Settings a user may change later (`destinations.update`); secrets are set only when adding. */
  readonly updateInput: z.ZodType<Partial<Settings>>;
  /** Checks beyond the shape (the SSRF guard on URLs); throws AppError BAD_INPUT with a readable message. */
  prepare(input: Input, ctx: PrepareContext): Promise<PreparedDestination<Settings, Secrets>>;
  /** Applies a change of settings (already parsed by updateInput), with the same checks as prepare. */
  update(current: Settings, patch: Partial<Settings>, ctx: PrepareContext): Promise<Settings>;
  /** One attempt. Must not throw for a failed send: report it as an outcome. */
  send(delivery: Delivery, target: DestinationTarget<Settings, Secrets>, ctx: SendContext): Promise<SendOutcome>;
  /** After `gone`: keep the destination disabled (the user sees why) or delete it (an expired push subscription). */
  readonly onGone: 'disable' | 'remove';
  readonly retry: RetryPolicy;
  /** Each send must finish within this. */
  readonly timeoutMs: number;
  /** Sends of this channel in flight at once per run: a slow channel never takes another's slots. */
  readonly concurrency: number;
}

/**
 * A channel as the shared code drives it: settings and secrets arrive from the database as JSON,
 * input from the API already parsed by the channel's own schema.
 */
export type AnyChannel = DeliveryChannel<unknown, Record<string, unknown>, Record<string, unknown>>;

/** The delay before the next attempt after `attempts` failed ones (1-based). */
export function retryDelayMs(policy: RetryPolicy, attempts: number): number {
  return Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), policy.maxDelayMs);
}
