import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import pino from 'pino';
import { issueToken } from '@dropwatch/api';
import type { DropwatchClient } from '@dropwatch/client';
import { loadConfig } from '@dropwatch/core';
import { runNotify, verifyWebhook } from '@dropwatch/discovery';
import { dayFromToday, seedBucket, seedDrop, seedVenue, startApiHarness, waitFor, type ApiHarness } from './api-fixtures.js';

const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

interface Hit {
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCClientError) return (err.data as { code: string } | undefined)?.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('webhooks.set/test/remove over HTTP', () => {
  let strict: ApiHarness;
  let open: ApiHarness;
  let receiver: http.Server;
  let receiverUrl: string;
  const hits: Hit[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: req.headers['x-dropwatch-signature'] as string | undefined,
          timestamp: req.headers['x-dropwatch-timestamp'] as string | undefined,
        });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    strict = await startApiHarness();
    open = await startApiHarness({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterAll(async () => {
    await strict?.stop();
    await open?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  const client = async (h: ApiHarness, name: string): Promise<DropwatchClient> =>
    h.client((await issueToken(h.app.orm.em.fork(), { userName: name, role: 'user' })).token);

  it('refuses non-http(s) URLs and hosts resolving to loopback/private/link-local addresses by default', async () => {
    const c = await client(strict, 'strict-user');
    for (const url of [receiverUrl, 'http://localhost:9/x', 'http://10.0.0.1/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'ftp://example.test/x', 'http://0.0.0.0/x',
      'http://[::127.0.0.1]/x', 'http://[64:ff9b::7f00:1]/x', 'http://[64:ff9b::a9fe:a9fe]/x', 'http://[2002:7f00:1::]/x']) {
      expect(await codeOf(c.webhooks.set.mutate({ url })), url).toBe('BAD_REQUEST');
    }
    expect(await codeOf(c.webhooks.test.mutate())).toBe('NOT_FOUND');
    expect(await codeOf(strict.client().webhooks.set.mutate({ url: 'https://example.test/x' }))).toBe('UNAUTHORIZED');
  });

  it('set returns the secret once; test() and the notify job deliver signed bodies; remove stops them', async () => {
    const c = await client(open, 'hooked-user');
    const set = await c.webhooks.set.mutate({ url: receiverUrl });
    expect(set.secret).toMatch(/^whsec_/);
    expect(set.url).toBe(receiverUrl);

    expect(await c.webhooks.test.mutate()).toEqual({ delivered: true, status: 200, error: null });
    const test = hits.at(-1)!;
    expect(verifyWebhook(set.secret, test, test.body, { toleranceSeconds: 300 })).toBe(true);
    expect(JSON.parse(test.body)).toMatchObject({ type: 'test' });

    await c.watches.add.mutate({ venueId: 'resy:77' });
    const bucketId = await seedBucket(open.sql, { market: 'nyc', date: dayFromToday(1), timeSlot: '20:30' });
    await seedVenue(open.sql, { venueId: 'resy:77', market: 'nyc', name: 'Hooked' });
    const config = loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    const notify = () => runNotify({ orm: open.app.orm, config, logger: pino({ level: 'silent' }) });
    await notify();
    const drop = await seedDrop(open.sql, { bucketId, venueId: 'resy:77', market: 'nyc', slotDate: dayFromToday(1) });
    const hit = await waitFor(async () => {
      await notify();
      return hits.find((h) => h.body.includes(`"id":"${drop.id}"`));
    }, VISIBLE_WITHIN_MS, 'the drop webhook');
    expect(verifyWebhook(set.secret, hit, hit.body, { toleranceSeconds: 300 })).toBe(true);
    const body = JSON.parse(hit.body) as { type: string; notificationId: string; drop: { id: string } };
    expect(body.type).toBe('drop');
    const listed = await c.notifications.list.query();
    expect(listed.items.map((n) => n.id)).toContain(body.notificationId);

    expect(await c.webhooks.remove.mutate()).toMatchObject({ removed: true });
    expect(await codeOf(c.webhooks.test.mutate())).toBe('NOT_FOUND');
    const rows = await open.sql.query<{ webhook_secret: string | null }>(`select webhook_secret from users where name = 'hooked-user'`);
    expect(rows.rows[0]!.webhook_secret).toBeNull();
  });
});
