import type { Logger } from 'pino';
import type { PgClient } from '@dropwatch/db';
import type { ChannelEnv } from './channel-env.js';
import {
  retryDelayMs,
  type AnyChannel,
  type DestinationTarget,
  type RetryPolicy,
  type SendOutcome,
} from './delivery-channel.js';
import type { DeliveryEvent } from './delivery-event.js';
import {
  DELIVERY_CLAIM_LIMIT,
  DELIVERY_CLAIM_MS,
  DELIVERY_ERROR_MAX,
  DELIVERY_PHASE_BUDGET_MS,
} from './delivery-limits.js';
import {
  CANCEL_DESTINATION_SQL,
  DELIVERED_SQL,
  DEFER_SQL,
  DESTINATION_TARGETS_SQL,
  DISABLE_DESTINATION_SQL,
  FAILED_ATTEMPT_SQL,
  REMOVE_DESTINATION_SQL,
  toTarget,
  type DestinationTargetRow,
} from './destination-sql.js';

export interface DeliveryOptions {
  readonly allowPrivate: boolean;
  readonly env: ChannelEnv;
  /** Overrides of every channel's own timeout and retry policy (tests shorten the backoff). */
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxDelayMs?: number;
  /** Sends in flight per channel (default: the channel's own). */
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
  /** Destinations turned off (or removed) because they answered "gone". */
  disabled: number;
  /** Claimed during the destination's quiet hours: due again when they end, no attempt counted. */
  deferred: number;
  /** Channels whose claim came back full (DELIVERY_CLAIM_LIMIT): more may be due right away. */
  fullClaims: number;
}

export const emptyDeliveryStats = (): DeliveryStats => ({
  claimed: 0,
  released: 0,
  delivered: 0,
  retried: 0,
  failed: 0,
  disabled: 0,
  deferred: 0,
  fullClaims: 0,
});

interface ClaimedRow {
  id: string;
  user_id: string;
  destination_id: string | null;
  payload: DeliveryEvent;
  attempts: number;
}

/**
 * Claims due deliveries of ONE channel: pending, next_attempt_at passed, oldest first, LIMIT,
 * and pushes their next_attempt_at out by DELIVERY_CLAIM_MS so a concurrent worker skips them
 * (SKIP LOCKED) and a crashed sender's claim simply lapses. Its own short transaction: no send
 * happens while a row lock is held. One claim per channel, so a backlog of one channel (an SMTP
 * server down for an hour) never fills the claims of the others.
 * -- uses webhook_deliveries_channel_due_idx (channel, next_attempt_at) where status = 'pending'.
 */
const CLAIM_SQL = `
with due as (
  select id from webhook_deliveries
  where status = 'pending' and channel = $3 and next_attempt_at <= now()
  order by next_attempt_at
  limit $1
  for update skip locked
)
update webhook_deliveries d
set next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
from due
where d.id = due.id
returning d.id::text as id, d.user_id::text as user_id, d.destination_id::text as destination_id, d.payload, d.attempts`;

const RELEASE_SQL = 'update webhook_deliveries set next_attempt_at = now() where id = any($1::bigint[])';

/**
 * The channels with a delivery due now: one statement instead of a claim per channel, since a
 * pass runs on every new drop and most find nothing due. A row that falls due right after is
 * claimed by the next pass (or the safety-net sweep), as it would be after a claim.
 * -- one probe of webhook_deliveries_channel_due_idx (channel, next_attempt_at) per channel.
 */
const DUE_CHANNELS_SQL = `
select c.name from unnest($1::text[]) as c(name)
where exists (
  select 1 from webhook_deliveries
  where status = 'pending' and channel = c.name and next_attempt_at <= now()
)`;

const cut = (s: string) => s.slice(0, DELIVERY_ERROR_MAX);

/**
 * Sends every due delivery of `channels`. Each channel runs on its own: its own claim, at most
 * its `concurrency` sends in flight, all channels at once under one time budget, so a slow or
 * failing channel delays no other. Each outcome is written as soon as its send ends. Runs outside
 * the notify transaction and never touches the notify cursor. A crash between a send and its
 * record means the row is sent again after its claim lapses, with the same id (the idempotency
 * key where a channel has one; docs/architecture.md lists each channel's guarantee).
 */
export async function deliverDue(
  db: PgClient,
  logger: Logger,
  channels: readonly AnyChannel[],
  options: DeliveryOptions,
): Promise<DeliveryStats> {
  const stats = emptyDeliveryStats();
  const deadline = Date.now() + (options.budgetMs ?? DELIVERY_PHASE_BUDGET_MS);
  const due = await db.query<{ name: string }>(DUE_CHANNELS_SQL, [channels.map((c) => c.name)]);
  const dueNames = new Set(due.rows.map((r) => r.name));
  const one = oneAtATime(db);
  await Promise.all(
    channels
      .filter((channel) => dueNames.has(channel.name))
      .map((channel) => deliverChannel(one, logger, channel, options, deadline, stats)),
  );
  return stats;
}

/**
 * The channels share one connection; a pg client runs one query at a time, so their short
 * statements queue here (in order) rather than inside the driver, which deprecates that.
 */
function oneAtATime(db: PgClient): PgClient {
  let tail: Promise<unknown> = Promise.resolve();
  const query = ((...args: Parameters<PgClient['query']>) => {
    const run = tail.then(() => (db.query as (...a: unknown[]) => Promise<unknown>)(...args));
    tail = run.catch(() => undefined);
    return run;
  }) as PgClient['query'];
  return { query };
}

async function deliverChannel(
  db: PgClient,
  logger: Logger,
  channel: AnyChannel,
  options: DeliveryOptions,
  deadline: number,
  stats: DeliveryStats,
): Promise<void> {
  const { rows } = await db.query<ClaimedRow>(CLAIM_SQL, [DELIVERY_CLAIM_LIMIT, DELIVERY_CLAIM_MS, channel.name]);
  stats.claimed += rows.length;
  if (rows.length === DELIVERY_CLAIM_LIMIT) stats.fullClaims++;
  if (rows.length === 0) return;

  // Destinations are read after the claim: a changed URL or a rotated secret applies to what is
  // still pending, and a removed or disabled destination gets nothing.
  const ids = [...new Set(rows.map((r) => r.destination_id).filter((id): id is string => id !== null))];
  const targets = new Map<string, DestinationTarget>();
  if (ids.length > 0) {
    const res = await db.query<DestinationTargetRow>(DESTINATION_TARGETS_SQL, [ids]);
    for (const row of res.rows) targets.set(row.id, toTarget(row));
  }

  const policy: RetryPolicy = {
    maxAttempts: options.maxAttempts ?? channel.retry.maxAttempts,
    baseMs: options.retryBaseMs ?? channel.retry.baseMs,
    maxDelayMs: options.retryMaxDelayMs ?? channel.retry.maxDelayMs,
  };
  // Destinations found gone during this run: their rows still queued here were cancelled.
  const gone = new Set<string>();

  const record = async (row: ClaimedRow, target: DestinationTarget | null, outcome: SendOutcome) => {
    if (outcome.kind === 'delivered') {
      await db.query(DELIVERED_SQL, [row.id]);
      stats.delivered++;
      return;
    }
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
    if (outcome.kind === 'gone' && target) {
      gone.add(target.id);
      await db.query(CANCEL_DESTINATION_SQL, [target.id, cut(`${channel.name} gone: ${outcome.error}`)]);
      if (channel.onGone === 'remove') await db.query(REMOVE_DESTINATION_SQL, [target.id]);
      else
        await db.query(DISABLE_DESTINATION_SQL, [
          target.id,
          cut(`${outcome.error}: the destination answered that it is gone`),
        ]);
      stats.disabled++;
      logger.warn(
        { deliveryId: row.id, channel: channel.name, destinationId: target.id, error: outcome.error },
        channel.onGone === 'remove' ? 'destination gone: removed' : 'destination gone: disabled',
      );
    } else if (outcome.kind !== 'permanent' || target) {
      logger.warn(
        { deliveryId: row.id, channel: channel.name, attempts: row.attempts + 1, error: outcome.error },
        'delivery failed for good',
      );
    }
  };

  const sendOne = async (row: ClaimedRow): Promise<void> => {
    const target = row.destination_id === null ? null : (targets.get(row.destination_id) ?? null);
    if (target && gone.has(target.id)) return;
    if (target?.quietUntil && target.quietUntil.getTime() > Date.now()) {
      await db.query(DEFER_SQL, [row.id, target.quietUntil]);
      stats.deferred++;
      return;
    }
    const outcome: SendOutcome =
      target === null
        ? { kind: 'permanent', status: null, error: `${channel.name} destination removed or disabled` }
        : await channel
            .send({ id: row.id, userId: row.user_id, attempts: row.attempts, event: row.payload }, target, {
              allowPrivate: options.allowPrivate,
              timeoutMs: options.timeoutMs ?? channel.timeoutMs,
              env: options.env,
            })
            .catch((err: unknown): SendOutcome => ({
              kind: 'retryable',
              status: null,
              error: `send failed: ${(err as Error).message}`,
            }));
    await record(row, target, outcome);
  };

  // A fixed pool of workers over this channel's queue: at most `concurrency` sends in flight.
  const queue = [...rows];
  const workers = Array.from(
    { length: Math.min(options.concurrency ?? channel.concurrency, queue.length) },
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
    await db.query(RELEASE_SQL, [queue.map((r) => r.id)]);
    stats.released += queue.length;
  }
}
