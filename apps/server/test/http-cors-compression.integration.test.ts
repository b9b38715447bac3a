import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import superjson from 'superjson';
import { startApiHarness, TEST_ADMIN_TOKEN, type ApiHarness } from './api-fixtures.js';

const ALLOWED = 'http://app.allowed.test:5173';

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The bytes as they came over the wire (not decoded). */
  readonly body: Buffer;
}

/** node:http, not fetch: fetch decodes gzip/br on its own and hides what went over the wire. */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const input = (json: unknown) => encodeURIComponent(JSON.stringify(superjson.serialize(json)));
const varyOf = (r: RawResponse) =>
  String(r.headers.vary ?? '')
    .toLowerCase()
    .split(/\s*,\s*/);

describe('CORS over HTTP', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness({ CORS_ORIGINS: `${ALLOWED},https://other.allowed.test` });
  });
  afterAll(() => h?.stop());

  const statusUrl = () => `${h.app.url}/trpc/health.status`;

  it('a listed origin gets its own origin back with credentials (never *), and Vary: Origin', async () => {
    const res = await request(statusUrl(), { headers: { origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(varyOf(res)).toContain('origin');
    // tRPC's own Vary is kept beside ours.
    expect(varyOf(res)).toContain('trpc-accept');
  });

  it('an unlisted origin gets no CORS headers (the browser keeps the answer from the page)', async () => {
    const res = await request(statusUrl(), { headers: { origin: 'https://evil.test' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(varyOf(res)).toContain('origin');
  });

  it('same origin needs no header and works; so does a request without Origin', async () => {
    const own = new URL(h.app.url).origin;
    const res = await request(statusUrl(), { headers: { origin: own } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect((await request(statusUrl())).status).toBe(200);
  });

  it("a kept answer (health.buckets) carries each request's own CORS headers, never another origin's", async () => {
    const bucketsUrl = `${h.app.url}/trpc/health.buckets?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: {} } }))}`;
    const answers = [];
    // One render, then answers from the kept one, alternating origins.
    for (const origin of [ALLOWED, 'https://evil.test', undefined, 'https://other.allowed.test', ALLOWED]) {
      answers.push({ origin, res: await request(bucketsUrl, { headers: origin ? { origin } : {} }) });
    }
    expect(answers.map((a) => a.res.headers['x-dropwatch-cache'])).toContain('hit');
    for (const { origin, res } of answers) {
      expect(res.status).toBe(200);
      const allowed = origin === ALLOWED || origin === 'https://other.allowed.test';
      expect(res.headers['access-control-allow-origin']).toBe(allowed ? origin : undefined);
      expect(res.headers['access-control-allow-credentials']).toBe(allowed ? 'true' : undefined);
      expect(res.headers['access-control-expose-headers']).toBe(
        allowed ? 'etag, x-dropwatch-cache, retry-after' : undefined,
      );
      expect(varyOf(res)).toEqual(['origin', 'trpc-accept', 'accept', 'accept-encoding']);
    }
  });

  it('answers a preflight for a listed origin: methods, Authorization and content-type, max-age', async () => {
    const res = await request(`${h.app.url}/trpc/watches.add`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
    const allowedHeaders = String(res.headers['access-control-allow-headers']).split(/\s*,\s*/);
    expect(allowedHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
    expect(varyOf(res)).toContain('origin');
  });

  it('refuses a preflight from an unlisted origin, or asking for a header or method not allowed, with a readable 403', async () => {
    const evil = await request(`${h.app.url}/trpc/watches.add`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    expect(evil.status).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.parse(evil.body.toString()).error).toContain('not allowed');

    const header = await request(`${h.app.url}/trpc/watches.add`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-secret-thing',
      },
    });
    expect(header.status).toBe(403);
    expect(JSON.parse(header.body.toString()).error).toContain('x-secret-thing');

    const method = await request(`${h.app.url}/trpc/watches.add`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'DELETE' },
    });
    expect(method.status).toBe(403);
  });

  it('an authenticated POST from a listed origin carries the CORS headers on its answer', async () => {
    const res = await request(`${h.app.url}/trpc/admin.tokens.create`, {
      method: 'POST',
      headers: { origin: ALLOWED, authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(superjson.serialize({ userName: 'cors-user' })),
    });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
  });

  it('with no CORS_ORIGINS, no origin is allowed', async () => {
    const plain = await startApiHarness();
    try {
      const res = await request(`${plain.app.url}/trpc/health.status`, { headers: { origin: ALLOWED } });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await request(`${plain.app.url}/trpc/health.status`, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
      });
      expect(pre.status).toBe(403);
    } finally {
      await plain.stop();
    }
  });
});

describe('compression over HTTP', () => {
  let h: ApiHarness;
  const DROPS = 1500;

  beforeAll(async () => {
    h = await startApiHarness();
    const now = new Date().toISOString();
    const justOpened = Array.from({ length: DROPS }, (_, i) => ({
      id: String(1000 + i),
      market: 'nyc',
      bucketId: 'nyc_2026-12-01_20:30',
      venue: {
        id: `resy:${i}`,
        name: `Venue number ${i}`,
        neighborhood: 'Soho',
        bookingUrl: `https://example.test/book/${i}`,
        imageUrl: null,
      },
      slotDate: '2026-12-01',
      slotTime: '20:30',
      partySizes: [2, 4],
      openedAt: now,
      closedAt: null,
      rarity: i % 100,
    }));
    const payload = { market: 'nyc', builtAt: now, justOpenedMinutes: 10, justOpened, stillOpen: [], board: [] };
    await h.sql.query(`insert into feed_cache (key, payload, version) values ('market:nyc', $1, 1)`, [
      JSON.stringify(payload),
    ]);
  });
  afterAll(() => h?.stop());

  const liveUrl = () => `${h.app.url}/trpc/feed.live?input=${input({ market: 'nyc', limit: 5000 })}`;

  it('a large feed.live answer is gzip- and brotli-compressed, decodes to the same JSON, each with its own ETag and 304', async () => {
    const plain = await request(liveUrl());
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(varyOf(plain)).toContain('accept-encoding');
    const json = JSON.parse(plain.body.toString('utf8')) as { result: { data: { json: { justOpened: unknown[] } } } };
    expect(json.result.data.json.justOpened).toHaveLength(DROPS);

    const gz = await request(liveUrl(), { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(gz.body.length).toBeLessThan(plain.body.length / 5);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);

    const br = await request(liveUrl(), { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);

    const etags = new Set([plain.headers.etag, gz.headers.etag, br.headers.etag]);
    expect(etags.size).toBe(3);
    // The cache still answers (a hit) and still says 304 to a matching validator per encoding.
    expect(br.headers['x-dropwatch-cache']).toBe('hit');
    const notModified = await request(liveUrl(), {
      headers: { 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    // The identity ETag does not validate a gzip representation.
    const other = await request(liveUrl(), {
      headers: { 'accept-encoding': 'gzip', 'if-none-match': String(plain.headers.etag) },
    });
    expect(other.status).toBe(200);
    expect(other.headers['content-encoding']).toBe('gzip');
  });

  it('the typed client reads the compressed feed.live (fetch decodes it)', async () => {
    const live = await h.client().feed.live.query({ market: 'nyc', limit: 5000 });
    expect(live.justOpened).toHaveLength(DROPS);
    expect(live.justOpened[0]!.openedAt).toBeInstanceOf(Date);
  });

  it('other large JSON answers (a batch of feed.live + health.status) are compressed too; small ones and q=0 are not', async () => {
    const batchUrl = `${h.app.url}/trpc/feed.live,health.status?batch=1&input=${encodeURIComponent(
      JSON.stringify({ 0: superjson.serialize({ market: 'nyc', limit: 5000 }), 1: superjson.serialize(undefined) }),
    )}`;
    const plain = await request(batchUrl);
    const batch = await request(batchUrl, { headers: { 'accept-encoding': 'gzip' } });
    expect(batch.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(batch.headers['content-encoding']).toBe('gzip');
    expect(batch.body.length).toBeLessThan(plain.body.length / 5);
    const parsed = JSON.parse(gunzipSync(batch.body).toString('utf8')) as {
      result: { data: { json: { justOpened?: unknown[] } } };
    }[];
    expect(parsed).toHaveLength(2);
    expect(parsed[0]!.result.data.json.justOpened).toHaveLength(DROPS);

    const small = await request(`${h.app.url}/trpc/health.status`, { headers: { 'accept-encoding': 'gzip' } });
    expect(small.body.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(varyOf(small)).toContain('accept-encoding');

    const refused = await request(liveUrl(), { headers: { 'accept-encoding': 'gzip;q=0, br;q=0' } });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(refused.body.toString('utf8'))).toBeTruthy();
  });

  it('an SSE stream is not compressed', async () => {
    const body = await new Promise<{ headers: http.IncomingHttpHeaders; first: string }>((resolve, reject) => {
      const req = http.get(
        `${h.app.url}/trpc/feed.onDrop?input=${input({})}`,
        { headers: { 'accept-encoding': 'gzip, br', accept: 'text/event-stream' } },
        (res) => {
          res.once('data', (c: Buffer) => {
            resolve({ headers: res.headers, first: c.toString('utf8') });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
    });
    expect(String(body.headers['content-type'])).toContain('text/event-stream');
    expect(body.headers['content-encoding']).toBeUndefined();
    // Readable text as it arrives: the first event (or ping comment) is plain SSE.
    expect(body.first).toMatch(/^(:|event:|data:|id:|retry:)/m);
  });
});
