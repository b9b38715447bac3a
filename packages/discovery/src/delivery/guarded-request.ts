import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { DeliveryChannel, SendContext } from './delivery-channel.js';
import { DELIVERY_CONCURRENCY, DELIVERY_HTTP_TIMEOUT_MS, DELIVERY_RETRY } from './delivery-limits.js';
import { guardedLookup, isBlockedAddress } from './webhook/webhook-url.js';

export interface GuardedResponse {
  readonly ok: boolean;
  readonly status: number | null;
  /** Why it failed (status line or network error); never carries a secret of the request. */
  readonly error: string | null;
  /** Not sent at all because the address or URL is not allowed: trying again cannot help. */
  readonly refused?: boolean;
  /** The start of the response body (RESPONSE_TEXT_MAX), for channels that read an answer. */
  readonly text: string;
}

/** Response bytes read at most; the rest is dropped with the socket. */
const RESPONSE_TEXT_MAX = 16 * 1024;

/**
 * One HTTP(S) request from a delivery channel, through the SSRF guard every outbound URL of a
 * destination goes through: an IP literal that is not public unicast is refused before
 * connecting, and a host name is checked where it is connected to (guardedLookup), so DNS that
 * changed to a private address after the destination was accepted is refused too. `allowPrivate`
 * (WEBHOOK_ALLOW_PRIVATE) lifts the guard for tests whose receivers listen on 127.0.0.1. A 2xx
 * is success; anything else, a timeout or a network error is a failure with its reason. One
 * deadline covers connect, send and answer.
 */
export function guardedRequest(opts: {
  url: string;
  method?: 'POST' | 'PUT';
  headers: Record<string, string | number>;
  body: string | Buffer;
  timeoutMs: number;
  allowPrivate: boolean;
}): Promise<GuardedResponse> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      return resolve({ ok: false, status: null, error: 'invalid url', refused: true, text: '' });
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!opts.allowPrivate && isIP(host) && isBlockedAddress(host)) {
      return resolve({ ok: false, status: null, error: 'refused: blocked address', refused: true, text: '' });
    }
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
    if (!transport) return resolve({ ok: false, status: null, error: 'refused: not http(s)', refused: true, text: '' });
    let settled = false;
    const finish = (r: GuardedResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = transport.request(
      url,
      {
        method: opts.method ?? 'POST',
        lookup: guardedLookup(opts.allowPrivate),
        headers: { 'content-length': Buffer.byteLength(opts.body), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read <= RESPONSE_TEXT_MAX) chunks.push(chunk);
          else res.destroy();
        });
        const status = res.statusCode ?? 0;
        const done = () => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_TEXT_MAX);
          finish(
            status >= 200 && status < 300
              ? { ok: true, status, error: null, text }
              : { ok: false, status, error: `HTTP ${status}`, text },
          );
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, error: `timeout after ${opts.timeoutMs} ms`, text: '' });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        ok: false,
        status: null,
        // The message of a network error names the host and port, never the path or headers.
        error: err.code ? `${err.code}: ${err.message}` : err.message,
        refused: err.code === 'EBLOCKED',
        text: '',
      }),
    );
    req.end(opts.body);
  });
}

/** What every HTTP channel (webhook, ntfy, Telegram, Web Push) retries, waits and sends at once the same. */
export const HTTP_CHANNEL_DEFAULTS: Pick<DeliveryChannel, 'retry' | 'timeoutMs' | 'concurrency'> = {
  retry: DELIVERY_RETRY,
  timeoutMs: DELIVERY_HTTP_TIMEOUT_MS,
  concurrency: DELIVERY_CONCURRENCY,
};

/** A channel's POST under its send context's deadline and SSRF setting. */
export function channelRequest(
  ctx: Pick<SendContext, 'timeoutMs' | 'allowPrivate'>,
  url: string,
  headers: Record<string, string | number>,
  body: string | Buffer,
): Promise<GuardedResponse> {
  return guardedRequest({ url, headers, body, timeoutMs: ctx.timeoutMs, allowPrivate: ctx.allowPrivate });
}

/** channelRequest with a JSON body (already serialized: a webhook signs these very bytes). */
export function postJson(
  ctx: Pick<SendContext, 'timeoutMs' | 'allowPrivate'>,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<GuardedResponse> {
  return channelRequest(ctx, url, { 'content-type': 'application/json', ...headers }, body);
}

/** The outcome every HTTP channel shares: 2xx delivered; a refused address is permanent. */
export function httpOutcomeBase(
  r: GuardedResponse,
):
  | { kind: 'delivered'; status: number | null }
  | { kind: 'permanent' | 'retryable'; status: number | null; error: string } {
  if (r.ok) return { kind: 'delivered', status: r.status };
  const error = r.error ?? 'failed';
  if (r.refused) return { kind: 'permanent', status: r.status, error };
  return { kind: 'retryable', status: r.status, error };
}
