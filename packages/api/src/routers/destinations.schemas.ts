import { z } from 'zod';
import { DESTINATION_CHANNELS } from '@dropwatch/db';
import {
  emailInput,
  MAX_WATCHES_PER_USER,
  ntfyInput,
  telegramInput,
  webhookInput,
  webPushInput,
} from '@dropwatch/discovery';
import { MAX_NAME_LENGTH } from '../limits.js';
import { rowIdInput, textInput } from './common.schemas.js';

const hhmm = textInput().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Quiet hours: from `start` to `end` local time in `timeZone` (an IANA zone such as
 * Europe/Paris); an end before the start spans midnight (22:00–07:00). A notification made
 * during quiet hours waits and is sent when they end; nothing is dropped.
 */
export const quietHoursInput = z
  .object({
    start: hhmm,
    end: hhmm,
    timeZone: textInput().min(1).max(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris'),
  })
  .strict()
  .refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] });

const common = {
  /** A label of your choosing. */
  name: textInput().trim().min(1).max(MAX_NAME_LENGTH).optional(),
  enabled: z.boolean().default(true),
  quietHours: quietHoursInput.nullable().optional(),
  /** Only notifications from these watches come here; absent or null: every watch. */
  watchIds: z.array(rowIdInput).min(1).max(MAX_WATCHES_PER_USER).nullable().optional(),
};

/**
 * One destination to add: `channel` and that channel's settings side by side, e.g.
 * `{ channel: 'webpush', subscription: { endpoint, keys: { p256dh, auth } } }` or
 * `{ channel: 'ntfy', topicUrl: 'https://ntfy.example/alerts', accessToken: 'tk_…' }`.
 */
export const destinationAddInput = z.discriminatedUnion('channel', [
  webhookInput.extend({ channel: z.literal('webhook'), ...common }).strict(),
  ntfyInput.extend({ channel: z.literal('ntfy'), ...common }).strict(),
  telegramInput.extend({ channel: z.literal('telegram'), ...common }).strict(),
  emailInput.extend({ channel: z.literal('email'), ...common }).strict(),
  webPushInput.extend({ channel: z.literal('webpush'), ...common }).strict(),
]);
export type DestinationAddInput = z.infer<typeof destinationAddInput>;

export const destinationIdInput = z.object({ id: rowIdInput }).strict();

/**
 * A change: any of the common fields, and `settings` with the channel's changeable settings
 * (webhook url; ntfy topicUrl, priority, tags; telegram chatId; email to). Secrets are set only
 * by adding a destination again. `enabled: true` also clears a disabled state set by the receiver.
 */
export const destinationUpdateInput = z
  .object({
    id: rowIdInput,
    name: textInput().trim().min(1).max(MAX_NAME_LENGTH).nullable().optional(),
    enabled: z.boolean().optional(),
    quietHours: quietHoursInput.nullable().optional(),
    watchIds: common.watchIds,
    settings: z.record(z.string().max(40), z.unknown()).optional(),
  })
  .strict();

const lastDelivery = z
  .object({
    status: z.enum(['delivered', 'retrying', 'failed']),
    at: z.date(),
    /** The last failure's reason (a status line or network error), null after a delivery. */
    error: z.string().nullable(),
  })
  .nullable();

const base = {
  id: z.string(),
  name: z.string().nullable(),
  enabled: z.boolean(),
  quietHours: z.object({ start: z.string(), end: z.string(), timeZone: z.string() }).nullable(),
  watchIds: z.array(z.string()).nullable(),
  /** Set when the receiver said it is gone (HTTP 410, a bot blocked in Telegram): nothing is sent until enabled again. */
  disabledAt: z.date().nullable(),
  disabledReason: z.string().nullable(),
  lastDelivery,
  /** Failed attempts since the last delivered one. */
  failureCount: z.number().int(),
  createdAt: z.date(),
};

/** A destination as the API shows it: public settings only, never a secret. */
export const destinationDto = z.discriminatedUnion('channel', [
  z.object({ ...base, channel: z.literal('webhook'), settings: z.object({ url: z.string() }) }),
  z.object({
    ...base,
    channel: z.literal('ntfy'),
    settings: z.object({
      topicUrl: z.string(),
      priority: z.number().int(),
      tags: z.array(z.string()),
      hasAccessToken: z.boolean(),
    }),
  }),
  z.object({ ...base, channel: z.literal('telegram'), settings: z.object({ chatId: z.string() }) }),
  z.object({ ...base, channel: z.literal('email'), settings: z.object({ to: z.string() }) }),
  z.object({ ...base, channel: z.literal('webpush'), settings: z.object({ endpointOrigin: z.string() }) }),
]);
export type DestinationDto = z.infer<typeof destinationDto>;

export const destinationChannelEnum = z.enum(DESTINATION_CHANNELS);

export const destinationListOutput = z.object({ items: z.array(destinationDto) });

export const destinationAddOutput = z.object({
  destination: destinationDto,
  /**
   * The secrets of this destination, shown this once: a webhook's generated `signingSecret`
   * (whsec_…), the ntfy `accessToken` or Telegram `botToken` you gave. Empty for email and push.
   */
  secrets: z.record(z.string(), z.string()),
  /** False when this push subscription (same endpoint) was already a destination: its keys were refreshed. */
  created: z.boolean(),
});
export const destinationUpdateOutput = z.object({ destination: destinationDto });
export const destinationRemoveOutput = z.object({ removed: z.literal(true), cancelledDeliveries: z.number().int() });
export const destinationTestOutput = z.object({
  delivered: z.boolean(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
});
export const vapidPublicKeyOutput = z.object({
  /** The VAPID application server key (base64url), for PushManager.subscribe({ applicationServerKey }). */
  publicKey: z.string(),
});
