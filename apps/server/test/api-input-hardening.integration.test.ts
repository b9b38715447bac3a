import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_SIZE } from '@dropwatch/api';
import { startApiHarness, TEST_ADMIN_TOKEN, type ApiHarness } from './api-fixtures.js';

const INT8_MAX = 9_223_372_036_854_775_807n;
const b64 = (s: string) => Buffer.from(s).toString('base64url');

interface ErrorBody {
  error: { message: string; data: { code: string; httpStatus: number; zodError: unknown } };
}

/** Raw HTTP, so what a curl user sends is what the server sees. */
async function call(
  h: ApiHarness,
  path: string,
  input: unknown,
  opts: { mutation?: boolean; envelope?: boolean } = {},
) {
  const body = opts.envelope === false ? input : { json: input };
  const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const res = opts.mutation
    ? await fetch(`${h.app.url}/trpc/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify(body),
      })
    : await fetch(`${h.app.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(body))}`, { headers: auth });
  // Errors come superjson-encoded like every answer: { error: { json: { message, data } } }.
  const raw = (await res.json()) as { error?: { json: ErrorBody['error'] } };
  return { status: res.status, body: { error: raw.error?.json } as ErrorBody };
}

describe('caller mistakes are 400 with a readable message, never 500', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(() => h?.stop());

  const tooBig = (INT8_MAX + 1n).toString();
  it.each([
    ['watches.remove id above int8', 'watches.remove', { id: tooBig }, true],
    ['watches.remove id of 19 nines', 'watches.remove', { id: '9999999999999999999' }, true],
    ['notifications.markRead id above int8', 'notifications.markRead', { ids: ['1', tooBig] }, true],
    [
      'notifications.list cursor with an impossible timestamp',
      'notifications.list',
      { cursor: b64('9999-99-99T99:99:99.000000Z|1') },
      false,
    ],
    [
      'notifications.list cursor with an id above int8',
      'notifications.list',
      { cursor: b64(`2026-01-01T00:00:00.000000Z|${tooBig}`) },
      false,
    ],
    ['watches.add venueName with NUL', 'watches.add', { venueName: 'Carbone\u0000' }, true],
    ['watches.add venueName with a lone surrogate', 'watches.add', { venueName: 'Carbone\ud800' }, true],
    ['admin.tokens.create label with NUL', 'admin.tokens.create', { userName: 'nul-label', label: 'a\u0000b' }, true],
    ['admin.tokens.revoke token with NUL', 'admin.tokens.revoke', { token: 'dw_abc\u0000defgh' }, true],
    ['webhooks.set url with NUL', 'webhooks.set', { url: 'https://example.com/\u0000' }, true],
  ])('%s → 400', async (_name, path, input, mutation) => {
    const { status, body } = await call(h, path, input, { mutation });
    expect(status).toBe(400);
    expect(body.error.data.code).toBe('BAD_REQUEST');
    expect(body.error.message).not.toMatch(/\n/);
  });

  it('a NUL byte is refused with a message that says so', async () => {
    const { body } = await call(h, 'watches.add', { venueName: 'Car\u0000bone' }, { mutation: true });
    expect(body.error.message).toMatch(/^venueName: .*NUL/);
  });

  it('notifications.onNew with a lastEventId above int8 → BAD_REQUEST (header or input), not a database error', async () => {
    // A subscription answers 200 and reports a failure as its SSE error event, then ends.
    const errorCode = async (res: Response) => {
      const text = await res.text();
      const m = /event: serialized-error\ndata: (.*)\n/.exec(text);
      return m?.[1] ? (JSON.parse(m[1]) as { json: { data: { code: string } } }).json.data.code : null;
    };
    const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const viaHeader = await fetch(`${h.app.url}/trpc/notifications.onNew`, {
      headers: { ...auth, 'last-event-id': tooBig },
    });
    expect(await errorCode(viaHeader)).toBe('BAD_REQUEST');
    const input = encodeURIComponent(JSON.stringify({ json: { lastEventId: tooBig } }));
    const viaInput = await fetch(`${h.app.url}/trpc/notifications.onNew?input=${input}`, { headers: auth });
    expect(await errorCode(viaInput)).toBe('BAD_REQUEST');
  });

  it.each(['/trpc/%E0%A4%A', '/trpc/feed.live%', '/trpc/%', '/trpc/feed.live,%E0?batch=1'])(
    'GET %s → 4xx',
    async (path) => {
      const res = await fetch(`${h.app.url}${path}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      await res.body?.cancel();
    },
  );

  it(`a batch of more than MAX_BATCH_SIZE (${MAX_BATCH_SIZE}) procedures → 400; MAX_BATCH_SIZE still answers`, async () => {
    const batch = (n: number) =>
      fetch(`${h.app.url}/trpc/${Array.from({ length: n }, () => 'health.buckets').join(',')}?batch=1`);
    const over = await batch(MAX_BATCH_SIZE + 1);
    expect(over.status).toBe(400);
    expect(JSON.stringify(await over.json())).toMatch(/batch/i);
    const at = await batch(MAX_BATCH_SIZE);
    expect(at.status).toBe(200);
    expect(((await at.json()) as unknown[]).length).toBe(MAX_BATCH_SIZE);
  });

  it('plain JSON without the superjson envelope → 400 saying so, for GET, POST and batches', async () => {
    const get = await call(h, 'feed.justOpened', { limit: 5 }, { envelope: false });
    expect(get.status).toBe(400);
    expect(get.body.error.message).toMatch(/\{"json":/);
    expect((await call(h, 'feed.justOpened', { limit: 'abc' }, { envelope: false })).status).toBe(400);
    const post = await call(h, 'watches.add', { venueName: 'Carbone' }, { mutation: true, envelope: false });
    expect(post.status).toBe(400);
    expect(post.body.error.message).toMatch(/\{"json":/);
    const batch = await fetch(
      `${h.app.url}/trpc/feed.justOpened,feed.board?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { limit: 5 } }))}`,
    );
    expect(batch.status).toBe(400);
    // The envelope works, and so does no input at all (the defaults).
    expect((await call(h, 'feed.justOpened', { limit: 5 })).status).toBe(200);
    expect((await fetch(`${h.app.url}/trpc/feed.justOpened`)).status).toBe(200);
    expect(
      (
        await fetch(
          `${h.app.url}/trpc/feed.justOpened,feed.board?batch=1&input=${encodeURIComponent('{"0":{"json":{"limit":5}}}')}`,
        )
      ).status,
    ).toBe(200);
  });

  it('a validation error says what is wrong in one line; the issues stay in error.data', async () => {
    const { status, body } = await call(h, 'feed.newDrops', { limit: 501 });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^limit: .*500/);
    expect(body.error.message).not.toMatch(/\n/);
    expect(body.error.data.zodError).toMatchObject({ issues: [{ path: ['limit'], code: 'too_big' }] });
    const two = await call(h, 'feed.live', { limit: 0, market: 'moon' });
    expect(two.body.error.message).toMatch(/market: .*; limit: |limit: .*; market: /);
  });
});
