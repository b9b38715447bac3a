import { postJson } from '../guarded-request.js';
import { WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './webhook-limits.js';
import { signWebhook } from './webhook-signature.js';

export interface WebhookPostResult {
  readonly ok: boolean;
  readonly status: number | null;
  /** Why it failed (status line or network error); never contains the secret. */
  readonly error: string | null;
  /** Not sent at all because the address or URL is not allowed: trying again cannot help. */
  readonly refused?: boolean;
}

/**
 * POSTs one JSON body signed by Standard Webhooks 1.0 (`id` is the message id receivers dedupe
 * on; the same on every retry, each retry signed afresh with the current timestamp), through the
 * SSRF guard of every destination URL (guardedRequest).
 */
export async function postWebhook(opts: {
  url: string;
  id: string;
  /** The current secret first, then the previous one while its rotation window lasts. */
  secrets: readonly string[];
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
  nowSeconds?: number;
}): Promise<WebhookPostResult> {
  const timestamp = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const r = await postJson(
    opts,
    opts.url,
    {
      'user-agent': 'dropwatch-webhooks',
      [WEBHOOK_ID_HEADER]: opts.id,
      [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
      [WEBHOOK_SIGNATURE_HEADER]: signWebhook(opts.secrets, opts.id, timestamp, opts.body),
    },
    opts.body,
  );
  return { ok: r.ok, status: r.status, error: r.error, ...(r.refused ? { refused: true } : {}) };
}
