import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import pino from 'pino';
import { issueToken } from '@dropwatch/api';
import type { DropwatchClient } from '@dropwatch/client';
import { loadConfig } from '@dropwatch/core';
import { runNotify } from '@dropwatch/discovery';
import { Webhook } from 'standardwebhooks';
import {
  dayFromToday,
  seedBucket,
  seedDrop,
  seedVenue,
  startApiHarness,
  waitFor,
  type ApiHarness,
} from './api-fixtures.js';

const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

interface Hit {
  body: string;
  headers: Record<string, string>;
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
  /** What the receiver answers next. */
  let answer = 200;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({
          body: Buffer.concat(chunks).toString('utf8'),
          headers: Object.fromEntries(
            ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(req.headers[h] ?? '')]),
          ),
        });
        res.statusCode = answer;
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
    for (const url of [
      receiverUrl,
      'http://localhost:9/x',
      'http://10.0.0.1/x',
      'http://169.254.169.254/latest',
      'http://[::1]/x',
      'ftp://example.test/x',
      'http://0.0.0.0/x',
      'http://[::127.0.0.1]/x',
      'http://[64:ff9b::7f00:1]/x',
      'http://[64:ff9b::a9fe:a9fe]/x',
      'http://[2002:7f00:1::]/x',
    ]) {
      expect(await codeOf(c.webhooks.set.mutate({ url })), url).toBe('BAD_REQUEST');
    }
    expect(await codeOf(c.webhooks.test.mutate())).toBe('NOT_FOUND');
    expect(await codeOf(strict.client().webhooks.set.mutate({ url: 'https://example.test/x' }))).toBe('UNAUTHORIZED');
  });

  it('set returns the secret once; test() and the notify job deliver signed bodies; remove stops them', async () => {
    const c = await client(open, 'hooked-user');
    const set = await c.webhooks.set.mutate({ url: receiverUrl });
    expect(set.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(set.url).toBe(receiverUrl);

    expect(await c.webhooks.test.mutate()).toEqual({ delivered: true, status: 200, error: null });
    const test = hits.at(-1)!;
    expect(new Webhook(set.secret).verify(test.body, test.headers)).toMatchObject({ type: 'webhook.test' });
    expect(test.headers['webhook-id']).toMatch(/^test_/);

    await c.watches.add.mutate({ venueId: 'resy:77' });
    const bucketId = await seedBucket(open.sql, { market: 'nyc', date: dayFromToday(1), timeSlot: '20:30' });
    await seedVenue(open.sql, { venueId: 'resy:77', market: 'nyc', name: 'Hooked' });
    const config = loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    const notify = () => runNotify({ orm: open.app.orm, config, logger: pino({ level: 'silent' }) });
    await notify();
    const drop = await seedDrop(open.sql, { bucketId, venueId: 'resy:77', market: 'nyc', slotDate: dayFromToday(1) });
    const hit = await waitFor(
      async () => {
        await notify();
        return hits.find((h) => h.body.includes(`"id":"${drop.id}"`));
      },
      VISIBLE_WITHIN_MS,
      'the drop webhook',
    );
    const body = new Webhook(set.secret).verify(hit.body, hit.headers) as {
      type: string;
      data: { notificationId: string; drop: { id: string } };
    };
    expect(body.type).toBe('drop.opened');
    const listed = await c.notifications.list.query();
    expect(listed.items.map((n) => n.id)).toContain(body.data.notificationId);

    expect(await c.webhooks.remove.mutate()).toMatchObject({ removed: true });
    expect(await codeOf(c.webhooks.test.mutate())).toBe('NOT_FOUND');
    // The webhook is a destination; removing it removes its secrets with it.
    const rows = await open.sql.query(
      `select 1 from destinations d join users u on u.id = d.user_id where u.name = 'hooked-user'`,
    );
    expect(rows.rows).toHaveLength(0);
  });

  it('rotateSecret: the new secret is shown once, both sign during the window; get shows the window, never a secret', async () => {
    const c = await client(open, 'rotating-user');
    expect(await c.webhooks.get.query()).toBeNull();
    expect(await codeOf(c.webhooks.rotateSecret.mutate({}))).toBe('NOT_FOUND');
    const set = await c.webhooks.set.mutate({ url: receiverUrl });
    const rotated = await c.webhooks.rotateSecret.mutate({ overlapHours: 2 });
    expect(rotated.secret).not.toBe(set.secret);
    expect(rotated.previousSecretValidUntil!.getTime()).toBeGreaterThan(Date.now() + 3_600_000);
    const got = await c.webhooks.get.query();
    expect(got).toMatchObject({ url: receiverUrl, enabled: true, disabledReason: null });
    expect(JSON.stringify(got)).not.toContain('whsec_');

    await c.webhooks.test.mutate();
    const hit = hits.at(-1)!;
    expect(new Webhook(rotated.secret).verify(hit.body, hit.headers)).toBeTruthy();
    expect(new Webhook(set.secret).verify(hit.body, hit.headers)).toBeTruthy();

    // Without an overlap the old secret stops at once.
    const now = await c.webhooks.rotateSecret.mutate({ overlapHours: 0 });
    expect(now.previousSecretValidUntil).toBeNull();
    await c.webhooks.test.mutate();
    const after = hits.at(-1)!;
    expect(new Webhook(now.secret).verify(after.body, after.headers)).toBeTruthy();
    expect(() => new Webhook(rotated.secret).verify(after.body, after.headers)).toThrow();

    for (const bad of [
      { overlapHours: -1 },
      { overlapHours: 1.5 },
      { overlapHours: 10_000 },
      { overlapHours: 1, extra: true },
    ]) {
      expect(await codeOf(c.webhooks.rotateSecret.mutate(bad as { overlapHours: number })), JSON.stringify(bad)).toBe(
        'BAD_REQUEST',
      );
    }
  });

  it('a 410 Gone disables the webhook: get says so and why, enable turns it back on', async () => {
    const c = await client(open, 'gone-user');
    await c.webhooks.set.mutate({ url: receiverUrl });
    await c.watches.add.mutate({ venueId: 'resy:78' });
    const bucketId = await seedBucket(open.sql, { market: 'nyc', date: dayFromToday(2), timeSlot: '20:30' });
    await seedVenue(open.sql, { venueId: 'resy:78', market: 'nyc', name: 'Gone' });
    const config = loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    const notify = () => runNotify({ orm: open.app.orm, config, logger: pino({ level: 'silent' }) });
    answer = 410;
    try {
      const drop = await seedDrop(open.sql, { bucketId, venueId: 'resy:78', market: 'nyc', slotDate: dayFromToday(2) });
      await waitFor(
        async () => {
          await notify();
          return hits.some((h) => h.body.includes(`"id":"${drop.id}"`)) ? true : undefined;
        },
        VISIBLE_WITHIN_MS,
        'the drop webhook answered 410',
      );
    } finally {
      answer = 200;
    }
    const got = await c.webhooks.get.query();
    expect(got).toMatchObject({ url: receiverUrl, enabled: false });
    expect(got!.disabledAt).toBeInstanceOf(Date);
    expect(got!.disabledReason).toMatch(/410/);
    expect(await c.webhooks.enable.mutate()).toEqual({ enabled: true });
    expect(await c.webhooks.get.query()).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });
  });
});
