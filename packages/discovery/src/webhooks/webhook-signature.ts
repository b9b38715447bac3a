import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WEBHOOK_SECRET_BYTES } from './webhook-limits.js';

/** A new per-user signing secret. Stored with the user (it must sign), shown to the user once. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(WEBHOOK_SECRET_BYTES).toString('base64url')}`;
}

/**
 * `X-Dropwatch-Signature`: `sha256=` + hex HMAC-SHA256 over `${timestamp}.${body}` with the
 * user's secret. The timestamp (unix seconds, also sent as `X-Dropwatch-Timestamp`) is signed so
 * a receiver can refuse replays of an old body.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time; refuse stale timestamps. */
export function verifyWebhook(
  secret: string,
  header: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  opts: { toleranceSeconds: number; nowSeconds?: number },
): boolean {
  if (!header.signature || !header.timestamp || !/^\d{1,12}$/.test(header.timestamp)) return false;
  const ts = Number(header.timestamp);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > opts.toleranceSeconds) return false;
  const want = Buffer.from(signWebhook(secret, ts, body), 'utf8');
  const got = Buffer.from(header.signature, 'utf8');
  return want.length === got.length && timingSafeEqual(want, got);
}
