import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
  type Operation,
  type TRPCClient,
  type TRPCLink,
} from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter, DropDto, RouterInputs, RouterOutputs } from './router-types.js';

export type { AppRouter, DropDto, RouterInputs, RouterOutputs };
export type { Context, Meta, ZodErrorShape, ZodIssueShape } from './router-types.js';
/** What every failed call rejects with: `err.data?.code`, `err.data?.zodError`, `err.message`. */
export { TRPCClientError } from '@trpc/client';

/**
 * Calls one batched request carries at most: the server refuses a batch larger than its
 * MAX_BATCH_SIZE (25) with 400, so the link splits bigger bursts into several requests.
 */
export const CLIENT_MAX_BATCH_ITEMS = 25;

/**
 * Longest URL a batched GET may have; a longer batch is split into several requests. Proxies,
 * CDNs and some servers refuse URLs past a few KB (2083 is the smallest limit still common), and
 * a batch of queries carries every input in its URL.
 */
export const CLIENT_MAX_URL_LENGTH = 2083;

/**
 * Queries sent alone, never in a batch: the server answers `GET /trpc/feed.live?input=…` from its
 * feed cache with an ETag (304 when unchanged, which a browser's HTTP cache revalidates by itself),
 * while a batched URL such as `/trpc/feed.live,health.status` is a different resource that
 * bypasses that cache.
 */
const UNBATCHED_QUERIES: ReadonlySet<string> = new Set(['feed.live']);

/**
 * A query whose input alone makes a URL longer than CLIENT_MAX_URL_LENGTH cannot go through the
 * batch link (it refuses it on the client: "Input is too big for a single dispatch"); it is sent
 * alone, so the server answers it (a BAD_REQUEST for an input past its limits, with the reason).
 */
const tooLongToBatch = (op: Operation): boolean =>
  op.type === 'query' &&
  encodeURIComponent(JSON.stringify(superjson.serialize(op.input))).length + op.path.length > CLIENT_MAX_URL_LENGTH;

const isUnbatched = (op: Operation): boolean =>
  op.type === 'query' && (UNBATCHED_QUERIES.has(op.path) || tooLongToBatch(op));

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
  /**
   * How a subscription proves who it is when `token` is set:
   * - `'ticket'` (default): before each (re)connection the client asks `auth.streamTicket` (with
   *   the bearer token, in a header) for a single-use ticket valid a minute and sends only that
   *   in the SSE URL. The one way that works in browsers, whose EventSource sends no headers,
   *   and the long-lived token never appears in a URL.
   * - `'header'`: the token in an Authorization header, through the EventSource's `fetch` option
   *   (the `eventsource` package on Node supports it; browsers do not).
   */
  readonly subscriptionAuth?: 'ticket' | 'header';
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

/**
 * An EventSource that never reconnects by itself once it has been open. A native EventSource
 * retries with the same URL, whose single-use ticket the server has already redeemed: that
 * retry would be refused. This one closes instead and keeps saying CONNECTING, so tRPC's
 * consumer reconnects after its inactivity timeout (twice the server's ping interval) through
 * a fresh URL with a fresh ticket, resuming from the last event id it saw.
 */
function ticketEventSource(Base: EventSourceConstructorLike): EventSourceConstructorLike {
  return class TicketEventSource implements EventSourceInstanceLike {
    readonly CLOSED = 2;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    private readonly es: EventSourceInstanceLike;
    private waiting = false;
    private opened = false;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the init dict differs per implementation
    constructor(url: string, init?: any) {
      this.es = new Base(url, init);
      this.es.addEventListener('open', () => {
        this.opened = true;
      });
      // Registered before tRPC's own listener, so it reads CONNECTING, not CLOSED.
      this.es.addEventListener('error', () => {
        if (this.opened && this.es.readyState === this.es.CONNECTING) {
          this.waiting = true;
          this.es.close();
        }
      });
    }
    get readyState(): number {
      return this.waiting ? this.CONNECTING : this.es.readyState;
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event types differ per implementation
    addEventListener(type: string, listener: (event: any) => void): void {
      this.es.addEventListener(type, listener);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event types differ per implementation
    removeEventListener(type: string, listener: (event: any) => void): void {
      this.es.removeEventListener(type, listener);
    }
    close(): void {
      this.waiting = false;
      this.es.close();
    }
  };
}

/**
 * The links of a dropwatch client, for apps that build their own tRPC client (React Query:
 * `createTRPCClient<AppRouter>({ links: createDropwatchLinks(options) })`): subscriptions over
 * SSE, `feed.live` alone (so its ETag cache applies), everything else batched.
 */
export function createDropwatchLinks(options: DropwatchClientOptions): TRPCLink<AppRouter>[] {
  const trpcUrl = trpcUrlOf(options.url);
  const headers = (): Record<string, string> => (options.token ? { authorization: `Bearer ${options.token}` } : {});
  const baseFetch = fetchNamingServer(options.fetch ?? globalThis.fetch, trpcUrl);
  const batchLink = httpBatchLink({
    url: trpcUrl,
    transformer: superjson,
    headers,
    maxItems: CLIENT_MAX_BATCH_ITEMS,
    maxURLLength: CLIENT_MAX_URL_LENGTH,
    fetch: baseFetch,
  });
  const singleLink = httpLink({ url: trpcUrl, transformer: superjson, headers, fetch: baseFetch });
  const useTicket = options.token !== undefined && options.subscriptionAuth !== 'header';
  // Tickets come from their own small client: the main one's links are what is being built.
  const ticketClient = useTicket ? createTRPCClient<AppRouter>({ links: [batchLink] }) : null;
  /** A fresh ticket; none when the token itself is refused (public streams still work then). */
  const ticketParams = async (): Promise<Record<string, string> | null> => {
    if (!ticketClient) return null;
    try {
      const { ticket } = await ticketClient.auth.streamTicket.mutate();
      return { ticket };
    } catch (err) {
      if (err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED')
        return null;
      throw err;
    }
  };
  const BaseEventSource =
    options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructorLike }).EventSource;
  const subscriptionLink = httpSubscriptionLink({
    url: trpcUrl,
    transformer: superjson,
    ...(useTicket
      ? {
          connectionParams: ticketParams,
          ...(BaseEventSource ? { EventSource: ticketEventSource(BaseEventSource) } : {}),
        }
      : options.EventSource
        ? { EventSource: options.EventSource }
        : {}),
    // The `eventsource` package takes a fetch to add headers; browsers' EventSource cannot
    // send an Authorization header at all (and ignores this option).
    ...(options.token && !useTicket
      ? {
          eventSourceOptions: () => ({
            fetch: (input: string | URL, init?: RequestInit) =>
              baseFetch(input, {
                ...init,
                headers: { ...(init?.headers as Record<string, string> | undefined), ...headers() },
              }),
          }),
        }
      : {}),
  });
  return [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: subscriptionLink,
      false: splitLink({ condition: isUnbatched, true: singleLink, false: batchLink }),
    }),
  ];
}

export function createDropwatchClient(options: DropwatchClientOptions): DropwatchClient {
  return createTRPCClient<AppRouter>({ links: createDropwatchLinks(options) });
}

/** A channel `destinations.add` takes. */
export type DestinationChannel = RouterInputs['destinations']['add']['channel'];
/** One destination as `destinations.list` returns it. */
export type Destination = RouterOutputs['destinations']['list']['items'][number];

/**
 * What apps call each channel. A record over the router's own union: a channel the API gains or
 * drops does not compile here until it is named, and every app that lists channels follows.
 */
export const DESTINATION_CHANNEL_LABELS: Readonly<Record<DestinationChannel, string>> = {
  webhook: 'Webhook (signed POST)',
  ntfy: 'ntfy topic',
  telegram: 'Telegram chat',
  email: 'Email',
  webpush: 'Web Push (a browser)',
};

/** Every destination channel, in the order apps offer them. */
export const DESTINATION_CHANNELS = Object.keys(DESTINATION_CHANNEL_LABELS) as readonly DestinationChannel[];

/** Where a destination sends, in a few words: its URL, chat or address, never a secret. */
export function destinationTarget(d: Destination): string {
  switch (d.channel) {
    case 'webhook':
      return d.settings.url;
    case 'ntfy':
      return `${d.settings.topicUrl} (priority ${d.settings.priority}${d.settings.hasAccessToken ? ', with a token' : ''})`;
    case 'telegram':
      return `chat ${d.settings.chatId}`;
    case 'email':
      return d.settings.to;
    case 'webpush':
      return `push via ${d.settings.endpointOrigin}`;
  }
}
