import { randomUUID } from 'node:crypto';
import { AppError } from '@dropwatch/core';
import { generateWebhookSecret, postWebhook, webhookChannel, WEBHOOK_TIMEOUT_MS } from '@dropwatch/discovery';
import { authedProcedure, router } from '../trpc.js';
import {
  webhookEnableOutput,
  webhookGetOutput,
  webhookRemoveOutput,
  webhookRotateInput,
  webhookRotateOutput,
  webhookSetInput,
  webhookSetOutput,
  webhookTestOutput,
} from './webhooks.schemas.js';

/** Raw queries hand timestamps back as strings (the ORM parses only what it maps). */
type Timestamp = Date | string | null;
const toDate = (v: Timestamp): Date | null => (v === null ? null : new Date(v));

interface WebhookRow {
  webhook_url: string | null;
  webhook_secret: string | null;
  previous: string | null;
  previous_until: Timestamp;
  webhook_disabled_at: Timestamp;
  webhook_disabled_reason: string | null;
}

const WEBHOOK_ROW_SQL = `
select webhook_url, webhook_secret,
       case when webhook_secret_previous_until > now() then webhook_secret_previous end as previous,
       case when webhook_secret_previous_until > now() then webhook_secret_previous_until end as previous_until,
       webhook_disabled_at, webhook_disabled_reason
from users where id = ?`;

export const webhooksRouter = router({
  /**
   * Sets the caller's webhook (Standard Webhooks 1.0). Only http(s); a host resolving to any
   * address that is not public unicast (loopback, private, link-local, reserved, or an IPv6 form
   * wrapping one) is refused unless WEBHOOK_ALLOW_PRIVATE (delivery checks again). Returns a new
   * signing secret, once; any previous secret stops signing and a disabled webhook is enabled.
   */
  set: authedProcedure
    .input(webhookSetInput)
    .output(webhookSetOutput)
    .mutation(async ({ ctx, input }) => {
      const { url } = await webhookChannel.validateSettings(input, { allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE });
      const secret = generateWebhookSecret();
      await ctx.em.execute(
        `update users set webhook_url = ?, webhook_secret = ?, webhook_secret_previous = null, webhook_secret_previous_until = null,
                webhook_disabled_at = null, webhook_disabled_reason = null
         where id = ?`,
        [url, secret, ctx.user.id],
        'run',
      );
      return { url, secret };
    }),

  /** The caller's webhook: its URL, whether it is enabled (and why not), and any rotation window. Null when none is set. */
  get: authedProcedure.output(webhookGetOutput).query(async ({ ctx }) => {
    const [row] = await ctx.em.execute<WebhookRow[]>(WEBHOOK_ROW_SQL, [ctx.user.id]);
    if (!row?.webhook_url) return null;
    return {
      url: row.webhook_url,
      enabled: row.webhook_disabled_at === null,
      disabledAt: toDate(row.webhook_disabled_at),
      disabledReason: row.webhook_disabled_reason,
      previousSecretValidUntil: toDate(row.previous_until),
    };
  }),

  /**
   * A new signing secret, shown once. The current one becomes the previous and keeps signing
   * beside it for `overlapHours`, so a receiver can switch without missing a delivery. Only two
   * secrets sign at once: a rotation during a rotation drops the oldest.
   */
  rotateSecret: authedProcedure
    .input(webhookRotateInput)
    .output(webhookRotateOutput)
    .mutation(async ({ ctx, input }) => {
      const secret = generateWebhookSecret();
      const rows = await ctx.em.execute<{ previous_until: Timestamp }[]>(
        `update users
         set webhook_secret_previous = case when ?::int > 0 then webhook_secret end,
             webhook_secret_previous_until = case when ?::int > 0 then now() + make_interval(hours => ?::int) end,
             webhook_secret = ?
         where id = ? and webhook_url is not null
         returning webhook_secret_previous_until as previous_until`,
        [input.overlapHours, input.overlapHours, input.overlapHours, secret, ctx.user.id],
      );
      const row = rows[0];
      if (!row) throw new AppError('NOT_FOUND', 'no webhook is set');
      return { secret, previousSecretValidUntil: toDate(row.previous_until) };
    }),

  /** Turns a webhook disabled by a 410 Gone back on (same URL and secret). */
  enable: authedProcedure.output(webhookEnableOutput).mutation(async ({ ctx }) => {
    const res = await ctx.em.execute<{ affectedRows: number }>(
      'update users set webhook_disabled_at = null, webhook_disabled_reason = null where id = ? and webhook_url is not null',
      [ctx.user.id],
      'run',
    );
    if (res.affectedRows !== 1) throw new AppError('NOT_FOUND', 'no webhook is set');
    return { enabled: true as const };
  }),

  /** Removes the caller's webhook and its secrets; its pending deliveries end as failed ('webhook removed'). */
  remove: authedProcedure.output(webhookRemoveOutput).mutation(async ({ ctx }) =>
    ctx.em.transactional(async (em) => {
      const res = await em.execute<{ affectedRows: number }>(
        `update users set webhook_url = null, webhook_secret = null, webhook_secret_previous = null, webhook_secret_previous_until = null,
                webhook_disabled_at = null, webhook_disabled_reason = null
         where id = ? and webhook_url is not null`,
        [ctx.user.id],
        'run',
      );
      const cancelled = await em.execute<{ affectedRows: number }>(
        `update webhook_deliveries set status = 'failed', last_error = 'webhook removed'
         where user_id = ? and channel = ? and status = 'pending'`,
        [ctx.user.id, webhookChannel.name],
        'run',
      );
      return { removed: res.affectedRows === 1, cancelledDeliveries: cancelled.affectedRows };
    }),
  ),

  /**
   * Sends a signed `webhook.test` event to the caller's webhook now (even a disabled one, to check
   * a fixed receiver) and says how it went. Its webhook-id is `test_<uuid>`, never a delivery's.
   */
  test: authedProcedure.output(webhookTestOutput).mutation(async ({ ctx }) => {
    const [row] = await ctx.em.execute<WebhookRow[]>(WEBHOOK_ROW_SQL, [ctx.user.id]);
    if (!row?.webhook_url || !row.webhook_secret) throw new AppError('NOT_FOUND', 'no webhook is set');
    const body = JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: {} });
    const result = await postWebhook({
      url: row.webhook_url,
      id: `test_${randomUUID()}`,
      secrets: row.previous ? [row.webhook_secret, row.previous] : [row.webhook_secret],
      body,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE,
    });
    return { delivered: result.ok, status: result.status, error: result.error };
  }),
});
