import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Distinct feed.live requests (input spellings) kept at once; the oldest goes first. */
export const LIVE_CACHE_MAX_ENTRIES = 256;
/** `Cache-Control: public, max-age=…` on feed.live, so a CDN in front can share answers. */
export const LIVE_CACHE_MAX_AGE_SECONDS = 5;

export interface CachedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly etag: string;
}

/** miss: this request rendered; shared: it waited for a concurrent request's render. */
export type CacheOutcome = 'hit' | 'miss' | 'shared' | 'not_modified' | 'uncacheable';

/**
 * The serialized-response cache of feed.live. Keyed by the request's path and
 * query (its tRPC input, batched or not) within a generation; a generation ends on every
 * `NOTIFY dropwatch_drops` (the tick rebuilt the feed cache: new feed_cache version) or after
 * `ttlMs` (a writer that forgot to notify). Concurrent misses of one key share one render, so a
 * burst of pollers costs one database read.
 */
export class LiveResponseCache {
  private entries = new Map<string, { response: CachedResponse; expiresAt: number }>();
  private inflight = new Map<string, Promise<CachedResponse>>();
  private generation = 0;

  constructor(private readonly ttlMs: number) {}

  invalidate(): void {
    this.generation++;
    this.entries = new Map();
    this.inflight = new Map();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Answers from the cache, or renders with `render` (the real tRPC handler) and keeps a 200.
   * Returns what happened, for metrics and the `x-dropwatch-cache` header.
   */
  async serve(req: IncomingMessage, res: ServerResponse, render: () => Promise<CachedResponse>): Promise<CacheOutcome> {
    const key = req.url ?? '';
    const now = Date.now();
    const hit = this.entries.get(key);
    let response: CachedResponse;
    let outcome: CacheOutcome;
    if (hit && hit.expiresAt > now) {
      response = hit.response;
      outcome = 'hit';
    } else {
      const generation = this.generation;
      let pending = this.inflight.get(key);
      const shared = pending !== undefined;
      if (!pending) {
        pending = render();
        this.inflight.set(key, pending);
        const inflight = this.inflight;
        void pending.then(
          (r) => {
            inflight.delete(key);
            // Only a 200 of the generation it was rendered in is kept.
            if (r.status === 200 && generation === this.generation) this.put(key, r, now + this.ttlMs);
          },
          () => inflight.delete(key),
        );
      }
      response = await pending;
      outcome = response.status !== 200 ? 'uncacheable' : shared ? 'shared' : 'miss';
    }
    if (response.status !== 200) {
      res.writeHead(response.status, { 'content-type': response.contentType, 'cache-control': 'no-store' });
      res.end(response.body);
      return outcome;
    }
    const headers = {
      etag: response.etag,
      'cache-control': `public, max-age=${LIVE_CACHE_MAX_AGE_SECONDS}`,
      vary: 'accept-encoding',
      'x-dropwatch-cache': outcome,
    };
    if (etagMatches(req.headers['if-none-match'], response.etag)) {
      res.writeHead(304, { ...headers, 'x-dropwatch-cache': 'not_modified' });
      res.end();
      return 'not_modified';
    }
    res.writeHead(200, { ...headers, 'content-type': response.contentType, 'content-length': response.body.length });
    res.end(response.body);
    return outcome;
  }

  private put(key: string, response: CachedResponse, expiresAt: number): void {
    if (this.entries.size >= LIVE_CACHE_MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { response, expiresAt });
  }
}

/** A strong validator from the body: identical bytes, identical ETag, across replicas too. */
export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const values = (Array.isArray(header) ? header.join(',') : header).split(',').map((v) => v.trim().replace(/^W\//, ''));
  return values.includes('*') || values.includes(etag);
}
