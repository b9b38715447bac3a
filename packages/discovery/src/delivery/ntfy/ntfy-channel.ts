import { z } from 'zod';
import { AppError } from '@dropwatch/core';
import type { DeliveryChannel, SendOutcome } from '../delivery-channel.js';
import { DELIVERY_URL_MAX_LENGTH } from '../delivery-limits.js';
import { HTTP_CHANNEL_DEFAULTS, httpOutcomeBase, postJson, type GuardedResponse } from '../guarded-request.js';
import { eventMessage } from '../message-text.js';
import { checkedWebhookUrl } from '../webhook/webhook-channel.js';

export interface NtfySettings {
  /** The topic's URL on any ntfy server: https://host[/prefix]/topic. */
  readonly topicUrl: string;
  /** ntfy priority 1 (min) … 5 (max). */
  readonly priority: number;
  /** Tags (emoji short codes such as fork_and_knife show as emoji). */
  readonly tags: readonly string[];
  /** Whether an access token is kept (the token itself is never shown again). */
  readonly hasAccessToken: boolean;
}

export interface NtfySecrets {
  readonly accessToken?: string;
}

/** A topic name as ntfy accepts it. */
const TOPIC = /^[-_A-Za-z0-9]{1,64}$/;
export const NTFY_DEFAULT_PRIORITY = 4;
export const NTFY_DEFAULT_TAGS = ['fork_and_knife'];

const tag = z.string().trim().min(1).max(40);
const settingsFields = {
  topicUrl: z.string().trim().min(1).max(DELIVERY_URL_MAX_LENGTH),
  priority: z.number().int().min(1).max(5),
  tags: z.array(tag).max(5),
};

export const ntfyInput = z.object({
  ...settingsFields,
  priority: settingsFields.priority.default(NTFY_DEFAULT_PRIORITY),
  tags: settingsFields.tags.default(NTFY_DEFAULT_TAGS),
  /** An ntfy access token (tk_…) for a protected topic. */
  accessToken: z.string().trim().min(1).max(200).optional(),
});

/** Splits a topic URL into the server's publish URL (JSON publishing) and the topic. */
export function ntfyTopic(topicUrl: string): { publishUrl: string; topic: string } {
  const url = new URL(topicUrl);
  const parts = url.pathname.split('/').filter((s) => s.length > 0);
  const topic = parts.pop() ?? '';
  url.pathname = `/${parts.join('/')}`;
  url.search = '';
  url.hash = '';
  return { publishUrl: url.href, topic };
}

async function checkedTopicUrl(raw: string, allowPrivate: boolean): Promise<string> {
  const href = await checkedWebhookUrl(raw, allowPrivate).catch((err: unknown) => {
    if (err instanceof AppError)
      throw new AppError('BAD_INPUT', err.message.replace(/^webhook( url)?/, 'ntfy topicUrl'));
    throw err;
  });
  if (!TOPIC.test(ntfyTopic(href).topic))
    throw new AppError('BAD_INPUT', 'ntfy topicUrl must end in a topic name (letters, digits, - and _, at most 64)');
  return href;
}

/** 2xx delivered; 401/403 (token refused) and 400 cannot improve by retrying; 429 and 5xx retry. */
export function ntfyOutcome(r: GuardedResponse): SendOutcome {
  const base = httpOutcomeBase(r);
  if (base.kind !== 'retryable') return base;
  if (r.status === 410) return { kind: 'gone', status: r.status, error: base.error };
  if (r.status !== null && r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429)
    return { kind: 'permanent', status: r.status, error: base.error };
  return base;
}

/**
 * ntfy: a JSON publish to the topic's server (title, message, click = the booking link, tags,
 * priority). Its `sequence_id` is the outbox row id: ntfy ≥ 2.16 treats a second message with
 * the same sequence id as an update of the first, so a re-send after a crash replaces the
 * notification on the phone instead of showing a second one (older servers show both: at-least-once).
 */
export const ntfyChannel: DeliveryChannel<z.infer<typeof ntfyInput>, NtfySettings, NtfySecrets> = {
  name: 'ntfy',
  input: ntfyInput,
  updateInput: z.object(settingsFields).partial().strict(),
  async prepare(input, ctx) {
    const topicUrl = await checkedTopicUrl(input.topicUrl, ctx.allowPrivate);
    const token: Record<string, string> = input.accessToken ? { accessToken: input.accessToken } : {};
    return {
      settings: {
        topicUrl,
        priority: input.priority,
        tags: input.tags,
        hasAccessToken: input.accessToken !== undefined,
      },
      secrets: token,
      shownOnce: token,
    };
  },
  async update(current, patch, ctx) {
    return {
      ...current,
      ...patch,
      topicUrl:
        patch.topicUrl === undefined ? current.topicUrl : await checkedTopicUrl(patch.topicUrl, ctx.allowPrivate),
    };
  },
  async send(delivery, target, ctx) {
    const { publishUrl, topic } = ntfyTopic(target.settings.topicUrl);
    const m = eventMessage(delivery.event);
    const body = JSON.stringify({
      topic,
      title: m.title,
      message: m.body,
      priority: target.settings.priority,
      tags: target.settings.tags,
      sequence_id: `dropwatch-${delivery.id}`,
      ...(m.url ? { click: m.url } : {}),
    });
    const r = await postJson(
      ctx,
      publishUrl,
      {
        'user-agent': 'dropwatch-ntfy',
        ...(target.secrets.accessToken ? { authorization: `Bearer ${target.secrets.accessToken}` } : {}),
      },
      body,
    );
    return ntfyOutcome(r);
  },
  onGone: 'disable',
  ...HTTP_CHANNEL_DEFAULTS,
};
