import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { issueToken } from '@dropwatch/api';
import type { DropwatchClient } from '@dropwatch/client';
import { Webhook } from 'standardwebhooks';
import { startApiHarness, type ApiHarness } from './api-fixtures.js';

vi.setConfig({ testTimeout: 120_000 });

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCClientError) return (err.data as { code: string } | undefined)?.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('destinations over HTTP', () => {
  let h: ApiHarness;
  let strict: ApiHarness;
  let receiver: http.Server;
  let receiverUrl: string;
  const hits: { body: string; headers: Record<string, string> }[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({
          body: Buffer.concat(chunks).toString('utf8'),
          headers: Object.fromEntries(
            ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((k) => [k, String(req.headers[k] ?? '')]),
          ),
        });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    h = await startApiHarness({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    strict = await startApiHarness();
  });
  afterAll(async () => {
    await h?.stop();
    await strict?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  const client = async (harness: ApiHarness, name: string): Promise<DropwatchClient> =>
    harness.client((await issueToken(harness.app.orm.em.fork(), { userName: name, role: 'user' })).token);

  it('add shows secrets once; list shows settings, state and routing, never a secret; update, test and remove', async () => {
    const c = await client(h, 'dest-user');
    const watch = await c.watches.add.mutate({ venueId: 'resy:4242' });
    const hook = await c.destinations.add.mutate({ channel: 'webhook', url: `${receiverUrl}/hook`, name: 'my hook' });
    expect(hook.created).toBe(true);
    expect(hook.secrets.signingSecret).toMatch(/^whsec_/);
    const ntfy = await c.destinations.add.mutate({
      channel: 'ntfy',
      topicUrl: `${receiverUrl}/alerts`,
      accessToken: 'tk_secret_token',
      watchIds: [watch.watch.id],
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' },
    });
    expect(ntfy.secrets).toEqual({ accessToken: 'tk_secret_token' });
    const tg = await c.destinations.add.mutate({
      channel: 'telegram',
      chatId: '@dropwatchalerts',
      botToken: '123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOpp',
    });
    expect(tg.secrets.botToken).toBe('123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOpp');

    const list = await c.destinations.list.query();
    expect(list.items.map((d) => d.channel)).toEqual(['webhook', 'ntfy', 'telegram']);
    const listed = JSON.stringify(list);
    for (const secret of [hook.secrets.signingSecret!, 'tk_secret_token', 'AAbbCCddEEffGGhhIIjjKKllMMnnOOpp'])
      expect(listed).not.toContain(secret);
    expect(list.items[1]).toMatchObject({
      settings: { topicUrl: `${receiverUrl}/alerts`, priority: 4, tags: ['fork_and_knife'], hasAccessToken: true },
      watchIds: [watch.watch.id],
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Paris' },
      enabled: true,
      lastDelivery: null,
      failureCount: 0,
    });
    expect(list.items[0]).toMatchObject({ name: 'my hook', settings: { url: `${receiverUrl}/hook` }, watchIds: null });

    // test: a signed destination.test event the receiver verifies with the secret it was shown.
    expect(await c.destinations.test.mutate({ id: hook.destination.id })).toEqual({
      delivered: true,
      status: 200,
      error: null,
    });
    const got = hits.at(-1)!;
    expect(got.headers['webhook-id']).toMatch(/^test_/);
    expect(new Webhook(hook.secrets.signingSecret!).verify(got.body, got.headers)).toMatchObject({
      type: 'destination.test',
    });

    const updated = await c.destinations.update.mutate({
      id: ntfy.destination.id,
      enabled: false,
      quietHours: null,
      watchIds: null,
      settings: { priority: 2, tags: ['bell'] },
    });
    expect(updated.destination).toMatchObject({
      enabled: false,
      quietHours: null,
      watchIds: null,
      settings: { priority: 2, tags: ['bell'], hasAccessToken: true },
    });
    expect(await codeOf(c.destinations.update.mutate({ id: ntfy.destination.id, settings: { url: 'x' } }))).toBe(
      'BAD_REQUEST',
    );

    // Another user sees none of it.
    const other = await client(h, 'other-user');
    expect((await other.destinations.list.query()).items).toEqual([]);
    expect(await codeOf(other.destinations.remove.mutate({ id: tg.destination.id }))).toBe('NOT_FOUND');
    expect(await codeOf(other.destinations.test.mutate({ id: hook.destination.id }))).toBe('NOT_FOUND');

    expect(await c.destinations.remove.mutate({ id: tg.destination.id })).toEqual({
      removed: true,
      cancelledDeliveries: 0,
    });
    expect((await c.destinations.list.query()).items.map((d) => d.channel)).toEqual(['webhook', 'ntfy']);
    // webhooks.* manage the oldest webhook destination.
    expect(await c.webhooks.get.query()).toMatchObject({ url: `${receiverUrl}/hook`, enabled: true });
  });

  it('web push: the VAPID key is public and stable; a subscription is added once per endpoint', async () => {
    const anonymous = h.client();
    const { publicKey } = await anonymous.destinations.vapidPublicKey.query();
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    expect((await anonymous.destinations.vapidPublicKey.query()).publicKey).toBe(publicKey);

    const c = await client(h, 'push-user');
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const subscription = {
      endpoint: `${receiverUrl}/push/abc`,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    };
    const first = await c.destinations.add.mutate({ channel: 'webpush', subscription });
    expect(first).toMatchObject({
      created: true,
      secrets: {},
      destination: { settings: { endpointOrigin: receiverUrl } },
    });
    const again = await c.destinations.add.mutate({ channel: 'webpush', subscription });
    expect(again).toMatchObject({ created: false, destination: { id: first.destination.id } });
    expect(JSON.stringify(await c.destinations.list.query())).not.toContain('/push/abc');
  });

  it('bad input is BAD_REQUEST with a reason; private targets are refused unless allowed', async () => {
    const c = await client(strict, 'careful-user');
    const bad: unknown[] = [
      { channel: 'sms', to: '+1' },
      { channel: 'webhook', url: 'ftp://example.test/x' },
      { channel: 'webhook', url: 'http://127.0.0.1/x' },
      { channel: 'ntfy', topicUrl: 'http://10.0.0.1/topic' },
      { channel: 'ntfy', topicUrl: 'https://example.test/', priority: 9 },
      { channel: 'telegram', chatId: '1', botToken: 'nope' },
      { channel: 'email', to: 'not an address' },
      { channel: 'email', to: 'a@example.test' }, // no SMTP_URL on this server
      { channel: 'webpush', subscription: { endpoint: 'http://[::1]/p', keys: { p256dh: 'x', auth: 'y' } } },
      {
        channel: 'webhook',
        url: 'https://example.test/x',
        quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' },
      },
      { channel: 'webhook', url: 'https://example.test/x', watchIds: ['1'] }, // not the caller's watch
      { channel: 'ntfy', topicUrl: 'https://example.test/t', tags: ['a\u0000b'] },
    ];
    for (const input of bad) {
      expect(await codeOf(c.destinations.add.mutate(input as never)), JSON.stringify(input)).toBe('BAD_REQUEST');
    }
    expect((await c.destinations.list.query()).items).toEqual([]);
    expect(await codeOf(strict.client().destinations.list.query())).toBe('UNAUTHORIZED');
  });
});
