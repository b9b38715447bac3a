import { createServer } from 'node:net';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_SIZE } from '@dropwatch/api';
import { CLIENT_MAX_BATCH_ITEMS, createDropwatchClient, TRPCClientError } from '@dropwatch/client';
import { startApiHarness, TEST_ADMIN_TOKEN, type ApiHarness } from './api-fixtures.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof addr !== 'object' || !addr) throw new Error('no port');
  return addr.port;
}

describe('client SDK over HTTP', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(() => h?.stop());

  it('TRPCClientError comes from @dropwatch/client and is what a failed call rejects with', async () => {
    const err = await h
      .client()
      .feed.newDrops.query({ limit: 501 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as TRPCClientError<never>).message).toMatch(/^limit: /);
  });

  it.each(['', '/', '/trpc', '/trpc/'])('url with suffix %j reaches the API', async (suffix) => {
    const c = createDropwatchClient({ url: `${h.app.url}${suffix}`, EventSource });
    expect((await c.health.buckets.query()).buckets).toEqual([]);
  });

  it('a burst of more calls than one batch may hold is split, and every call answers', async () => {
    expect(CLIENT_MAX_BATCH_ITEMS).toBeLessThanOrEqual(MAX_BATCH_SIZE);
    const c = h.client();
    const answers = await Promise.all(Array.from({ length: MAX_BATCH_SIZE * 3 }, () => c.health.buckets.query()));
    expect(answers).toHaveLength(MAX_BATCH_SIZE * 3);
  });

  it('a server that is down: the error names the URL and the reason, never the token', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const c = createDropwatchClient({ url, token: TEST_ADMIN_TOKEN, EventSource });
    const err = await c.health.buckets.query().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    const message = (err as Error).message;
    expect(message).toContain(`${url}/trpc`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain(TEST_ADMIN_TOKEN);
  });
});
