import { createHmac, randomBytes } from 'node:crypto';
import { WEBHOOK_SECRET_BYTES } from './webhook-limits.js';

const SECRET_PREFIX = 'whsec_';

/**
 * A new signing secret in the Standard Webhooks form: `whsec_` + base64 of random bytes (the
 * bytes are the HMAC key). Stored with the user because the server must sign with it; shown to
 * the user once.
 */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(WEBHOOK_SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret. Throws on anything else (never echoing the secret). */
function keyOf(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('a stored webhook secret is not in the whsec_ form');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/**
 * The `webhook-signature` header of Standard Webhooks 1.0: `v1,` + base64 HMAC-SHA256 of
 * `${id}.${timestamp}.${body}`, one per secret, space-separated. During a rotation both the new
 * and the old secret sign, so a receiver holding either verifies the same request.
 */
export function signWebhook(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((s) => `v1,${createHmac('sha256', keyOf(s)).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`)
    .join(' ');
}
