import { randomUUID } from 'node:crypto';
import { AppError } from '@dropwatch/core';
import { Destination, type EntityManager } from '@dropwatch/db';
import {
  checkedWebhookUrl,
  generateWebhookSecret,
  postWebhook,
  signingSecrets,
  DELIVERY_HTTP_TIMEOUT_MS,
  type WebhookSecrets,
} from '@dropwatch/discovery';
import {
  cancelPendingDeliveries,
  lockAndCheckDestinationCount,
  type DestinationEntity,
} from '../destinations/destination-store.js';
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

/**
 * `webhooks.*` manage "the" webhook of the single-webhook API: the caller's oldest destination of
 * channel `webhook` (the one the migration made from the webhook that lived on the user). Other
 * webhook destinations are managed through `destinations.*`.
 */
async function theWebhook(em: EntityManager, userId: string): Promise<DestinationEntity | null> {
  return em.findOne(Destination, { userId, channel: 'webhook' }, { orderBy: { id: 'asc' } });
}

const secretsOf = (d: DestinationEntity) => d.secrets as unknown as WebhookSecrets;
const urlOf = (d: DestinationEntity) => String(d.settings.url);

function previousUntil(s: WebhookSecrets): Date | null {
  if (!s.previousSecret || !s.previousUntil) return null;
  const until = new Date(s.previousUntil);
  return until.getTime() > Date.now() ? until : null;
}

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
      const url = await checkedWebhookUrl(input.url, ctx.config.WEBHOOK_ALLOW_PRIVATE);
      const secret = generateWebhookSecret();
      await ctx.em.transactional(async (em) => {
        const d = await theWebhook(em, ctx.user.id);
        if (d) {
          d.settings = { url };
          d.secrets = { signingSecret: secret };
          d.enabled = true;
          d.disabledAt = null;
          d.disabledReason = null;
        } else {
          await lockAndCheckDestinationCount(em, ctx.user.id);
          em.create(Destination, {
            userId: ctx.user.id,
            channel: 'webhook',
            settings: { url },
            secrets: { signingSecret: secret },
          });
        }
        await em.flush();
      });
      return { url, secret };
    }),

  /** The caller's webhook: its URL, whether it is enabled (and why not), and any rotation window. Null when none is set. */
  get: authedProcedure.output(webhookGetOutput).query(async ({ ctx }) => {
    const d = await theWebhook(ctx.em, ctx.user.id);
    if (!d) return null;
    return {
      url: urlOf(d),
      enabled: d.enabled && !d.disabledAt,
      disabledAt: d.disabledAt ?? null,
      disabledReason: d.disabledReason ?? null,
      previousSecretValidUntil: previousUntil(secretsOf(d)),
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
    .mutation(async ({ ctx, input }) =>
      ctx.em.transactional(async (em) => {
        const d = await theWebhook(em, ctx.user.id);
        if (!d) throw new AppError('NOT_FOUND', 'no webhook is set');
        const secret = generateWebhookSecret();
        const until = input.overlapHours > 0 ? new Date(Date.now() + input.overlapHours * 3_600_000) : null;
        const next: WebhookSecrets = until
          ? { signingSecret: secret, previousSecret: secretsOf(d).signingSecret, previousUntil: until.toISOString() }
          : { signingSecret: secret };
        d.secrets = { ...next };
        await em.flush();
        return { secret, previousSecretValidUntil: until };
      }),
    ),

  /** Turns a webhook disabled by a 410 Gone back on (same URL and secret). */
  enable: authedProcedure.output(webhookEnableOutput).mutation(async ({ ctx }) => {
    const d = await theWebhook(ctx.em, ctx.user.id);
    if (!d) throw new AppError('NOT_FOUND', 'no webhook is set');
    d.enabled = true;
    d.disabledAt = null;
    d.disabledReason = null;
    await ctx.em.flush();
    return { enabled: true as const };
  }),

  /** Removes the caller's webhook and its secrets; its pending deliveries end as failed ('webhook removed'). */
  remove: authedProcedure.output(webhookRemoveOutput).mutation(async ({ ctx }) =>
    ctx.em.transactional(async (em) => {
      const d = await theWebhook(em, ctx.user.id);
      if (!d) return { removed: false, cancelledDeliveries: 0 };
      const cancelled = await cancelPendingDeliveries(em, d.id, 'webhook removed');
      await em.nativeDelete(Destination, { id: d.id, userId: ctx.user.id });
      return { removed: true, cancelledDeliveries: cancelled };
    }),
  ),

  /**
   * Sends a signed `webhook.test` event to the caller's webhook now (even a disabled one, to check
   * a fixed receiver) and says how it went. Its webhook-id is `test_<uuid>`, never a delivery's.
   */
  test: authedProcedure.output(webhookTestOutput).mutation(async ({ ctx }) => {
    const d = await theWebhook(ctx.em, ctx.user.id);
    if (!d) throw new AppError('NOT_FOUND', 'no webhook is set');
    const body = JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: {} });
    const result = await postWebhook({
      url: urlOf(d),
      id: `test_${randomUUID()}`,
      secrets: signingSecrets(secretsOf(d)),
      body,
      timeoutMs: DELIVERY_HTTP_TIMEOUT_MS,
      allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE,
    });
    return { delivered: result.ok, status: result.status, error: result.error };
  }),
});
