import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './webhook-limits.js';
import { signWebhook } from './webhook-signature.js';
import { guardedLookup, isBlockedAddress } from './webhook-url.js';

export interface WebhookPostResult {
  readonly ok: boolean;
  readonly status: number | null;
  /** Why it failed (status line or network error); never contains the secret. */
  readonly error: string | null;
  /** Not sent at all because the address or URL is not allowed: trying again cannot help. */
  readonly refused?: boolean;
}

/** Response bytes read at most (only to free the socket; the body is not used). */
const RESPONSE_DRAIN_MAX = 64 * 1024;

/**
 * POSTs one JSON body signed by Standard Webhooks 1.0 (`id` is the message id receivers dedupe
 * on; the same on every retry, each retry signed afresh with the current timestamp). A 2xx is
 * success; anything else, a timeout, a refused address or a network error is a failure with its
 * reason. The address is checked where it is connected to
 * (guardedLookup), so a host whose DNS changed to a private address is refused here too.
 */
export function postWebhook(opts: {
  url: string;
  id: string;
  /** The current secret first, then the previous one while its rotation window lasts. */
  secrets: readonly string[];
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
  nowSeconds?: number;
}): Promise<WebhookPostResult> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      return resolve({ ok: false, status: null, error: 'invalid url', refused: true });
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!opts.allowPrivate && isIP(host) && isBlockedAddress(host)) {
      return resolve({ ok: false, status: null, error: 'refused: blocked address', refused: true });
    }
    const timestamp = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
    if (!transport) return resolve({ ok: false, status: null, error: 'refused: not http(s)', refused: true });
    let settled = false;
    const finish = (r: WebhookPostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = transport.request(
      url,
      {
        method: 'POST',
        lookup: guardedLookup(opts.allowPrivate),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(opts.body),
          'user-agent': 'dropwatch-webhooks',
          [WEBHOOK_ID_HEADER]: opts.id,
          [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(opts.secrets, opts.id, timestamp, opts.body),
        },
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > RESPONSE_DRAIN_MAX) res.destroy();
        });
        const status = res.statusCode ?? 0;
        const done = () =>
          finish(
            status >= 200 && status < 300
              ? { ok: true, status, error: null }
              : { ok: false, status, error: `HTTP ${status}` },
          );
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    // One deadline for the whole exchange (connect, send, answer).
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, error: `timeout after ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        ok: false,
        status: null,
        error: err.code ? `${err.code}: ${err.message}` : err.message,
        refused: err.code === 'EBLOCKED',
      }),
    );
    req.end(opts.body);
  });
}
