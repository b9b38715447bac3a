import webpush from 'web-push';
import { z } from 'zod';
import { AppError } from '@dropwatch/core';
import type { DeliveryChannel, SendOutcome } from '../delivery-channel.js';
import { DELIVERY_URL_MAX_LENGTH } from '../delivery-limits.js';
import { channelRequest, HTTP_CHANNEL_DEFAULTS, httpOutcomeBase, type GuardedResponse } from '../guarded-request.js';
import { eventMessage } from '../message-text.js';
import { checkedWebhookUrl } from '../webhook/webhook-channel.js';

/** What the API shows of a push subscription: only where it goes (the endpoint is a capability). */
export interface WebPushSettings {
  readonly endpointOrigin: string;
}

/** The browser's PushSubscription (endpoint and keys): secret, never shown. */
export interface WebPushSecrets {
  readonly endpoint: string;
  readonly p256dh: string;
  readonly auth: string;
}

const base64url = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+=*$/, 'must be base64url');

/** PushSubscription.toJSON() as a browser gives it (expirationTime may come along and is ignored). */
export const webPushInput = z.object({
  subscription: z.object({
    endpoint: z.string().trim().min(1).max(DELIVERY_URL_MAX_LENGTH),
    expirationTime: z.number().nullable().optional(),
    keys: z.object({
      /** The subscription's P-256 public key (65 bytes uncompressed: 87 base64url characters). */
      p256dh: base64url(80, 100),
      /** The 16-byte auth secret (22 base64url characters). */
      auth: base64url(16, 32),
    }),
  }),
});

/** A push message lives this long at the push service while the device is offline. */
export const WEBPUSH_TTL_SECONDS = 6 * 3600;

/** 404/410: the subscription expired or was revoked (removed); 429 and 5xx retry; other 4xx cannot improve. */
export function webPushOutcome(r: GuardedResponse): SendOutcome {
  const base = httpOutcomeBase(r);
  if (base.kind !== 'retryable') return base;
  if (r.status === 404 || r.status === 410) return { kind: 'gone', status: r.status, error: base.error };
  if (r.status !== null && r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429)
    return { kind: 'permanent', status: r.status, error: base.error };
  return base;
}

/** The JSON the service worker receives (and shows): title, body, the link to open, the delivery id. */
export function webPushPayload(deliveryId: string, event: Parameters<typeof eventMessage>[0]): string {
  const m = eventMessage(event);
  return JSON.stringify({ id: deliveryId, type: event.type, title: m.title, body: m.body, url: m.url });
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291): the
 * web-push package builds the encrypted request; it is sent through the destinations' SSRF guard.
 * Its Topic header is the delivery id, so a push still queued at the push service is replaced by
 * a re-send of the same delivery; one already shown is not (at-least-once). An expired
 * subscription (404/410) is removed.
 */
export const webPushChannel: DeliveryChannel<z.infer<typeof webPushInput>, WebPushSettings, WebPushSecrets> = {
  name: 'webpush',
  input: webPushInput,
  updateInput: z.object({}).strict(),
  async prepare(input, ctx) {
    const endpoint = await checkedWebhookUrl(input.subscription.endpoint, ctx.allowPrivate).catch((err: unknown) => {
      if (err instanceof AppError)
        throw new AppError('BAD_INPUT', err.message.replace(/^webhook( url)?/, 'push subscription endpoint'));
      throw err;
    });
    if (Buffer.from(input.subscription.keys.p256dh, 'base64url').length !== 65)
      throw new AppError('BAD_INPUT', 'subscription.keys.p256dh must be a 65-byte P-256 public key');
    if (Buffer.from(input.subscription.keys.auth, 'base64url').length !== 16)
      throw new AppError('BAD_INPUT', 'subscription.keys.auth must be 16 bytes');
    return {
      settings: { endpointOrigin: new URL(endpoint).origin },
      secrets: { endpoint, p256dh: input.subscription.keys.p256dh, auth: input.subscription.keys.auth },
      shownOnce: {},
    };
  },
  update(current) {
    return Promise.resolve(current);
  },
  async send(delivery, target, ctx) {
    const vapid = await ctx.env.vapid();
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      details = webpush.generateRequestDetails(
        { endpoint: target.secrets.endpoint, keys: { p256dh: target.secrets.p256dh, auth: target.secrets.auth } },
        webPushPayload(delivery.id, delivery.event),
        {
          vapidDetails: vapid,
          TTL: WEBPUSH_TTL_SECONDS,
          contentEncoding: 'aes128gcm',
          urgency: 'high',
          // Topic: at most 32 URL-safe characters.
          topic: `dw${delivery.id.replace(/[^A-Za-z0-9_-]/g, '')}`.slice(0, 32),
        },
      );
    } catch (err) {
      return { kind: 'permanent', status: null, error: `push request: ${(err as Error).message.slice(0, 200)}` };
    }
    const r = await channelRequest(ctx, details.endpoint, details.headers, details.body ?? Buffer.alloc(0));
    return webPushOutcome(r);
  },
  onGone: 'remove',
  ...HTTP_CHANNEL_DEFAULTS,
};
