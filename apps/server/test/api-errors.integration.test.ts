import { createHash } from 'node:crypto';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DropwatchClient } from '@dropwatch/client';
import { startApiHarness, TEST_ADMIN_TOKEN, type ApiHarness } from './api-fixtures.js';

type Call = (c: DropwatchClient) => Promise<unknown>;
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const huge = 'x'.repeat(5_000);
const hugeBody = 'x'.repeat(200_000);

/** Invalid inputs for every procedure that takes one. Each must be BAD_REQUEST with zod issues. */
const BAD_INPUTS: [string, Call][] = [
  ['feed.live unknown market', (c) => c.feed.live.query({ market: 'moon' as never })],
  ['feed.live limit 0', (c) => c.feed.live.query({ limit: 0 })],
  ['feed.live limit too big', (c) => c.feed.live.query({ limit: 5001 })],
  ['feed.live limit not a number', (c) => c.feed.live.query({ limit: '10' as never })],
  ['feed.live party size 0', (c) => c.feed.live.query({ partySizes: [0] })],
  ['feed.live not a calendar date', (c) => c.feed.live.query({ dates: ['2026-02-30'] })],
  ['feed.live too many dates', (c) => c.feed.live.query({ dates: Array.from({ length: 40 }, () => '2026-12-01') })],
  ['feed.live unknown key', (c) => c.feed.live.query({ marker: 1 } as never)],
  ['feed.live huge market string', (c) => c.feed.live.query({ market: huge as never })],
  ['feed.justOpened withinMinutes 0', (c) => c.feed.justOpened.query({ withinMinutes: 0 })],
  ['feed.justOpened withinMinutes 121', (c) => c.feed.justOpened.query({ withinMinutes: 121 })],
  ['feed.justOpened limit 2001', (c) => c.feed.justOpened.query({ limit: 2001 })],
  ['feed.justOpened fractional limit', (c) => c.feed.justOpened.query({ limit: 1.5 })],
  ['feed.justOpened party sizes not an array', (c) => c.feed.justOpened.query({ partySizes: 2 as never })],
  ['feed.stillOpen limit 10001', (c) => c.feed.stillOpen.query({ limit: 10_001 })],
  ['feed.stillOpen negative window', (c) => c.feed.stillOpen.query({ withinMinutes: -1 })],
  ['feed.stillOpen bad date form', (c) => c.feed.stillOpen.query({ dates: ['12/01/2026'] })],
  ['feed.newDrops garbage cursor', (c) => c.feed.newDrops.query({ cursor: 'garbage!' })],
  ['feed.newDrops three-part cursor', (c) => c.feed.newDrops.query({ cursor: b64('1:2:3') })],
  ['feed.newDrops negative cursor', (c) => c.feed.newDrops.query({ cursor: b64('-1:2') })],
  ['feed.newDrops cursor beyond 64 bits', (c) => c.feed.newDrops.query({ cursor: b64(`${2n ** 64n}:1`) })],
  ['feed.newDrops cursor not a string', (c) => c.feed.newDrops.query({ cursor: 12 as never })],
  ['feed.newDrops huge cursor', (c) => c.feed.newDrops.query({ cursor: huge })],
  ['feed.newDrops limit 501', (c) => c.feed.newDrops.query({ limit: 501 })],
  ['feed.newDrops withinMinutes 0', (c) => c.feed.newDrops.query({ withinMinutes: 0 })],
  ['feed.newDrops unknown market', (c) => c.feed.newDrops.query({ market: 'atlantis' as never })],
  ['feed.board limit 0', (c) => c.feed.board.query({ limit: 0 })],
  ['feed.board limit 501', (c) => c.feed.board.query({ limit: 501 })],
  ['feed.board market number', (c) => c.feed.board.query({ market: 1 as never })],
  ['venues.get missing id', (c) => c.venues.get.query({} as never)],
  ['venues.get id without provider', (c) => c.venues.get.query({ venueId: '60029' })],
  ['venues.get huge id', (c) => c.venues.get.query({ venueId: `resy:${huge}` })],
  ['venues.get id not a string', (c) => c.venues.get.query({ venueId: 60029 as never })],
  ['health.buckets unknown market', (c) => c.health.buckets.query({ market: 'gotham' as never })],
  ['health.buckets unknown key', (c) => c.health.buckets.query({ all: true } as never)],
  ['admin.tokens.create empty name', (c) => c.admin.tokens.create.mutate({ userName: '' })],
  ['admin.tokens.create name with spaces', (c) => c.admin.tokens.create.mutate({ userName: 'a b' })],
  ['admin.tokens.create huge name', (c) => c.admin.tokens.create.mutate({ userName: hugeBody })],
  [
    'admin.tokens.create admin not boolean',
    (c) => c.admin.tokens.create.mutate({ userName: 'x', admin: 'yes' as never }),
  ],
  ['admin.tokens.revoke neither token nor user', (c) => c.admin.tokens.revoke.mutate({})],
  ['admin.tokens.revoke both', (c) => c.admin.tokens.revoke.mutate({ token: 'dw_abcdefgh', userName: 'x' })],
  ['admin.tokens.revoke short token', (c) => c.admin.tokens.revoke.mutate({ token: 'abc' })],
];

async function failure(p: Promise<unknown>): Promise<TRPCClientError<never>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCClientError) return err as TRPCClientError<never>;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('bad input and auth over HTTP', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(() => h?.stop());

  it.each(BAD_INPUTS)('%s → BAD_REQUEST with zod issues', async (_name, call) => {
    const err = await failure(call(h.client(TEST_ADMIN_TOKEN)));
    const data = err.data as { code: string; httpStatus: number; zodError: unknown } | undefined;
    expect(data?.code).toBe('BAD_REQUEST');
    expect(data?.httpStatus).toBe(400);
    expect(data?.zodError).not.toBeNull();
  });

  it('raw HTTP: malformed input JSON is 400, an unknown procedure 404, an oversized body 413 — never 500', async () => {
    const bad = await fetch(`${h.app.url}/trpc/feed.justOpened?input=%7Bnot-json`);
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${h.app.url}/trpc/feed.nothing`);
    expect(unknown.status).toBe(404);
    const big = await fetch(`${h.app.url}/trpc/admin.tokens.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ json: { userName: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    expect(big.status).toBe(413);
  });

  it('auth: no, unknown or revoked token → UNAUTHORIZED; a user token on an admin procedure → FORBIDDEN', async () => {
    const anon = h.client();
    const stranger = h.client('dw_this-token-was-never-issued-by-anyone-000000');
    const admin = h.client(TEST_ADMIN_TOKEN);
    for (const c of [anon, stranger]) {
      expect((await failure(c.health.tables.query())).data).toMatchObject({ code: 'UNAUTHORIZED' });
      expect((await failure(c.admin.tokens.create.mutate({ userName: 'eve' }))).data).toMatchObject({
        code: 'UNAUTHORIZED',
      });
    }

    const tables = await admin.health.tables.query();
    expect(tables.tables.find((t) => t.table === 'drop_events')).toMatchObject({ partitioned: true });
    expect(tables.tables.find((t) => t.table === 'drop_events')!.partitions).toBeGreaterThan(0);

    const alice = await admin.admin.tokens.create.mutate({ userName: 'alice', label: 'laptop' });
    expect(alice.role).toBe('user');
    const aliceClient = h.client(alice.token);
    expect((await failure(aliceClient.health.tables.query())).data).toMatchObject({ code: 'FORBIDDEN' });
    expect(
      (await failure(aliceClient.admin.tokens.create.mutate({ userName: 'mallory', admin: true }))).data,
    ).toMatchObject({ code: 'FORBIDDEN' });
    // Public procedures answer whoever asks.
    expect((await aliceClient.health.buckets.query()).buckets).toEqual([]);

    // Only the sha256 is stored.
    const stored = await h.sql.query<{ token_hash: string }>(
      `select token_hash from api_tokens t join users u on u.id = t.user_id where u.name = 'alice'`,
    );
    expect(stored.rows.map((r) => r.token_hash)).toEqual([createHash('sha256').update(alice.token).digest('hex')]);

    const root2 = await admin.admin.tokens.create.mutate({ userName: 'root2', admin: true });
    expect((await h.client(root2.token).health.tables.query()).tables.length).toBeGreaterThan(0);
    expect(await admin.admin.tokens.revoke.mutate({ token: root2.token })).toEqual({ revoked: 1 });
    expect((await failure(h.client(root2.token).health.tables.query())).data).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await admin.admin.tokens.revoke.mutate({ userName: 'alice' })).toEqual({ revoked: 1 });
    expect((await failure(aliceClient.health.tables.query())).data).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('a burst of requests larger than the pool slows down but completes; /healthz and /metrics still answer', async () => {
    const small = await startApiHarness({ DB_POOL_MAX: '2' });
    try {
      const urls = Array.from({ length: 60 }, (_, i) =>
        i % 2 ? `${small.app.url}/trpc/health.buckets` : `${small.app.url}/trpc/feed.justOpened`,
      );
      const started = Date.now();
      const burst = Promise.all(urls.map((u) => fetch(u).then((r) => r.status)));
      const health = await fetch(`${small.app.url}/healthz`);
      expect([200, 503]).toContain(health.status);
      const statuses = await burst;
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await fetch(`${small.app.url}/metrics`)).status).toBe(200);
    } finally {
      const stopping = Date.now();
      await small.stop();
      expect(Date.now() - stopping).toBeLessThan(10_000);
    }
  });
});
