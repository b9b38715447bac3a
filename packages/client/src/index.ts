import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter, RouterInputs, RouterOutputs } from '@dropwatch/api';

export type { AppRouter, RouterInputs, RouterOutputs };

export interface DropwatchClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:3000 (tRPC lives at /trpc). */
  readonly url: string;
  /** Bearer token for user and admin procedures. */
  readonly token?: string;
  readonly fetch?: typeof globalThis.fetch;
  /** Node 20 has no global EventSource: pass one (e.g. from the `eventsource` package). */
  readonly EventSource?: typeof globalThis.EventSource;
}

export type DropwatchClient = TRPCClient<AppRouter>;

export function createDropwatchClient(options: DropwatchClientOptions): DropwatchClient {
  const trpcUrl = `${options.url.replace(/\/+$/, '')}/trpc`;
  const headers = (): Record<string, string> => (options.token ? { authorization: `Bearer ${options.token}` } : {});
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: trpcUrl,
          transformer: superjson,
          ...(options.EventSource ? { EventSource: options.EventSource } : {}),
          ...(options.token
            ? { eventSourceOptions: () => ({ headers: headers() }) as EventSourceInit }
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
