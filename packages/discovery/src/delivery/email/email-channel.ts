import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import { AppError } from '@dropwatch/core';
import type { DeliveryChannel, SendOutcome } from '../delivery-channel.js';
import { DELIVERY_RETRY } from '../delivery-limits.js';
import { eventMessage } from '../message-text.js';

export interface EmailSettings {
  readonly to: string;
}

export const emailInput = z.object({ to: z.email().max(254) });

/** Each SMTP exchange must finish within this. */
export const EMAIL_TIMEOUT_MS = 15_000;
/** SMTP connections a process keeps open per server (the pool also bounds sends in flight). */
export const EMAIL_POOL_CONNECTIONS = 4;

const transports = new Map<string, Transporter>();

/**
 * One pooled transport per SMTP_URL per process, made on first use. nodemailer reads transport
 * options from the URL's query, so the pool size and timeouts go there unless SMTP_URL sets them.
 */
function transportFor(smtpUrl: string): Transporter {
  let t = transports.get(smtpUrl);
  if (!t) {
    const url = new URL(smtpUrl);
    const defaults: Record<string, string> = {
      pool: 'true',
      maxConnections: String(EMAIL_POOL_CONNECTIONS),
      connectionTimeout: String(EMAIL_TIMEOUT_MS),
      greetingTimeout: String(EMAIL_TIMEOUT_MS),
      socketTimeout: String(EMAIL_TIMEOUT_MS),
    };
    for (const [k, v] of Object.entries(defaults)) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
    t = nodemailer.createTransport(url.href);
    transports.set(smtpUrl, t);
  }
  return t;
}

/** Closes the SMTP connections this process holds (the notify worker does at its end). */
export function closeEmailTransports(): void {
  for (const t of transports.values()) t.close();
  transports.clear();
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The plain-text and HTML bodies of an event, both with the booking link. */
export function emailBodies(event: Parameters<typeof eventMessage>[0]): {
  subject: string;
  text: string;
  html: string;
} {
  const m = eventMessage(event);
  const text = `${m.title}\n\n${m.body}\n${m.url ? `\nBook: ${m.url}\n` : ''}\n-- dropwatch`;
  const html = `<!doctype html><html><body>
<h2>${escapeHtml(m.title)}</h2>
<p>${escapeHtml(m.body)}</p>
${m.url ? `<p><a href="${escapeHtml(m.url)}">Book this table</a></p>` : ''}
<p style="color:#777">dropwatch</p>
</body></html>`;
  return { subject: m.title, text, html };
}

/** 5xx SMTP answers (mailbox unknown, refused) cannot improve; 4xx and network errors retry. */
function emailOutcome(err: unknown): SendOutcome {
  const e = err as { responseCode?: unknown; code?: unknown; message?: unknown };
  const status = typeof e.responseCode === 'number' ? e.responseCode : null;
  const message = typeof e.message === 'string' ? e.message : 'failed';
  const error = `${typeof e.code === 'string' ? `${e.code}: ` : ''}${message.slice(0, 300)}`;
  if (status !== null && status >= 500) return { kind: 'permanent', status, error };
  return { kind: 'retryable', status, error };
}

/**
 * Email over SMTP (nodemailer, SMTP_URL): a plain-text and an HTML body, both with the booking
 * link. The Message-ID is derived from the outbox row id, but mail systems do not drop a second
 * message with a known Message-ID: a re-send after a crash between the send and its record
 * arrives twice (at-least-once).
 */
export const emailChannel: DeliveryChannel<z.infer<typeof emailInput>, EmailSettings, Record<string, never>> = {
  name: 'email',
  input: emailInput,
  updateInput: emailInput.partial().strict(),
  prepare(input, ctx) {
    if (!ctx.env.smtpUrl)
      return Promise.reject(new AppError('BAD_INPUT', 'email destinations need SMTP_URL set on the server'));
    return Promise.resolve({ settings: { to: input.to }, secrets: {}, shownOnce: {} });
  },
  update(current, patch) {
    return Promise.resolve({ ...current, ...patch });
  },
  async send(delivery, target, ctx) {
    if (!ctx.env.smtpUrl) return { kind: 'retryable', status: null, error: 'SMTP_URL is not set' };
    const { subject, text, html } = emailBodies(delivery.event);
    try {
      await transportFor(ctx.env.smtpUrl).sendMail({
        from: ctx.env.smtpFrom,
        to: target.settings.to,
        subject,
        text,
        html,
        messageId: `<dropwatch-${delivery.id}@dropwatch.invalid>`,
        headers: { 'X-Dropwatch-Delivery': delivery.id },
      });
      return { kind: 'delivered', status: 250 };
    } catch (err) {
      return emailOutcome(err);
    }
  },
  onGone: 'disable',
  retry: DELIVERY_RETRY,
  timeoutMs: EMAIL_TIMEOUT_MS,
  concurrency: EMAIL_POOL_CONNECTIONS,
};
