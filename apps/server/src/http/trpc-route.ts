import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  appRouter,
  createRequestContextFactory,
  MAX_BATCH_SIZE,
  type DropSignal,
  type ReplicaReads,
} from '@dropwatch/api';
import type { Config } from '@dropwatch/core';
import type { MikroORM } from '@dropwatch/db';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { Logger } from '../logger.js';
import { compressWhenDone, encodingFor } from './compression.js';
import { addVary, createCors, isPreflight, mergeVaryOnSetHeader } from './cors.js';
import { etagOf, LiveResponseCache, type CachedResponse } from './live-response-cache.js';
import type { HttpMetrics } from './metrics.js';
import { createBriefAnswersCache, keptBriefly } from './brief-answers.js';
import { createNewDropsCache, sharesNewDrops } from './new-drops-cache.js';

export const TRPC_PREFIX = '/trpc/';
const LIVE_PATH = `${TRPC_PREFIX}feed.live`;
/** Request bodies (mutations, POSTed batches) larger than this are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface TrpcRouteDeps {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly logger: Logger;
  readonly drops: DropSignal | null;
  readonly metrics: HttpMetrics;
  /** READ_DATABASE_URL's reads (null: every read on `orm`). */
  readonly replica?: ReplicaReads | null;
}

export interface TrpcRoute {
  /** Settles when the answer is written; a request answered from a kept answer returns nothing. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> | void;
  readonly liveCache: LiveResponseCache;
  /** Ends every open SSE stream (on shutdown, so HTTP close need not wait for them). */
  closeSubscriptions(): void;
}

const PROCEDURES = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
const KNOWN_PROCEDURES = new Set(Object.keys(PROCEDURES));

/**
 * Procedure names of a request path, for metric labels (unknown names collapse to one label).
 * A path that is not valid percent-encoding is 'unknown' here: tRPC answers it (4xx), and a
 * label must never be what fails the request.
 */
function proceduresOf(pathname: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname.slice(TRPC_PREFIX.length));
  } catch {
    return ['unknown'];
  }
  return decoded.split(',').map((n) => (KNOWN_PROCEDURES.has(n) ? n : 'unknown'));
}

/**
 * Public queries whose answer depends on their input and the database only, never on who asks.
 * Identical anonymous GETs of these that arrive while one is being answered share its answer:
 * one database read, one serialization, one compression per encoding for a burst (pollers at the
 * head of newDrops all hold the same cursor; dashboards ask health.buckets with the same input).
 * Nothing is kept once sent, so an answer is never older than the request that joined it — except
 * feed.live, feed.newDrops from a cursor (until the drop signal's next wake), and health.status,
 * health.buckets and batches of them with feed.live (a second at most), whose caches keep them.
 */
const COALESCED_QUERIES: ReadonlySet<string> = new Set([
  'feed.live',
  'feed.newDrops',
  'feed.justOpened',
  'feed.stillOpen',
  'feed.board',
  'health.status',
  'health.buckets',
  'health.lastScan',
]);

/**
 * Whether `req` may be answered by an anonymous render of its URL alone: a GET with no
 * credentials, and not asking for tRPC's streamed (JSON lines) batch format, which the render
 * does not produce.
 */
const rendersAnonymously = (req: IncomingMessage): boolean =>
  req.method === 'GET' && !req.headers.authorization && !req.headers['trpc-accept'];

/** Subscriptions are SSE streams open for minutes: not request latency. */
const isStream = (procedures: readonly string[]) => procedures.some((n) => PROCEDURES[n]?._def.type === 'subscription');

/** Which of the route's caches answers an anonymous GET of a URL (see `handle`). */
type CacheChoice = 'live' | 'newDrops' | 'brief' | 'coalesced' | null;

/** What a request URL says, for routing and metrics: a function of the URL string alone. */
interface UrlFacts {
  readonly procedures: readonly string[];
  readonly stream: boolean;
  readonly cache: CacheChoice;
}

function factsOf(rawUrl: string): UrlFacts {
  const url = new URL(rawUrl, 'http://localhost');
  const pathname = url.pathname;
  const procedures = proceduresOf(pathname);
  let cache: CacheChoice = null;
  if (pathname === LIVE_PATH) cache = 'live';
  else if (keptBriefly(procedures)) cache = 'brief';
  else if (procedures.every((p) => COALESCED_QUERIES.has(p)))
    cache = sharesNewDrops(url, procedures) ? 'newDrops' : 'coalesced';
  return { procedures, stream: isStream(procedures), cache };
}

/**
 * URL facts by URL. Clients poll a few URLs over and over, so a request is a lookup instead of a
 * URL parse, a percent-decode and (for newDrops) a JSON parse of its input. Long URLs are not
 * kept and the map is emptied when full: a client sending a new URL each time costs a parse,
 * never memory.
 */
const URL_FACTS_MAX_ENTRIES = 1024;
const URL_FACTS_MAX_LENGTH = 2048;
const urlFacts = new Map<string, UrlFacts>();

function urlFactsOf(rawUrl: string): UrlFacts {
  let facts = urlFacts.get(rawUrl);
  if (facts === undefined) {
    facts = factsOf(rawUrl);
    if (rawUrl.length <= URL_FACTS_MAX_LENGTH) {
      if (urlFacts.size >= URL_FACTS_MAX_ENTRIES) urlFacts.clear();
      urlFacts.set(rawUrl, facts);
    }
  }
  return facts;
}

/**
 * tRPC at /trpc (batching on, SSE subscriptions on the same path) through the standalone
 * adapter; GET feed.live through the serialized-response cache with ETag / 304.
 */
export function createTrpcRoute(deps: TrpcRouteDeps): TrpcRoute {
  const createContext = createRequestContextFactory({
    orm: deps.orm,
    config: deps.config,
    drops: deps.drops,
    replica: deps.replica ?? null,
  });
  const log = deps.logger.child({ component: 'trpc' });
  const onError = ({
    error,
    path,
  }: {
    error: { code: string; message: string; cause?: unknown };
    path?: string | undefined;
  }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error.cause ?? error, path }, 'procedure failed');
  };
  const handler = createHTTPHandler({
    router: appRouter,
    basePath: TRPC_PREFIX,
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_SIZE,
    // A stream ticket counts only on a subscription: it stands in for the token that a
    // browser's EventSource cannot send, and nowhere else.
    createContext: ({ req, info }) =>
      createContext(
        req.headers.authorization,
        info.type === 'subscription' ? (info.connectionParams?.ticket ?? null) : null,
      ),
    onError,
  });

  const liveCache = new LiveResponseCache(deps.config.DISCOVERY_TICK_SECONDS * 1000);
  // health.status, health.buckets, and batches of them with feed.live: kept a second at most, and
  // a batch with feed.live no longer than feed.live's generation.
  const brief = createBriefAnswersCache();
  // A new feed_cache version comes with a NOTIFY ('visible' re-wakes only concern live readers).
  deps.drops?.subscribe((reason) => {
    if (reason === 'visible') return;
    liveCache.invalidate();
    brief.invalidate();
  });

  // Coalescing only: concurrent identical requests share a render, nothing is kept after it.
  const coalescer = new LiveResponseCache(0, 'no-cache');
  // feed.newDrops from a cursor: kept until the drop signal's next wake.
  const newDrops = createNewDropsCache(deps.drops);

  /** Renders a GET (feed.live, or a coalesced query) through the real tRPC pipeline (fetch adapter) into bytes. */
  const renderAnonymous = async (req: IncomingMessage): Promise<CachedResponse> => {
    const response = await fetchRequestHandler({
      router: appRouter,
      endpoint: '/trpc',
      maxBatchSize: MAX_BATCH_SIZE,
      req: new Request(new URL(req.url ?? '/', 'http://localhost'), { method: 'GET' }),
      // Public queries only: the answer must not depend on who asks.
      createContext: () => createContext(null),
      onError,
    });
    const body = Buffer.from(await response.arrayBuffer());
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? 'application/json',
      body,
      etag: etagOf(body),
      vary: (response.headers.get('vary') ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0),
    };
  };

  const streams = new Set<ServerResponse>();
  const cors = createCors(deps.config.CORS_ORIGINS);

  /**
   * The cache that answers `req`: feed.live's for every GET of feed.live alone (its render is
   * anonymous whoever asks); for GETs that render anonymously, newDrops', the brief answers' or the coalescer.
   */
  const cacheFor = (req: IncomingMessage, choice: CacheChoice): LiveResponseCache | null => {
    if (req.method !== 'GET' || req.headers['trpc-accept']) return null;
    if (choice === 'live') return liveCache;
    if (choice === null || !rendersAnonymously(req)) return null;
    return choice === 'newDrops' ? newDrops : choice === 'brief' ? brief : coalescer;
  };

  return {
    liveCache,
    closeSubscriptions() {
      for (const res of streams) res.destroy();
      streams.clear();
    },
    handle(req, res) {
      // A preflight is answered here and is not a procedure call (not counted in the metrics).
      // (One without an Origin is not answered by CORS and goes on to tRPC, which refuses it.)
      const preflight = isPreflight(req);
      if (preflight && cors.apply(req, res) === 'preflight') return;
      const started = process.hrtime.bigint();
      const facts = urlFactsOf(req.url ?? '/');
      // 'close', not 'finish': an SSE stream ends by the client going away, which never finishes.
      res.once('close', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        deps.metrics.observeRequest(facts.procedures, res.statusCode, facts.stream ? null : seconds);
      });
      // The caches write their answers whole, CORS headers included, with no setHeader before.
      const cache = cacheFor(req, facts.cache);
      if (cache) {
        const corsHeaders = cors.headersFor(req);
        const kept = cache.serveKept(req, res, corsHeaders);
        if (kept) {
          if (cache === liveCache) deps.metrics.liveCache(kept);
          return;
        }
        const served = cache.serve(req, res, corsHeaders, () => renderAnonymous(req));
        return cache === liveCache ? served.then((outcome) => deps.metrics.liveCache(outcome)) : served;
      }
      if (!preflight) cors.apply(req, res);
      mergeVaryOnSetHeader(res);
      // Every SSE stream (feed.onDrop, notifications.onNew, …) is counted and ended at shutdown.
      if (facts.stream) {
        deps.metrics.subscribers.inc();
        streams.add(res);
        res.once('close', () => {
          streams.delete(res);
          deps.metrics.subscribers.dec();
        });
      } else {
        // JSON answers compressed when the client accepts it; SSE streams go as they are.
        addVary(res, 'accept-encoding');
        const encoding = encodingFor(req);
        if (encoding) compressWhenDone(res, encoding);
      }
      handler(req, res);
    },
  };
}
