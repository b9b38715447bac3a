import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter, DropDto, RouterInputs, RouterOutputs } from './router-types.js';

export type { AppRouter, DropDto, RouterInputs, RouterOutputs };

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
  /** Base URL of the server, e.g. http://127.0.0.1:3000 (tRPC lives at /trpc). */
  readonly url: string;
  /** Bearer token for user and admin procedures. */
  readonly token?: string;
  readonly fetch?: typeof globalThis.fetch;
  /** Node 20 has no global EventSource: pass one (e.g. `EventSource` from the `eventsource` package). */
  readonly EventSource?: EventSourceConstructorLike;
}

export type DropwatchClient = TRPCClient<AppRouter>;

export function createDropwatchClient(options: DropwatchClientOptions): DropwatchClient {
  const trpcUrl = `${options.url.replace(/\/+$/, '')}/trpc`;
  const headers = (): Record<string, string> => (options.token ? { authorization: `Bearer ${options.token}` } : {});
  const baseFetch = options.fetch ?? globalThis.fetch;
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
          ...(options.fetch ? { fetch: options.fetch } : {}),
        }),
      }),
    ],
  });
}
