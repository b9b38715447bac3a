import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter, DropDto, RouterInputs, RouterOutputs } from './router-types.js';

export type { AppRouter, DropDto, RouterInputs, RouterOutputs };
/** What every failed call rejects with: `err.data?.code`, `err.data?.zodError`, `err.message`. */
export { TRPCClientError } from '@trpc/client';

/**
 * Calls one batched request carries at most: the server refuses a batch larger than its
 * MAX_BATCH_SIZE (25) with 400, so the link splits bigger bursts into several requests.
 */
export const CLIENT_MAX_BATCH_ITEMS = 25;

/**
 * Any EventSource constructor: the browser's, or on Node 20 (which has none) the `eventsource`
 * package's (v4). Structural, so neither the DOM lib nor that package is needed to compile.
 */
export interface EventSourceInstanceLike {
  readonly CLOSED: number;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readonly readyState: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event types differ per implementation
  addEventListener(type: string, listener: (event: any) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event types differ per implementation
  removeEventListener(type: string, listener: (event: any) => void): void;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the init dict differs per implementation
export type EventSourceConstructorLike = new (url: string, init?: any) => EventSourceInstanceLike;

export interface DropwatchClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:3000 (tRPC lives at /trpc; with or without it works). */
  readonly url: string;
  /** Bearer token for user and admin procedures. */
  readonly token?: string;
  readonly fetch?: typeof globalThis.fetch;
  /** Node 20 has no global EventSource: pass one (e.g. `EventSource` from the `eventsource` package). */
  readonly EventSource?: EventSourceConstructorLike;
}

export type DropwatchClient = TRPCClient<AppRouter>;

/** `http://host:3000`, `http://host:3000/`, `http://host:3000/trpc/` all mean `http://host:3000/trpc`. */
function trpcUrlOf(url: string): string {
  return `${url.replace(/\/+$/, '').replace(/\/trpc$/, '')}/trpc`;
}

/** The URL as an error may show it: no credentials, no query. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/** Why a fetch failed at the network level: undici hides the reason (ECONNREFUSED, ENOTFOUND) in `cause`. */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A fetch whose network failures name the server (`fetch failed` alone says nothing of which
 * server or why); an abort stays an abort.
 */
function fetchNamingServer(baseFetch: typeof globalThis.fetch, trpcUrl: string): typeof globalThis.fetch {
  const where = shownUrl(trpcUrl);
  return async (input, init) => {
    try {
      return await baseFetch(input, init);
    } catch (err) {
      if (init?.signal?.aborted || (err instanceof Error && err.name === 'AbortError')) throw err;
      throw new Error(`cannot reach the dropwatch server at ${where}: ${networkReason(err)}`, { cause: err });
    }
  };
}

export function createDropwatchClient(options: DropwatchClientOptions): DropwatchClient {
  const trpcUrl = trpcUrlOf(options.url);
  const headers = (): Record<string, string> => (options.token ? { authorization: `Bearer ${options.token}` } : {});
  const baseFetch = fetchNamingServer(options.fetch ?? globalThis.fetch, trpcUrl);
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: trpcUrl,
          transformer: superjson,
          ...(options.EventSource ? { EventSource: options.EventSource } : {}),
          // The `eventsource` package takes a fetch to add headers; browsers' EventSource cannot
          // send an Authorization header at all (and ignores this option).
          ...(options.token
            ? {
                eventSourceOptions: () => ({
                  fetch: (input: string | URL, init?: RequestInit) =>
                    baseFetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...headers() } }),
                }),
              }
            : {}),
        }),
        false: httpBatchLink({
          url: trpcUrl,
          transformer: superjson,
          headers,
          maxItems: CLIENT_MAX_BATCH_ITEMS,
          fetch: baseFetch,
        }),
      }),
    ],
  });
}
