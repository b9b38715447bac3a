import { brotliDecompressSync } from 'node:zlib';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BRIEFLY_KEPT_MS,
  dayFromToday,
  rawGet,
  type RawAnswer,
  seedBucket,
  startApiHarness,
  TEST_ADMIN_TOKEN,
  waitFor,
  type ApiHarness,
} from './api-fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEPT_AT_MOST_MS = BRIEFLY_KEPT_MS;
const ALLOWED = 'http://app.allowed.test:5173';

interface StatusAnswer {
  status: string;
  reasons: string[];
  checkedAt: string;
}
interface LiveAnswer {
  justOpened: { id: string }[];
  version: number;
}
type BatchItem<T> = { result: { data: { json: T } } };

/** A feed_cache payload (what the tick writes) with these just-opened drops. */
const payload = (ids: readonly string[]) => ({
  market: 'nyc',
  builtAt: new Date().toISOString(),
  justOpenedMinutes: 10,
  justOpened: ids.map((id) => ({
    id,
    market: 'nyc',
    bucketId: `nyc_${dayFromToday(0)}_20:30`,
    venue: { id: 'resy:1', name: 'One', neighborhood: null, bookingUrl: null, imageUrl: null },
    slotDate: dayFromToday(0),
    slotTime: '20:30',
    partySizes: [2],
    openedAt: new Date().toISOString(),
    closedAt: null,
    rarity: 50,
  })),
  stillOpen: [],
  board: [],
});

/**
 * Anonymous GETs of health.status, and of batches made only of feed.live, health.status and
 * health.buckets, are kept KEPT_AT_MOST_MS at most; a batch with feed.live also ends at
 * feed.live's next generation (NOTIFY dropwatch_drops).
 */
describe('health.status and keepable batches over HTTP: kept a bounded time', () => {
  let h: ApiHarness;
  let bucketIds: string[];
  // What the SDK sends for health.status (a batch of one), and what a plain httpBatchLink client
  // sends for a page (feed.live and health.status in one batch).
  const statusUrl = () =>
    `${h.app.url}/trpc/health.status?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: superjson.serialize(undefined) }))}`;
  const batchUrl = () =>
    `${h.app.url}/trpc/feed.live,health.status?batch=1&input=${encodeURIComponent(
      JSON.stringify({ 0: superjson.serialize({ market: 'nyc', limit: 50 }), 1: superjson.serialize(undefined) }),
    )}`;
  const liveUrl = () =>
    `${h.app.url}/trpc/feed.live?input=${encodeURIComponent(JSON.stringify({ json: { market: 'nyc' } }))}`;
  const statusOf = (body: Buffer): StatusAnswer => {
    const items = JSON.parse(body.toString('utf8')) as BatchItem<StatusAnswer>[];
    return items[items.length - 1]!.result.data.json;
  };
  const liveOf = (body: Buffer): LiveAnswer =>
    (JSON.parse(body.toString('utf8')) as [BatchItem<LiveAnswer>])[0].result.data.json;
  /** A fresh render: after the bound, nothing kept can answer. */
  const miss = async (url: string, headers: Record<string, string> = {}) => {
    await sleep(KEPT_AT_MOST_MS + 50);
    const started = Date.now();
    const res = await rawGet(url, headers);
    expect(res.headers['x-dropwatch-cache']).toBe('miss');
    // The server's bound starts between the two: before `started` no render began, after
    // `received` no kept answer of it is served.
    return { res, started, received: Date.now() };
  };
  /**
   * Asks `url` every 25 ms until 300 ms past the bound of the answer `before` (received at
   * `received`): from the bound on each answer shows the failed scan; before it, an answer either
   * shows it or is the kept bytes. Returns what was seen, in order.
   */
  const sampleAcrossBound = async (url: string, before: RawAnswer, received: number) => {
    const seen: { sentAt: number; status: string; body: Buffer }[] = [];
    while (Date.now() < received + KEPT_AT_MOST_MS + 300) {
      const sentAt = Date.now();
      const res = await rawGet(url);
      seen.push({ sentAt, status: statusOf(res.body).status, body: res.body });
      await sleep(25);
    }
    for (const s of seen) {
      if (s.sentAt >= received + KEPT_AT_MOST_MS) expect(s.status).toBe('degraded');
      else if (s.status !== 'degraded') expect(s.body.equals(before.body)).toBe(true);
    }
    return seen;
  };
  const healthy = async () => {
    await h.sql.query(`update discovery_buckets set scanned_at = now(), last_error = null, last_error_at = null`);
    await h.sql.query(`delete from job_runs`);
    await h.sql.query(
      `insert into job_runs (job, started_at, finished_at, status, stats) values ('discovery', now(), now(), 'ok', '{}')`,
    );
  };
  /** A scan of most buckets that failed: health.status turns degraded. */
  const failedScan = () =>
    h.sql.query(
      `update discovery_buckets set last_error = 'upstream: connect ECONNREFUSED', last_error_at = now(), scanned_at = now()
         where bucket_id = any($1)`,
      [bucketIds.slice(0, 3)],
    );

  beforeAll(async () => {
    h = await startApiHarness({ CORS_ORIGINS: ALLOWED });
    bucketIds = [];
    for (const timeSlot of ['19:00', '20:00', '21:00', '22:00'])
      bucketIds.push(await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(0), timeSlot }));
    // Enough drops in the feed for a batch over the compression threshold.
    await h.sql.query(`insert into feed_cache (key, payload, version) values ('market:nyc', $1, 1)`, [
      JSON.stringify(payload(Array.from({ length: 40 }, (_, i) => `${101 + i}`))),
    ]);
    await healthy();
  });
  afterAll(() => h?.stop());

  it('health.status: identical requests within the bound get the same bytes (checkedAt included) and 304 to their ETag', async () => {
    const { res: first } = await miss(statusUrl());
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(String(first.headers.vary).toLowerCase()).toContain('accept-encoding');
    await sleep(20);
    const again = await Promise.all(Array.from({ length: 5 }, () => rawGet(statusUrl())));
    for (const res of again) {
      expect(res.headers['x-dropwatch-cache']).toBe('hit');
      expect(res.headers.etag).toBe(first.headers.etag);
      expect(res.body.equals(first.body)).toBe(true);
    }
    const notModified = await rawGet(statusUrl(), { 'if-none-match': String(first.headers.etag) });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
  });

  it('health.status: a scan shows in every answer from the bound on; a request with a token sees it at once, never a kept answer', async () => {
    await healthy();
    const { res: before, received } = await miss(statusUrl());
    expect(statusOf(before.body).status).toBe('ok');
    await failedScan();
    const changedAt = Date.now();

    const withToken = await rawGet(statusUrl(), { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(withToken.headers['x-dropwatch-cache']).toBeUndefined();
    expect(statusOf(withToken.body).status).toBe('degraded');

    const seen = await sampleAcrossBound(statusUrl(), before, received);
    const firstNew = seen.findIndex((s) => s.status === 'degraded');
    expect(firstNew).toBeGreaterThanOrEqual(0);
    expect(seen.slice(firstNew).every((s) => s.status === 'degraded')).toBe(true);
    // Within the bound, give or take the step between the requests above.
    expect(seen[firstNew]!.sentAt - changedAt).toBeLessThanOrEqual(KEPT_AT_MOST_MS + 100);
    await healthy();
  });

  it('a batch of feed.live + health.status: one kept answer per encoding with its ETag, 304; a token is never served it', async () => {
    const { res: first } = await miss(batchUrl());
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(liveOf(first.body).justOpened).toHaveLength(40);
    await sleep(20);
    const again = await Promise.all(Array.from({ length: 5 }, () => rawGet(batchUrl())));
    for (const res of again) {
      expect(res.headers['x-dropwatch-cache']).toBe('hit');
      expect(res.body.equals(first.body)).toBe(true);
    }
    const br = await Promise.all([1, 2].map(() => rawGet(batchUrl(), { 'accept-encoding': 'br' })));
    expect(br.map((r) => r.headers['content-encoding'])).toEqual(['br', 'br']);
    expect(br[0]!.body.equals(br[1]!.body)).toBe(true);
    expect(brotliDecompressSync(br[0]!.body).equals(first.body)).toBe(true);
    expect(br[0]!.headers.etag).not.toBe(first.headers.etag);
    const notModified = await rawGet(batchUrl(), { 'if-none-match': String(first.headers.etag) });
    expect(notModified.status).toBe(304);

    const withToken = await rawGet(batchUrl(), { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(withToken.status).toBe(200);
    expect(withToken.headers['x-dropwatch-cache']).toBeUndefined();
    // Its own reading: health.status's checkedAt is later than the kept one's.
    expect(statusOf(withToken.body).checkedAt).not.toBe(statusOf(first.body).checkedAt);
  });

  it('a batch of feed.live + health.status: a scan shows from the bound on', async () => {
    await healthy();
    const { res: before, received } = await miss(batchUrl());
    expect(statusOf(before.body).status).toBe('ok');
    await failedScan();
    const seen = await sampleAcrossBound(batchUrl(), before, received);
    expect(seen.some((s) => s.status === 'degraded')).toBe(true);
    await healthy();
  });

  it('a new feed.live generation ends a kept batch at once, within its bound', async () => {
    const { res: before, started } = await miss(batchUrl());
    expect(liveOf(before.body).version).toBe(1);
    const live = await rawGet(liveUrl());
    expect(live.status).toBe(200);
    // The tick rebuilds the feed (version 2) and NOTIFYs.
    await h.sql.query(`update feed_cache set payload = $1, version = 2, built_at = now() where key = 'market:nyc'`, [
      JSON.stringify(payload(['202'])),
    ]);
    await h.sql.query(`select pg_notify('dropwatch_drops', '{}')`);
    // feed.live alone answers with the new version once the NOTIFY has been handled; the kept batch
    // ends in the same handler.
    await waitFor(
      async () => {
        const res = await rawGet(liveUrl(), { 'if-none-match': String(live.headers.etag) });
        return res.status === 200 ? res : undefined;
      },
      5_000,
      'a new feed.live body',
    );
    const after = await rawGet(batchUrl());
    expect(Date.now() - started).toBeLessThan(KEPT_AT_MOST_MS);
    expect(after.headers['x-dropwatch-cache']).toBe('miss');
    expect(liveOf(after.body).version).toBe(2);
    expect(liveOf(after.body).justOpened.map((d) => d.id)).toEqual(['202']);
  });

  it('a kept answer carries each request’s own CORS headers', async () => {
    await miss(batchUrl());
    const allowed = await rawGet(batchUrl(), { origin: ALLOWED });
    const other = await rawGet(batchUrl(), { origin: 'https://evil.test' });
    const none = await rawGet(batchUrl());
    for (const res of [allowed, other, none]) expect(res.headers['x-dropwatch-cache']).toBe('hit');
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
    for (const res of [allowed, other, none]) expect(String(res.headers.vary).toLowerCase()).toContain('origin');
    expect(allowed.body.equals(none.body)).toBe(true);
  });

  it('POST, other procedures in the batch, and the streamed format are not kept', async () => {
    const mixed = `${h.app.url}/trpc/feed.live,health.lastScan?batch=1&input=${encodeURIComponent(
      JSON.stringify({ 0: superjson.serialize({ market: 'nyc' }), 1: superjson.serialize(undefined) }),
    )}`;
    await rawGet(mixed);
    expect((await rawGet(mixed)).headers['x-dropwatch-cache']).not.toBe('hit');
    await rawGet(batchUrl(), { 'trpc-accept': 'application/jsonl' });
    const streamed = await rawGet(batchUrl(), { 'trpc-accept': 'application/jsonl' });
    expect(streamed.headers['x-dropwatch-cache']).toBeUndefined();
    const posted = await fetch(`${h.app.url}/trpc/health.status?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 0: superjson.serialize(undefined) }),
    });
    expect(posted.headers.get('x-dropwatch-cache')).toBeNull();
  });
});
