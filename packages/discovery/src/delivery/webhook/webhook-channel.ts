import { z } from 'zod';
import type { DeliveryChannel, SendOutcome } from '../delivery-channel.js';
import { DELIVERY_URL_MAX_LENGTH } from '../delivery-limits.js';
import { HTTP_CHANNEL_DEFAULTS } from '../guarded-request.js';
import { postWebhook, type WebhookPostResult } from './webhook-post.js';
import { generateWebhookSecret } from './webhook-signature.js';
import { assertWebhookTarget, parseWebhookUrl } from './webhook-url.js';

export interface WebhookSettings {
  readonly url: string;
}

/** The signing secrets: the current one, and the one it replaced while its rotation window lasts. */
export interface WebhookSecrets {
  readonly signingSecret: string;
  readonly previousSecret?: string;
  /** ISO instant until which previousSecret still signs. */
  readonly previousUntil?: string;
}

export const webhookInput = z.object({ url: z.string().trim().min(1).max(DELIVERY_URL_MAX_LENGTH) });

/** The secrets that sign now: the current one first, then the previous one inside its window. */
export function signingSecrets(secrets: WebhookSecrets, now = Date.now()): string[] {
  const previousValid =
    secrets.previousSecret !== undefined &&
    secrets.previousUntil !== undefined &&
    Date.parse(secrets.previousUntil) > now;
  return previousValid ? [secrets.signingSecret, secrets.previousSecret] : [secrets.signingSecret];
}

/** Checks a webhook URL (http(s), no credentials, a public address unless allowPrivate). */
export async function checkedWebhookUrl(raw: string, allowPrivate: boolean): Promise<string> {
  const url = parseWebhookUrl(raw);
  await assertWebhookTarget(url, allowPrivate);
  return url.href;
}

/** 410 Gone is the receiver saying "stop" (Standard Webhooks); a refused address cannot improve. */
export function webhookOutcome(result: WebhookPostResult): SendOutcome {
  if (result.ok) return { kind: 'delivered', status: result.status };
  const error = result.error ?? 'failed';
  if (result.status === 410) return { kind: 'gone', status: 410, error };
  if (result.refused) return { kind: 'permanent', status: result.status, error };
  return { kind: 'retryable', status: result.status, error };
}

/** The signed webhook, Standard Webhooks 1.0: webhook-id = the outbox row id (receivers dedupe on it). */
export const webhookChannel: DeliveryChannel<z.infer<typeof webhookInput>, WebhookSettings, WebhookSecrets> = {
  name: 'webhook',
  input: webhookInput,
  updateInput: webhookInput.partial().strict(),
  async prepare(input, ctx) {
    const url = await checkedWebhookUrl(input.url, ctx.allowPrivate);
    const signingSecret = generateWebhookSecret();
    return { settings: { url }, secrets: { signingSecret }, shownOnce: { signingSecret } };
  },
  async update(current, patch, ctx) {
    return { url: patch.url === undefined ? current.url : await checkedWebhookUrl(patch.url, ctx.allowPrivate) };
  },
  async send(delivery, target, ctx) {
    const result = await postWebhook({
      url: target.settings.url,
      id: delivery.id,
      secrets: signingSecrets(target.secrets),
      body: JSON.stringify(delivery.event),
      timeoutMs: ctx.timeoutMs,
      allowPrivate: ctx.allowPrivate,
    });
    return webhookOutcome(result);
  },
  onGone: 'disable',
  ...HTTP_CHANNEL_DEFAULTS,
};
