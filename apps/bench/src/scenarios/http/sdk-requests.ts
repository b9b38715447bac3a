import { createDropwatchClient, type DropwatchClient } from '@dropwatch/client';
import type { LoadRequest } from './load.js';

/**
 * The HTTP requests the SDK (@dropwatch/client, with its real links) sends for `calls`, in the
 * order it sends them: path with query and the headers the SDK itself sets. The calls are made
 * for real against `origin`, so what the bench loads is exactly what a frontend's client sends.
 * (Accept-Encoding is not among them: the runtime's fetch adds it, so each case sets its own.)
 */
export async function sdkRequests(
  origin: string,
  calls: (client: DropwatchClient) => Promise<unknown>,
): Promise<LoadRequest[]> {
  const sent: LoadRequest[] = [];
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    if ((init?.method ?? 'GET') !== 'GET') throw new Error(`the SDK sent ${init?.method} ${url.pathname}: not a query`);
    sent.push({ path: `${url.pathname}${url.search}`, headers });
    return fetch(input, init);
  };
  await calls(createDropwatchClient({ url: origin, fetch: recording }));
  return sent;
}
