import type { Logger } from 'pino';
import type { PgClient } from '../tick/pg-session.js';
import {
  WEBHOOK_CLAIM_LIMIT,
  WEBHOOK_CLAIM_MS,
  WEBHOOK_CONCURRENCY,
  WEBHOOK_ERROR_MAX,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_PHASE_BUDGET_MS,
  WEBHOOK_RETRY_BASE_MS,
  WEBHOOK_TIMEOUT_MS,
} from './webhook-limits.js';
import { postWebhook } from './webhook-post.js';

export interface DeliveryOptions {
  readonly allowPrivate: boolean;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
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
}

interface ClaimedDelivery {
  id: string;
  url: string;
  payload: unknown;
  attempts: number;
  secret: string | null;
}

/**
 * Claims due deliveries: pending, next_attempt_at passed, oldest first, LIMIT, and pushes their
 * next_attempt_at out by WEBHOOK_CLAIM_MS so a concurrent worker skips them (SKIP LOCKED) and a
 * crashed sender's claim simply lapses. A delivery goes to the user's current URL, signed with the
 * current secret (a user who set a new webhook gets the pending ones there, verifiable).
 * -- uses webhook_deliveries_due_idx (next_attempt_at) where status = 'pending'.
 */
const CLAIM_SQL = `
with due as (
  select id from webhook_deliveries
  where status = 'pending' and next_attempt_at <= now()
  order by next_attempt_at
  limit $1
  for update skip locked
)
update webhook_deliveries d
set next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
from due, users u
where d.id = due.id and u.id = d.user_id
returning d.id::text as id, coalesce(u.webhook_url, d.url) as url, d.payload, d.attempts, u.webhook_secret as secret`;

const DELIVERED_SQL = `
update webhook_deliveries
set status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_error = null
where id = $1`;

/** attempts + 1; failed at the limit, else due again after base × 2^(attempts). */
const FAILED_ATTEMPT_SQL = `
update webhook_deliveries
set attempts = attempts + 1,
    last_error = $2,
    status = case when attempts + 1 >= $3 then 'failed' else 'pending' end,
    next_attempt_at = now() + make_interval(secs => ($4::double precision * power(2, attempts)) / 1000)
where id = $1
returning status`;

/**
 * Sends every due delivery, at most `concurrency` at a time; each result is written as soon as
 * its POST ends, so a slow receiver delays nobody else. Runs outside the notify transaction and
 * never touches the notify cursor.
 */
export async function deliverDueWebhooks(db: PgClient, logger: Logger, options: DeliveryOptions): Promise<DeliveryStats> {
  const stats: DeliveryStats = { claimed: 0, released: 0, delivered: 0, retried: 0, failed: 0 };
  const deadline = Date.now() + (options.budgetMs ?? WEBHOOK_PHASE_BUDGET_MS);
  const { rows } = await db.query<ClaimedDelivery>(CLAIM_SQL, [WEBHOOK_CLAIM_LIMIT, WEBHOOK_CLAIM_MS]);
  stats.claimed = rows.length;
  const maxAttempts = options.maxAttempts ?? WEBHOOK_MAX_ATTEMPTS;
  const retryBaseMs = options.retryBaseMs ?? WEBHOOK_RETRY_BASE_MS;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;

  const sendOne = async (d: ClaimedDelivery): Promise<void> => {
    const result = d.secret
      ? await postWebhook({ url: d.url, secret: d.secret, body: JSON.stringify(d.payload), timeoutMs, allowPrivate: options.allowPrivate })
      : { ok: false, status: null, error: 'webhook removed' };
    if (result.ok) {
      await db.query(DELIVERED_SQL, [d.id]);
      stats.delivered++;
      return;
    }
    // A delivery whose user removed the webhook is not retried.
    const limit = d.secret ? maxAttempts : 0;
    const res = await db.query<{ status: string }>(FAILED_ATTEMPT_SQL, [d.id, (result.error ?? 'failed').slice(0, WEBHOOK_ERROR_MAX), limit, retryBaseMs]);
    if (res.rows[0]?.status === 'failed') {
      stats.failed++;
      logger.warn({ deliveryId: d.id, attempts: d.attempts + 1, error: result.error }, 'webhook delivery failed for good');
    } else {
      stats.retried++;
    }
  };

  // A fixed pool of workers over one queue: at most `concurrency` POSTs in flight.
  const queue = [...rows];
  const workers = Array.from({ length: Math.min(options.concurrency ?? WEBHOOK_CONCURRENCY, queue.length) }, async () => {
    while (Date.now() < deadline) {
      const d = queue.shift();
      if (!d) break;
      await sendOne(d);
    }
  });
  await Promise.all(workers);
  if (queue.length > 0) {
    await db.query('update webhook_deliveries set next_attempt_at = now() where id = any($1::bigint[])', [queue.map((d) => d.id)]);
    stats.released = queue.length;
  }
  return stats;
}
