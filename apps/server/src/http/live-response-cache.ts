import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compress, COMPRESS_MIN_BYTES, encodingFor, type ContentEncoding } from './compression.js';

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
}

/** miss: this request rendered; shared: it waited for a concurrent request's render. */
export type CacheOutcome = 'hit' | 'miss' | 'shared' | 'not_modified' | 'uncacheable';

/** Header names and values in one array (name, value, name, value…), as `writeHead` takes them. */
type HeaderList = readonly string[];

/** One encoding of an answer: its bytes and the headers that go with them, made once. */
interface Representation {
  readonly body: Buffer;
  readonly etag: string;
  /** The headers of a 200 without `x-dropwatch-cache`. */
  readonly headers: HeaderList;
  /** The headers of a 200 served from the cache ('hit'). */
  readonly hitHeaders: HeaderList;
  readonly notModifiedHeaders: HeaderList;
}

const IDENTITY = 'identity';
type RepresentationKey = ContentEncoding | typeof IDENTITY;

/**
 * A rendered answer as this cache serves it: its body per encoding (compressed once, however many
 * ask), and for each the complete header list of a 200 and of a 304. Requests served from it write
 * their answer with one `writeHead` of a ready list, no header merging per request.
 */
class Rendered {
  /** Every answer varies on Origin (CORS), the renderer's own values, and Accept-Encoding. */
  private readonly vary: string;
  private readonly representations = new Map<RepresentationKey, Representation>();
  private readonly compressing = new Map<ContentEncoding, Promise<Representation>>();

  constructor(
    readonly response: CachedResponse,
    private readonly cacheControl: string,
  ) {
    this.vary = varyOf(['origin', ...(response.vary ?? []), 'accept-encoding']);
    if (response.status === 200) this.representations.set(IDENTITY, this.representation(response.body, null));
  }

  /** The encoding `req` gets: identity for answers too small to be worth compressing. */
  encodingFor(req: IncomingMessage): ContentEncoding | null {
    return this.response.body.length >= COMPRESS_MIN_BYTES ? encodingFor(req) : null;
  }

  /** The representation in `encoding` if its bytes are ready. */
  ready(encoding: ContentEncoding | null): Representation | undefined {
    return this.representations.get(encoding ?? IDENTITY);
  }

  /** The representation in `encoding`, compressed on first demand. */
  get(encoding: ContentEncoding | null): Representation | Promise<Representation> {
    const ready = this.ready(encoding);
    if (ready || encoding === null) return ready ?? this.representation(this.response.body, null);
    let pending = this.compressing.get(encoding);
    if (!pending) {
      pending = compress(this.response.body, encoding).then((body) => {
        const r = this.representation(body, encoding);
        this.representations.set(encoding, r);
        return r;
      });
      this.compressing.set(encoding, pending);
      // A failed compression is asked again by the next request, not kept.
      pending.catch(() => this.compressing.delete(encoding));
    }
    return pending;
  }

  private representation(body: Buffer, encoding: ContentEncoding | null): Representation {
    // Each encoding is its own representation with its own strong ETag (RFC 9110 §8.8.3).
    const etag = encoding ? `${this.response.etag.slice(0, -1)}-${encoding}"` : this.response.etag;
    const common = ['vary', this.vary, 'etag', etag, 'cache-control', this.cacheControl];
    const headers = Object.freeze([
      ...common,
      'content-type',
      this.response.contentType,
      'content-length',
      String(body.length),
      ...(encoding ? ['content-encoding', encoding] : []),
    ]);
    return {
      body,
      etag,
      headers,
      hitHeaders: Object.freeze([...headers, 'x-dropwatch-cache', 'hit']),
      notModifiedHeaders: Object.freeze([...common, 'x-dropwatch-cache', 'not_modified']),
    };
  }

  /** A non-200 answer: sent as it is, never kept. */
  writeError(res: ServerResponse, cors: HeaderList): void {
    res.writeHead(
      this.response.status,
      withCors(cors, ['vary', 'origin', 'content-type', this.response.contentType, 'cache-control', 'no-store']),
    );
    res.end(this.response.body);
  }
}

const withCors = (cors: HeaderList, headers: HeaderList): string[] =>
  (cors.length === 0 ? headers : [...cors, ...headers]) as string[];

/** Vary values joined, each once (case-insensitively), in their first order. */
function varyOf(values: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    const lower = v.trim().toLowerCase();
    if (lower.length > 0 && !seen.has(lower)) {
      seen.add(lower);
      out.push(v.trim());
    }
  }
  return out.join(', ');
}

/**
 * Writes the answer in `r` to `req`: a 304 when If-None-Match names its ETag, else a 200 with the
 * bytes. `headers200` is r's header list for this outcome.
 */
function writeRepresentation(
  req: IncomingMessage,
  res: ServerResponse,
  cors: HeaderList,
  r: Representation,
  headers200: HeaderList,
): boolean {
  if (etagMatches(req.headers['if-none-match'], r.etag)) {
    res.writeHead(304, withCors(cors, r.notModifiedHeaders));
    res.end();
    return true;
  }
  res.writeHead(200, withCors(cors, headers200));
  res.end(r.body);
  return false;
}

/**
 * The serialized-response cache of feed.live. Keyed by the request's path and
 * query (its tRPC input, batched or not) within a generation; a generation ends on every
 * `NOTIFY dropwatch_drops` (the tick rebuilt the feed cache: new feed_cache version) or after
 * `ttlMs` (a writer that forgot to notify). Concurrent misses of one key share one render, so a
 * burst of pollers costs one database read.
 *
 * With `ttlMs` 0 nothing is kept: only requests that arrive while an identical one is being
 * rendered share its answer (coalescing), so no answer is older than the request it joined.
 *
 * Answers are written whole (status, every header, body) with `writeHead`: the caller passes the
 * CORS headers of the request (`Cors.headersFor`) and must not have set any header on `res`.
 */
export class LiveResponseCache {
  private entries = new Map<string, { rendered: Rendered; expiresAt: number }>();
  private inflight = new Map<string, Promise<Rendered>>();
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

  private mayKeep(): boolean {
    return this.ttlMs > 0 && (this.keep.mayKeep?.() ?? true);
  }

  /**
   * Answers `req` from a kept answer, synchronously, when there is one still within its bound
   * with its bytes in the encoding `req` gets already made: 'hit' or 'not_modified'. Otherwise
   * writes nothing and returns undefined (then `serve`).
   */
  serveKept(req: IncomingMessage, res: ServerResponse, cors: HeaderList): CacheOutcome | undefined {
    if (this.entries.size === 0 || !this.mayKeep()) return undefined;
    const hit = this.entries.get(req.url ?? '');
    if (!hit || hit.expiresAt <= Date.now()) return undefined;
    const r = hit.rendered.ready(hit.rendered.encodingFor(req));
    if (!r) return undefined;
    return writeRepresentation(req, res, cors, r, r.hitHeaders) ? 'not_modified' : 'hit';
  }

  /**
   * Answers from the cache, or renders with `render` (the real tRPC handler) and keeps a 200.
   * Returns what happened, for metrics and the `x-dropwatch-cache` header.
   */
  async serve(
    req: IncomingMessage,
    res: ServerResponse,
    cors: HeaderList,
    render: () => Promise<CachedResponse>,
  ): Promise<CacheOutcome> {
    const key = req.url ?? '';
    const now = Date.now();
    const mayKeep = this.mayKeep();
    const hit = mayKeep ? this.entries.get(key) : undefined;
    let rendered: Rendered;
    let outcome: CacheOutcome;
    if (hit && hit.expiresAt > now) {
      rendered = hit.rendered;
      outcome = 'hit';
    } else {
      const generation = this.generation;
      let pending = this.inflight.get(key);
      const shared = pending !== undefined;
      if (!pending) {
        pending = render().then((r) => new Rendered(r, this.cacheControl));
        this.inflight.set(key, pending);
        const inflight = this.inflight;
        void pending.then(
          (r) => {
            inflight.delete(key);
            // Only a 200 of the generation it was rendered in is kept.
            if (r.response.status === 200 && generation === this.generation && mayKeep) {
              const expiresAt = Math.min(now + this.ttlMs, this.keep.expiresAt?.(now) ?? Infinity);
              this.put(key, r, expiresAt);
            }
          },
          () => inflight.delete(key),
        );
      }
      rendered = await pending;
      outcome = rendered.response.status !== 200 ? 'uncacheable' : shared ? 'shared' : 'miss';
    }
    if (rendered.response.status !== 200) {
      rendered.writeError(res, cors);
      return outcome;
    }
    const r = await rendered.get(rendered.encodingFor(req));
    const headers = outcome === 'hit' ? r.hitHeaders : [...r.headers, 'x-dropwatch-cache', outcome];
    return writeRepresentation(req, res, cors, r, headers) ? 'not_modified' : outcome;
  }

  private put(key: string, rendered: Rendered, expiresAt: number): void {
    if (this.entries.size >= (this.keep.maxEntries ?? LIVE_CACHE_MAX_ENTRIES)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { rendered, expiresAt });
  }
}

/** A strong validator from the body: identical bytes, identical ETag, across replicas too. */
export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  if (header === etag) return true;
  const values = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((v) => v.trim().replace(/^W\//, ''));
  return values.includes('*') || values.includes(etag);
}
