import { z } from 'zod';
import type { DeliveryChannel, SendOutcome } from '../delivery-channel.js';
import { HTTP_CHANNEL_DEFAULTS, httpOutcomeBase, postJson, type GuardedResponse } from '../guarded-request.js';
import { eventMessage } from '../message-text.js';

export interface TelegramSettings {
  /** A numeric chat id (negative for groups) or @channelusername. */
  readonly chatId: string;
}

export interface TelegramSecrets {
  readonly botToken: string;
}

const settingsFields = {
  chatId: z
    .string()
    .trim()
    .regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,64})$/, 'must be a numeric chat id or @channelusername'),
};

export const telegramInput = z.object({
  ...settingsFields,
  /** The bot's token from @BotFather (123456:ABC-…). */
  botToken: z
    .string()
    .trim()
    .regex(/^\d{3,20}:[A-Za-z0-9_-]{20,100}$/, 'must be a bot token as @BotFather gives it (digits:letters)'),
});

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The Bot API answers 403 when the bot was blocked or removed from the chat (gone: disabled);
 * 401 (token revoked) and 400 (chat not found, bad request) cannot improve by retrying; 429 and
 * 5xx retry. The error is the status line only: the request URL carries the token.
 */
export function telegramOutcome(r: GuardedResponse): SendOutcome {
  const base = httpOutcomeBase(r);
  if (base.kind !== 'retryable') return base;
  let description = '';
  try {
    const parsed = JSON.parse(r.text) as { description?: unknown };
    if (typeof parsed.description === 'string') description = `: ${parsed.description.slice(0, 200)}`;
  } catch {
    // not JSON: the status line is all we say
  }
  const error = `${base.error}${description}`;
  if (r.status === 403) return { kind: 'gone', status: r.status, error };
  if (r.status === 400 || r.status === 401 || r.status === 404) return { kind: 'permanent', status: r.status, error };
  return { ...base, error };
}

/**
 * Telegram: sendMessage through the Bot API at TELEGRAM_API_URL (HTML text, a "Book" button with
 * the booking link). The Bot API has no idempotency key: a re-send after a crash between the
 * send and its record shows the message twice (at-least-once).
 */
export const telegramChannel: DeliveryChannel<z.infer<typeof telegramInput>, TelegramSettings, TelegramSecrets> = {
  name: 'telegram',
  input: telegramInput,
  updateInput: z.object(settingsFields).partial().strict(),
  prepare(input) {
    return Promise.resolve({
      settings: { chatId: input.chatId },
      secrets: { botToken: input.botToken },
      shownOnce: { botToken: input.botToken },
    });
  },
  update(current, patch) {
    return Promise.resolve({ ...current, ...patch });
  },
  async send(delivery, target, ctx) {
    const m = eventMessage(delivery.event);
    const body = JSON.stringify({
      chat_id: target.settings.chatId,
      text: `<b>${escapeHtml(m.title)}</b>\n${escapeHtml(m.body)}${m.url ? `\n${escapeHtml(m.url)}` : ''}`,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...(m.url ? { reply_markup: { inline_keyboard: [[{ text: 'Book', url: m.url }]] } } : {}),
    });
    const base = ctx.env.telegramApiUrl.replace(/\/+$/, '');
    const r = await postJson(
      ctx,
      `${base}/bot${target.secrets.botToken}/sendMessage`,
      { 'user-agent': 'dropwatch-telegram' },
      body,
    );
    return telegramOutcome(r);
  },
  onGone: 'disable',
  ...HTTP_CHANNEL_DEFAULTS,
};
