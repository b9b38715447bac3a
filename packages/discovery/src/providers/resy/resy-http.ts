import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { BudgetLane, RequestBudget } from '../../budget/request-budget.js';
import { ProviderError } from '../provider.js';
import { findResponseSchema, searchResponseSchema, type FindResponse, type SearchResponse } from './resy-schema.js';

/** Tries of one request at most (the first and two retries). */
export const RESY_MAX_TRIES = 3;
/** Base and cap of the exponential backoff; each delay is uniform in [0, min(cap, base·2^n)]. */
export const RESY_RETRY_BASE_MS = 500;
export const RESY_RETRY_CAP_MS = 8_000;
/** A Retry-After longer than this is not waited for: the poll fails and the bucket retries later. */
export const RESY_MAX_RETRY_AFTER_MS = 30_000;

const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

export interface ResyHttpOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly authToken?: string | undefined;
  readonly timeoutMs: number;
  /** Every attempt, retries included, waits for a grant of this budget. */
  readonly budget: RequestBudget;
  readonly retryBaseMs?: number;
  readonly logger?: Logger | undefined;
}

export interface SearchCallStats {
  requests: number;
  retries: number;
}

/**
 * One venue search request with its retries, waiting in `lane` of the budget; throws ProviderError.
 * `granted`: the first attempt's grant, taken by the caller for several requests at once
 * (RequestBudget.acquire's count); retries wait for their own.
 */
export function postSearch(
  options: ResyHttpOptions,
  body: unknown,
  stats: SearchCallStats,
  lane: BudgetLane,
  signal?: AbortSignal,
  granted?: Promise<void>,
): Promise<SearchResponse> {
  const request: ResyRequest<SearchResponse> = {
    what: 'resy search',
    path: '/3/venuesearch/search',
    init: { method: 'POST', body: JSON.stringify(body) },
    schema: searchResponseSchema,
    shapeError: 'response has no search.hits array',
  };
  return withRetries(options, request, lane, stats, signal, granted);
}

/** One per-venue availability request (`GET /4/find`) with its retries; throws ProviderError. */
export function getVenueFind(
  options: ResyHttpOptions,
  query: { venueId: number; day: string; partySize: number },
  stats: SearchCallStats,
  signal?: AbortSignal,
): Promise<FindResponse> {
  const params = new URLSearchParams({
    venue_id: String(query.venueId),
    day: query.day,
    party_size: String(query.partySize),
    lat: '0',
    long: '0',
  });
  const request: ResyRequest<FindResponse> = {
    what: 'resy find',
    path: `/4/find?${params.toString()}`,
    init: { method: 'GET' },
    schema: findResponseSchema,
    shapeError: 'response has no results.venues array',
  };
  return withRetries(options, request, 'fast', stats, signal);
}

interface ResyRequest<T> {
  /** Names the call in error messages (never a URL: it would carry query values). */
  readonly what: string;
  readonly path: string;
  readonly init: { readonly method: 'GET' | 'POST'; readonly body?: string };
  readonly schema: z.ZodType<T>;
  readonly shapeError: string;
}

function withRetries<T>(
  options: ResyHttpOptions,
  request: ResyRequest<T>,
  lane: BudgetLane,
  stats: SearchCallStats,
  signal?: AbortSignal,
  granted?: Promise<void>,
): Promise<T> {
  const base = options.retryBaseMs ?? RESY_RETRY_BASE_MS;
  return pRetry(
    async (attemptNumber) => {
      const grant = attemptNumber === 1 && granted ? granted : options.budget.acquire(lane, signal);
      await grant.catch(() => {
        throw new ProviderError('timeout', `${request.what} aborted`, { retryable: false });
      });
      stats.requests += 1;
      return attempt(options, request, signal);
    },
    {
      retries: RESY_MAX_TRIES - 1,
      minTimeout: 0,
      maxTimeout: 0,
      factor: 1,
      randomize: false,
      ...(signal ? { signal } : {}),
      shouldRetry: ({ error }) => error instanceof ProviderError && error.retryable,
      // p-retry's own delay is 0: the wait happens here, full jitter or the server's Retry-After.
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof ProviderError) || !error.retryable || retriesLeft === 0) return;
        const retryAfter = error.details.retryAfterMs;
        if (retryAfter !== undefined && retryAfter > RESY_MAX_RETRY_AFTER_MS) throw error;
        const jitter = Math.random() * Math.min(RESY_RETRY_CAP_MS, base * 2 ** (attemptNumber - 1));
        const wait = retryAfter !== undefined ? retryAfter + Math.random() * base : jitter;
        options.logger?.debug({ code: error.code, attempt: attemptNumber, waitMs: Math.round(wait) }, 'resy retry');
        stats.retries += 1;
        await sleep(wait, signal);
      },
    },
  );
}

async function attempt<T>(options: ResyHttpOptions, request: ResyRequest<T>, signal?: AbortSignal): Promise<T> {
  const { what } = request;
  const headers: Record<string, string> = {
    authorization: `ResyAPI api_key="${options.apiKey}"`,
    accept: 'application/json, text/plain, */*',
    'user-agent': USER_AGENT,
    origin: 'https://resy.com',
    referer: 'https://resy.com/',
  };
  if (request.init.body !== undefined) headers['content-type'] = 'application/json';
  if (options.authToken) headers['x-resy-auth-token'] = options.authToken;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(new URL(request.path, options.baseUrl), {
      ...request.init,
      headers,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (err) {
    if (timeout.aborted) throw new ProviderError('timeout', `${what} timed out after ${options.timeoutMs} ms`);
    if (signal?.aborted) throw new ProviderError('timeout', `${what} aborted`, { retryable: false });
    throw new ProviderError('upstream', `${what} failed: ${networkReason(err)}`);
  }
  options.logger?.debug({ status: res.status, ms: Date.now() - started }, what);
  if (res.status === 200) {
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      if (timeout.aborted) throw new ProviderError('timeout', `${what} timed out after ${options.timeoutMs} ms`);
      throw new ProviderError('malformed', `${what}: response is not JSON`);
    }
    const parsed = request.schema.safeParse(json);
    if (!parsed.success) throw new ProviderError('malformed', `${what}: ${request.shapeError}`);
    return parsed.data;
  }
  // The body is not read into messages: a misbehaving upstream could echo our headers.
  await res.body?.cancel().catch(() => undefined);
  throw classifyStatus(res, what);
}

/** Maps a non-200 response to a provider error code (auth, blocked, rate_limited, upstream). */
export function classifyStatus(res: Response, what = 'resy search'): ProviderError {
  const status = res.status;
  if (status === 401 || status === 419)
    return new ProviderError('auth', `${what}: HTTP ${status} (credentials refused)`, { status });
  if (status >= 300 && status < 400) {
    const location = res.headers.get('location') ?? '';
    if (/login|signin|auth/i.test(location)) {
      return new ProviderError('auth', `${what}: HTTP ${status} redirect to login`, { status });
    }
    return new ProviderError('upstream', `${what}: unexpected HTTP ${status} redirect`, { status, retryable: false });
  }
  if (status === 403) return new ProviderError('blocked', `${what}: HTTP 403 (blocked by a challenge)`, { status });
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return new ProviderError('rate_limited', `${what}: HTTP 429 (rate limited)`, {
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status >= 500) return new ProviderError('upstream', `${what}: HTTP ${status}`, { status });
  return new ProviderError('upstream', `${what}: HTTP ${status}`, { status, retryable: false });
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProviderError('timeout', 'resy search aborted', { retryable: false }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
