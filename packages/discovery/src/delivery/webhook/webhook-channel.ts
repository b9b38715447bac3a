import { z } from 'zod';
import { AppError } from '@dropwatch/core';
import type { DeliveryChannel, SendOutcome } from '../delivery-channel.js';
import type { PgClient } from '../../tick/pg-session.js';
import {
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_RETRY_BASE_MS,
  WEBHOOK_RETRY_MAX_DELAY_MS,
  WEBHOOK_TIMEOUT_MS,
  WEBHOOK_URL_MAX_LENGTH,
} from './webhook-limits.js';
import { postWebhook, type WebhookPostResult } from './webhook-post.js';
import { assertWebhookTarget, parseWebhookUrl } from './webhook-url.js';

export interface WebhookSettings {
  readonly url: string;
}

export interface WebhookTarget {
  readonly url: string;
  /** The current secret, then the previous one while its rotation window lasts. */
  readonly secrets: readonly string[];
}

const settingsInput = z.object({ url: z.string().min(1).max(WEBHOOK_URL_MAX_LENGTH) }).strict();

/**
 * A user's webhook lives on the user row (webhook_url, webhook_secret, the previous secret and
 * how long it still signs, and whether it is disabled).
 * -- users_pkey: one probe per user.
 */
const TARGETS_SQL = `
select id::text as user_id, webhook_url as url, webhook_secret as secret,
       case when webhook_secret_previous_until > now() then webhook_secret_previous end as previous
from users
where id = any($1::uuid[]) and webhook_url is not null and webhook_secret is not null and webhook_disabled_at is null`;

const DISABLE_SQL = `
update users set webhook_disabled_at = now(), webhook_disabled_reason = $2
where id = $1 and webhook_disabled_at is null`;

/** 410 Gone is the receiver saying "stop" (Standard Webhooks); a refused address cannot improve. */
export function webhookOutcome(result: WebhookPostResult): SendOutcome {
  if (result.ok) return { kind: 'delivered', status: result.status };
  const error = result.error ?? 'failed';
  if (result.status === 410) return { kind: 'gone', status: 410, error };
  if (result.refused) return { kind: 'permanent', status: result.status, error };
  return { kind: 'retryable', status: result.status, error };
}

/** The signed webhook, Standard Webhooks 1.0. */
export const webhookChannel: DeliveryChannel<WebhookSettings, WebhookTarget> = {
  name: 'webhook',
  async validateSettings(raw, ctx) {
    const parsed = settingsInput.safeParse(raw);
    if (!parsed.success)
      throw new AppError('BAD_INPUT', `webhook settings need a url of 1 to ${WEBHOOK_URL_MAX_LENGTH} characters`);
    const url = parseWebhookUrl(parsed.data.url);
    await assertWebhookTarget(url, ctx.allowPrivate);
    return { url: url.href };
  },
  recipientSql: 'u.webhook_url is not null and u.webhook_secret is not null and u.webhook_disabled_at is null',
  async loadTargets(db: PgClient, userIds) {
    const { rows } = await db.query<{ user_id: string; url: string; secret: string; previous: string | null }>(
      TARGETS_SQL,
      [userIds],
    );
    return new Map(
      rows.map((r) => [r.user_id, { url: r.url, secrets: r.previous ? [r.secret, r.previous] : [r.secret] }]),
    );
  },
  async send(delivery, ctx) {
    const result = await postWebhook({
      url: delivery.target.url,
      id: delivery.id,
      secrets: delivery.target.secrets,
      body: JSON.stringify(delivery.event),
      timeoutMs: ctx.timeoutMs,
      allowPrivate: ctx.allowPrivate,
    });
    return webhookOutcome(result);
  },
  async disable(db, userId, reason) {
    await db.query(DISABLE_SQL, [userId, reason]);
  },
  retry: { maxAttempts: WEBHOOK_MAX_ATTEMPTS, baseMs: WEBHOOK_RETRY_BASE_MS, maxDelayMs: WEBHOOK_RETRY_MAX_DELAY_MS },
  timeoutMs: WEBHOOK_TIMEOUT_MS,
};
