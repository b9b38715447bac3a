import { Writable } from 'node:stream';
import { getMarket } from '@dropwatch/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError, ResyProvider, type ProviderBucket, type ResyProviderOptions } from '../src/index.js';
import { flatHit, nestedHit, sendJson, startFakeResy } from './support/fake-resy.js';

const API_KEY = 'KEY-very-secret-6c1f0e';
const AUTH_TOKEN = 'TOKEN-also-secret-93ab';
const bucket: ProviderBucket = {
  bucketId: 'nyc_2030-01-05_20:30',
  market: getMarket('nyc'),
  date: '2030-01-05',
  timeSlot: '20:30',
};

let fake: Awaited<ReturnType<typeof startFakeResy>>;
const logLines: string[] = [];
const logger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  }),
);

function provider(overrides: Partial<ResyProviderOptions> = {}) {
  return new ResyProvider({
    baseUrl: fake.url,
    apiKey: API_KEY,
    authToken: AUTH_TOKEN,
    perPage: 20,
    maxPages: 5,
    maxRps: 100,
    timeoutMs: 2_000,
    retryBaseMs: 5,
    logger,
    ...overrides,
  });
}

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

beforeAll(async () => {
  fake = await startFakeResy((_req, res) => sendJson(res, 200, { search: { hits: [] } }));
});
afterAll(async () => {
  await fake.close();
  // Whatever happened above, no secret reached a log line.
  const all = logLines.join('');
  expect(all.length).toBeGreaterThan(0);
  expect(all).not.toContain(API_KEY);
  expect(all).not.toContain(AUTH_TOKEN);
});

describe('Resy provider: requests and paging', () => {
  it("sends the venue search body and Resy's headers for each party size × hour filter", async () => {
    fake.setHandler((_req, res) => sendJson(res, 200, { search: { hits: [] } }));
    await provider().fetchSnapshot(bucket, [2, 4]);
    expect(fake.requests).toHaveLength(6);
    const filters = fake.requests
      .map((r) => `${r.body.slot_filter.party_size}@${r.body.slot_filter.time_filter}`)
      .sort();
    expect(filters).toEqual(['2@19:30', '2@20:30', '2@21:30', '4@19:30', '4@20:30', '4@21:30']);
    const first = fake.requests[0]!;
    expect(first.path).toBe('/3/venuesearch/search');
    expect(first.headers.authorization).toBe(`ResyAPI api_key="${API_KEY}"`);
    expect(first.headers['x-resy-auth-token']).toBe(AUTH_TOKEN);
    expect(first.headers.origin).toBe('https://resy.com');
    expect(first.headers['user-agent']).toMatch(/Mozilla/);
    expect(first.body).toMatchObject({
      availability: true,
      page: 1,
      per_page: 20,
      types: ['venue'],
      order_by: 'availability',
      query: '',
    });
    expect(first.body.slot_filter.day).toBe('2030-01-05');
    expect(first.body.geo.bounding_box).toEqual([...getMarket('nyc').boundingBox]);
  });

  it.each([
    ['total_pages at the top', (pages: number) => ({ total_pages: pages })],
    ['search.total_pages', (pages: number) => ({ searchExtra: { total_pages: pages } })],
    ['search.pagination.total_pages', (pages: number) => ({ searchExtra: { pagination: { total_pages: pages } } })],
  ])('follows the page count at %s and never asks past it', async (_where, place) => {
    fake.setHandler((req, res) => {
      const page = req.body.page;
      const hits = Array.from({ length: 20 }, (_, i) =>
        flatHit(page * 100 + i, `V ${page}-${i}`, ['2030-01-05 20:30:00']),
      );
      const p = place(2) as { total_pages?: number; searchExtra?: object };
      sendJson(res, 200, {
        ...(p.total_pages !== undefined ? { total_pages: p.total_pages } : {}),
        search: { hits, ...(p.searchExtra ?? {}) },
      });
    });
    const snap = await provider().fetchSnapshot(bucket, [2]);
    // 3 hour filters × 2 pages (full pages, but the count says 2).
    expect(fake.requests).toHaveLength(6);
    expect(snap.venues.size).toBe(40);
    expect(snap.slots).toHaveLength(40);
  });

  it('without a page count keeps paging while pages are full, stops on a short page', async () => {
    fake.setHandler((req, res) => {
      const n = req.body.page < 3 ? 20 : 7;
      const hits = Array.from({ length: n }, (_, i) =>
        flatHit(req.body.page * 100 + i, `V${i}`, ['2030-01-05 21:00:00']),
      );
      sendJson(res, 200, { search: { hits } });
    });
    const snap = await provider().fetchSnapshot(bucket, [2]);
    expect(fake.requests).toHaveLength(9);
    expect(snap.slots).toHaveLength(47);
  });

  it('stops paging after a hit with no slots (availability ranks first) and skips pages a count of 0 makes empty', async () => {
    fake.setHandler((req, res) => {
      const hits = Array.from({ length: 20 }, (_, i) =>
        flatHit(req.body.page * 100 + i, `V${i}`, i < 15 ? ['2030-01-05 20:30:00'] : []),
      );
      sendJson(res, 200, { search: { hits } });
    });
    const snap = await provider({ maxPages: 2 }).fetchSnapshot(bucket, [2]);
    expect(fake.requests).toHaveLength(3);
    expect(snap.slots).toHaveLength(15);
    fake.setHandler((_req, res) => sendJson(res, 200, { total_pages: 0, search: { hits: [] } }));
    await provider().fetchSnapshot(bucket, [2]);
    expect(fake.requests).toHaveLength(3);
  });

  it('reads both hit shapes, null availability, merges by venue and start, unions party sizes, counts malformed hits', async () => {
    fake.setHandler((req, res) => {
      const size = req.body.slot_filter.party_size;
      const time = req.body.slot_filter.time_filter;
      const hits: unknown[] = [
        flatHit(
          60029,
          'Carbone',
          size === 2 ? ['2030-01-05 20:30:00', '2030-01-05 21:00:00'] : ['2030-01-05 21:00:00'],
        ),
        nestedHit(70001, 'Le Coucou', time === '19:30' ? ['2030-01-05 19:45:00'] : []),
        flatHit(80001, 'Closed Tonight', null),
        { venue: { id: 'not-a-number', name: 'Broken' } },
        { id: { resy: 90001 } },
        flatHit(90002, 'Half Broken', ['2030-01-05 20:00:00']),
      ];
      // One malformed slot inside an otherwise valid hit.
      (hits[5] as { availability: { slots: unknown[] } }).availability.slots.push({ date: { start: 'tonight' } });
      sendJson(res, 200, { search: { hits } });
    });
    const snap = await provider().fetchSnapshot(bucket, [2, 4]);
    expect([...snap.venues.keys()].sort()).toEqual(['resy:60029', 'resy:70001', 'resy:80001', 'resy:90002']);
    const carbone = snap.venues.get('resy:60029')!;
    expect(carbone).toMatchObject({
      name: 'Carbone',
      neighborhood: 'Nolita',
      cuisine: 'Italian',
      priceRange: 3,
      rating: 4.6,
    });
    expect(carbone.bookingUrl).toBe('https://resy.com/cities/ny/carbone');
    const byKey = new Map(snap.slots.map((s) => [`${s.venueId}|${s.localStart}`, s.partySizes]));
    expect(Object.fromEntries(byKey)).toEqual({
      'resy:60029|2030-01-05 20:30:00': [2],
      'resy:60029|2030-01-05 21:00:00': [2, 4],
      'resy:70001|2030-01-05 19:45:00': [2, 4],
      'resy:90002|2030-01-05 20:00:00': [2, 4],
    });
    // 6 calls × (2 malformed hits + 1 malformed slot)
    expect(snap.stats.malformed).toBe(18);
    expect(snap.stats.requests).toBe(6);
  });
});

describe('Resy provider: errors, retries and rate limit', () => {
  it.each([
    [401, 'auth'],
    [419, 'auth'],
    [403, 'blocked'],
  ] as const)('HTTP %i is %s and is never retried', async (status, code) => {
    fake.setHandler((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(`<html>challenge; you sent ${API_KEY}</html>`);
    });
    const err = await failure(provider().fetchSnapshot(bucket, [2]));
    expect(err.code).toBe(code);
    expect(err.message).not.toContain(API_KEY);
    // Three hour filters start together; none is retried.
    expect(fake.requests.length).toBeLessThanOrEqual(3);
    expect(fake.requests.length).toBeGreaterThanOrEqual(1);
  });

  it('a redirect to the login page is auth', async () => {
    fake.setHandler((_req, res) => {
      res.writeHead(302, { location: 'https://resy.com/login?next=/' });
      res.end();
    });
    expect((await failure(provider().fetchSnapshot(bucket, [2]))).code).toBe('auth');
  });

  it('5xx is upstream, retried up to 3 tries in all, and fails the whole poll', async () => {
    fake.setHandler((req, res) =>
      req.body.slot_filter.time_filter === '21:30'
        ? sendJson(res, 503, { error: 'down' })
        : sendJson(res, 200, { search: { hits: [flatHit(1, 'A', ['2030-01-05 20:30:00'])] } }),
    );
    const err = await failure(provider().fetchSnapshot(bucket, [2]));
    expect(err.code).toBe('upstream');
    expect(fake.requests.filter((r) => r.body.slot_filter.time_filter === '21:30')).toHaveLength(3);
  });

  it('a transient 5xx is retried and the poll succeeds', async () => {
    fake.setHandler((_req, res, i) =>
      i === 0
        ? sendJson(res, 502, {})
        : sendJson(res, 200, { search: { hits: [flatHit(1, 'A', ['2030-01-05 20:30:00'])] } }),
    );
    const snap = await provider().fetchSnapshot({ ...bucket, timeSlot: '23:30' }, [2]);
    expect(snap.slots).toHaveLength(1);
    expect(snap.stats.retries).toBe(1);
  });

  it('429 honours Retry-After before the next try', async () => {
    fake.setHandler((_req, res, i) =>
      i === 0 ? sendJson(res, 429, {}, { 'retry-after': '1' }) : sendJson(res, 200, { search: { hits: [] } }),
    );
    await provider().fetchSnapshot({ ...bucket, timeSlot: '23:30' }, [2]);
    // 23:30 → filters 22:30 and 23:30; the retry of the throttled one came ≥ 1 s after it.
    expect(fake.requests).toHaveLength(3);
    const gap = fake.requests[2]!.at - fake.requests[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(1_000);
  });

  it('429 three times is rate_limited', async () => {
    fake.setHandler((req, res) =>
      req.body.slot_filter.time_filter === '19:30'
        ? sendJson(res, 429, {}, { 'retry-after': '0' })
        : sendJson(res, 200, { search: { hits: [] } }),
    );
    const err = await failure(provider().fetchSnapshot(bucket, [2]));
    expect(err.code).toBe('rate_limited');
    expect(fake.requests.filter((r) => r.body.slot_filter.time_filter === '19:30')).toHaveLength(3);
  });

  it('a slow upstream is timeout; a non-JSON or shapeless body is malformed', async () => {
    fake.setHandler(() => undefined); // never answers
    expect(
      (await failure(provider({ timeoutMs: 500 }).fetchSnapshot({ ...bucket, timeSlot: '23:30' }, [2]))).code,
    ).toBe('timeout');
    fake.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
    });
    expect((await failure(provider().fetchSnapshot(bucket, [2]))).code).toBe('malformed');
    fake.setHandler((_req, res) => sendJson(res, 200, { results: [] }));
    expect((await failure(provider().fetchSnapshot(bucket, [2]))).code).toBe('malformed');
  });

  it('keeps to RESY_MAX_RPS across concurrent polls', async () => {
    fake.setHandler((_req, res) => sendJson(res, 200, { search: { hits: [] } }));
    const p = provider({ maxRps: 20 });
    const days = ['2030-02-01', '2030-02-02'];
    await Promise.all(days.map((date) => p.fetchSnapshot({ ...bucket, date }, [2, 4])));
    // Only this test's requests (a slow request of an earlier test may still arrive).
    const ours = fake.requests.filter((r) => days.includes(r.body.slot_filter.day));
    expect(ours).toHaveLength(12);
    const times = ours.map((r) => r.at).sort((a, b) => a - b);
    // 12 requests at ≤ 20/s span at least 11 × 50 ms (a little slack for timer granularity).
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(11 * 50 - 20);
  });
});
