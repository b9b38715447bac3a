import type { Logger } from 'pino';
import type { PgClient } from '../tick/pg-session.js';
import { retryDelayMs, type DeliveryChannel, type RetryPolicy, type SendOutcome } from './delivery-channel.js';
import type { DeliveryEvent } from './delivery-event.js';
import {
  DELIVERY_CLAIM_LIMIT,
  DELIVERY_CLAIM_MS,
  DELIVERY_CONCURRENCY,
  DELIVERY_ERROR_MAX,
  DELIVERY_PHASE_BUDGET_MS,
} from './delivery-limits.js';

export interface DeliveryOptions {
  readonly allowPrivate: boolean;
  /** Overrides of every channel's own timeout and retry policy (tests shorten the backoff). */
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxDelayMs?: number;
  readonly concurrency?: number;
  readonly budgetMs?: number;
}

export interface DeliveryStats {
  claimed: number;
  /** Claimed but not sent within the run's budget: released for the next run. */
  released: number;
  delivered: number;
  retried: number;
  failed: number;
  /** Destinations turned off because they answered "gone". */
  disabled: number;
}

export const emptyDeliveryStats = (): DeliveryStats => ({
  claimed: 0,
  released: 0,
  delivered: 0,
  retried: 0,
  failed: 0,
  disabled: 0,
});

interface ClaimedRow {
  id: string;
  channel: string;
  user_id: string;
  payload: DeliveryEvent;
  attempts: number;
}

/**
 * Claims due deliveries of the given channels: pending, next_attempt_at passed, oldest first,
 * LIMIT, and pushes their next_attempt_at out by DELIVERY_CLAIM_MS so a concurrent worker skips
 * them (SKIP LOCKED) and a crashed sender's claim simply lapses. Its own short transaction: no
 * send happens while a row lock is held.
 * -- uses webhook_deliveries_due_idx (next_attempt_at) where status = 'pending'.
 */
const CLAIM_SQL = `
with due as (
  select id from webhook_deliveries
  where status = 'pending' and next_attempt_at <= now() and channel = any($3::text[])
  order by next_attempt_at
  limit $1
  for update skip locked
)
update webhook_deliveries d
set next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
from due
where d.id = due.id
returning d.id::text as id, d.channel, d.user_id::text as user_id, d.payload, d.attempts`;

const DELIVERED_SQL = `
update webhook_deliveries
set status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_error = null
where id = $1`;

/** attempts + 1; failed at the limit ($3), else due again after $4 ms. */
const FAILED_ATTEMPT_SQL = `
update webhook_deliveries
set attempts = attempts + 1,
    last_error = $2,
    status = case when attempts + 1 >= $3 then 'failed' else 'pending' end,
    next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
where id = $1
returning status`;

/** A destination that is gone: its user's other pending deliveries on that channel end too. */
const CANCEL_PENDING_SQL = `
update webhook_deliveries set status = 'failed', last_error = $3
where user_id = $1 and channel = $2 and status = 'pending'`;

const cut = (s: string) => s.slice(0, DELIVERY_ERROR_MAX);

/**
 * Sends every due delivery of `channels`, at most `concurrency` at a time; each outcome is
 * written as soon as its send ends, so a slow destination delays nobody else. Runs outside the
 * notify transaction and never touches the notify cursor. A crash between a send and its
 * record means the row is sent again after its claim lapses, with the same id: receivers dedupe
 * on it (at-least-once on the wire, exactly once for a receiver that keeps the ids it has seen).
 */
export async function deliverDue(
  db: PgClient,
  logger: Logger,
  channels: readonly DeliveryChannel[],
  options: DeliveryOptions,
): Promise<DeliveryStats> {
  const stats = emptyDeliveryStats();
  const deadline = Date.now() + (options.budgetMs ?? DELIVERY_PHASE_BUDGET_MS);
  const byName = new Map(channels.map((c) => [c.name, c]));
  const { rows } = await db.query<ClaimedRow>(CLAIM_SQL, [DELIVERY_CLAIM_LIMIT, DELIVERY_CLAIM_MS, [...byName.keys()]]);
  stats.claimed = rows.length;
  if (rows.length === 0) return stats;

  // Targets are read after the claim, per channel: a changed URL or a rotated secret applies to
  // what is still pending, and a removed or disabled destination gets nothing.
  const targets = new Map<string, Map<string, unknown>>();
  for (const channel of channels) {
    const users = [...new Set(rows.filter((r) => r.channel === channel.name).map((r) => r.user_id))];
    if (users.length > 0) targets.set(channel.name, await channel.loadTargets(db, users));
  }

  const policyOf = (channel: DeliveryChannel): RetryPolicy => ({
    maxAttempts: options.maxAttempts ?? channel.retry.maxAttempts,
    baseMs: options.retryBaseMs ?? channel.retry.baseMs,
    maxDelayMs: options.retryMaxDelayMs ?? channel.retry.maxDelayMs,
  });

  // Destinations found gone during this run: their rows still queued here were cancelled with
  // them and are not sent (one already in flight may still arrive).
  const gone = new Set<string>();
  const goneKey = (channel: string, userId: string) => `${channel}\u0000${userId}`;

  const record = async (channel: DeliveryChannel, row: ClaimedRow, outcome: SendOutcome): Promise<void> => {
    if (outcome.kind === 'delivered') {
      await db.query(DELIVERED_SQL, [row.id]);
      stats.delivered++;
      return;
    }
    const policy = policyOf(channel);
    const limit = outcome.kind === 'retryable' ? policy.maxAttempts : 0;
    const res = await db.query<{ status: string }>(FAILED_ATTEMPT_SQL, [
      row.id,
      cut(outcome.error),
      limit,
      retryDelayMs(policy, row.attempts + 1),
    ]);
    if (res.rows[0]?.status !== 'failed') {
      stats.retried++;
      return;
    }
    stats.failed++;
    if (outcome.kind === 'gone') {
      gone.add(goneKey(channel.name, row.user_id));
      const reason = cut(`${outcome.error}: the destination answered that it is gone`);
      await channel.disable(db, row.user_id, reason);
      await db.query(CANCEL_PENDING_SQL, [
        row.user_id,
        channel.name,
        cut(`${channel.name} disabled: ${outcome.error}`),
      ]);
      stats.disabled++;
      logger.warn(
        { deliveryId: row.id, channel: channel.name, userId: row.user_id, error: outcome.error },
        'destination gone: disabled',
      );
    } else {
      logger.warn(
        { deliveryId: row.id, channel: channel.name, attempts: row.attempts + 1, error: outcome.error },
        'delivery failed for good',
      );
    }
  };

  const sendOne = async (row: ClaimedRow): Promise<void> => {
    const channel = byName.get(row.channel);
    if (!channel) return; // not claimed: the claim is filtered to these channels
    if (gone.has(goneKey(channel.name, row.user_id))) return;
    const target = targets.get(channel.name)?.get(row.user_id) ?? null;
    const delivery = { id: row.id, userId: row.user_id, attempts: row.attempts, event: row.payload, target };
    const outcome: SendOutcome =
      delivery.target === null
        ? { kind: 'permanent', status: null, error: `${channel.name} removed or disabled` }
        : await channel.send(
            { ...delivery, target: delivery.target },
            { allowPrivate: options.allowPrivate, timeoutMs: options.timeoutMs ?? channel.timeoutMs },
          );
    await record(channel, row, outcome);
  };

  // A fixed pool of workers over one queue: at most `concurrency` sends in flight.
  const queue = [...rows];
  const workers = Array.from(
    { length: Math.min(options.concurrency ?? DELIVERY_CONCURRENCY, queue.length) },
    async () => {
      while (Date.now() < deadline) {
        const row = queue.shift();
        if (!row) break;
        await sendOne(row);
      }
    },
  );
  await Promise.all(workers);
  if (queue.length > 0) {
    await db.query('update webhook_deliveries set next_attempt_at = now() where id = any($1::bigint[])', [
      queue.map((r) => r.id),
    ]);
    stats.released = queue.length;
  }
  return stats;
}
