import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compress, COMPRESS_MIN_BYTES, encodingFor, type ContentEncoding } from './compression.js';
import { addVary } from './cors.js';

/** Distinct feed.live requests (input spellings) kept at once; the oldest goes first. */
export const LIVE_CACHE_MAX_ENTRIES = 256;
/** `Cache-Control: public, max-age=…` on feed.live, so a CDN in front can share answers. */
export const LIVE_CACHE_MAX_AGE_SECONDS = 5;

export interface CachedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly etag: string;
  /** The renderer's own Vary values (tRPC's `trpc-accept, accept`), kept beside ours. */
  readonly vary?: readonly string[];
  /** The body compressed per encoding, made on first demand and kept as long as the entry. */
  readonly encoded?: Map<ContentEncoding, Promise<Buffer>>;
}

/** miss: this request rendered; shared: it waited for a concurrent request's render. */
export type CacheOutcome = 'hit' | 'miss' | 'shared' | 'not_modified' | 'uncacheable';

/**
 * The serialized-response cache of feed.live. Keyed by the request's path and
 * query (its tRPC input, batched or not) within a generation; a generation ends on every
 * `NOTIFY dropwatch_drops` (the tick rebuilt the feed cache: new feed_cache version) or after
 * `ttlMs` (a writer that forgot to notify). Concurrent misses of one key share one render, so a
 * burst of pollers costs one database read.
 *
 * With `ttlMs` 0 nothing is kept: only requests that arrive while an identical one is being
 * rendered share its answer (coalescing), so no answer is older than the request it joined.
 */
export class LiveResponseCache {
  private entries = new Map<string, { response: CachedResponse; expiresAt: number }>();
  private inflight = new Map<string, Promise<CachedResponse>>();
  private generation = 0;

  /**
   * @param cacheControl sent with every 200 (an answer that is never kept says `no-cache`).
   * @param keep.maxEntries distinct keys kept at once; the oldest goes first.
   * @param keep.expiresAt when an answer rendered at `renderedAt` must go at the latest (with
   *   `ttlMs` the earlier of the two applies).
   * @param keep.mayKeep asked as a request arrives: false, and it is neither answered from a kept
   *   answer nor is its render kept (the render is still shared with identical requests meanwhile).
   */
  constructor(
    private readonly ttlMs: number,
    private readonly cacheControl = `public, max-age=${LIVE_CACHE_MAX_AGE_SECONDS}`,
    private readonly keep: {
      readonly maxEntries?: number;
      readonly expiresAt?: (renderedAt: number) => number;
      readonly mayKeep?: () => boolean;
    } = {},
  ) {}

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
    const mayKeep = this.ttlMs > 0 && (this.keep.mayKeep?.() ?? true);
    const hit = mayKeep ? this.entries.get(key) : undefined;
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
            if (r.status === 200 && generation === this.generation && mayKeep) {
              const expiresAt = Math.min(now + this.ttlMs, this.keep.expiresAt?.(now) ?? Infinity);
              this.put(key, r, expiresAt);
            }
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
    // Appended, not set: the CORS layer has already put `origin` in Vary.
    addVary(res, ...(response.vary ?? []), 'accept-encoding');
    const encoding = response.body.length >= COMPRESS_MIN_BYTES ? encodingFor(req) : null;
    // Each encoding is its own representation with its own strong ETag (RFC 9110 §8.8.3).
    const etag = encoding ? `${response.etag.slice(0, -1)}-${encoding}"` : response.etag;
    const headers = {
      etag,
      'cache-control': this.cacheControl,
      'x-dropwatch-cache': outcome,
    };
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, { ...headers, 'x-dropwatch-cache': 'not_modified' });
      res.end();
      return 'not_modified';
    }
    const body = encoding ? await encodedBody(response, encoding) : response.body;
    res.writeHead(200, {
      ...headers,
      'content-type': response.contentType,
      'content-length': body.length,
      ...(encoding ? { 'content-encoding': encoding } : {}),
    });
    res.end(body);
    return outcome;
  }

  private put(key: string, response: CachedResponse, expiresAt: number): void {
    if (this.entries.size >= (this.keep.maxEntries ?? LIVE_CACHE_MAX_ENTRIES)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { response, expiresAt });
  }
}

/** The cached body in `encoding`: compressed once per cache entry, however many ask. */
function encodedBody(response: CachedResponse, encoding: ContentEncoding): Promise<Buffer> {
  if (!response.encoded) return compress(response.body, encoding);
  let pending = response.encoded.get(encoding);
  if (!pending) {
    pending = compress(response.body, encoding);
    response.encoded.set(encoding, pending);
  }
  return pending;
}

/** A strong validator from the body: identical bytes, identical ETag, across replicas too. */
export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const values = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((v) => v.trim().replace(/^W\//, ''));
  return values.includes('*') || values.includes(etag);
}
