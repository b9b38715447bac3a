import { AppError } from '@dropwatch/core';
import {
  assertWebhookTarget,
  generateWebhookSecret,
  parseWebhookUrl,
  postWebhook,
  WEBHOOK_TIMEOUT_MS,
} from '@dropwatch/discovery';
import { authedProcedure, router } from '../trpc.js';
import { webhookRemoveOutput, webhookSetInput, webhookSetOutput, webhookTestOutput } from './webhooks.schemas.js';

export const webhooksRouter = router({
  /**
   * Sets the caller's webhook. Only http(s); a host resolving to any address that is not public
   * unicast (loopback, private, link-local, reserved, or an IPv6 form wrapping one) is refused
   * unless WEBHOOK_ALLOW_PRIVATE (delivery checks again).
   * Returns a new signing secret, once.
   */
  set: authedProcedure
    .input(webhookSetInput)
    .output(webhookSetOutput)
    .mutation(async ({ ctx, input }) => {
      const url = parseWebhookUrl(input.url);
      await assertWebhookTarget(url, ctx.config.WEBHOOK_ALLOW_PRIVATE);
      const secret = generateWebhookSecret();
      await ctx.em
        .execute('update users set webhook_url = ?, webhook_secret = ? where id = ?', [url.href, secret, ctx.user.id], 'run');
      return { url: url.href, secret };
    }),

  /** Removes the caller's webhook; its pending deliveries end as failed ('webhook removed'). */
  remove: authedProcedure.output(webhookRemoveOutput).mutation(async ({ ctx }) =>
    ctx.em.transactional(async (em) => {
      const res = await em.execute<{ affectedRows: number }>(
        'update users set webhook_url = null, webhook_secret = null where id = ? and webhook_url is not null',
        [ctx.user.id],
        'run',
      );
      const cancelled = await em.execute<{ affectedRows: number }>(
        `update webhook_deliveries set status = 'failed', last_error = 'webhook removed'
         where user_id = ? and status = 'pending'`,
        [ctx.user.id],
        'run',
      );
      return { removed: res.affectedRows === 1, cancelledDeliveries: cancelled.affectedRows };
    }),
  ),

  /** Sends a signed test event to the caller's webhook now and says how it went. */
  test: authedProcedure.output(webhookTestOutput).mutation(async ({ ctx }) => {
    const rows = await ctx.em
      .execute<{ webhook_url: string | null; webhook_secret: string | null }[]>(
        'select webhook_url, webhook_secret from users where id = ?',
        [ctx.user.id],
      );
    const user = rows[0];
    if (!user?.webhook_url || !user.webhook_secret) throw new AppError('NOT_FOUND', 'no webhook is set');
    const body = JSON.stringify({ type: 'test', sentAt: new Date().toISOString() });
    const result = await postWebhook({
      url: user.webhook_url,
      secret: user.webhook_secret,
      body,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE,
    });
    return { delivered: result.ok, status: result.status, error: result.error };
  }),
});
