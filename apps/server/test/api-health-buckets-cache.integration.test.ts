import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BRIEFLY_KEPT_MS,
  dayFromToday,
  rawGet,
  seedBucket,
  startApiHarness,
  TEST_ADMIN_TOKEN,
  type ApiHarness,
} from './api-fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEPT_AT_MOST_MS = BRIEFLY_KEPT_MS;

/**
 * health.buckets asked anonymously is kept KEPT_AT_MOST_MS at most: the same bytes for
 * every identical request within that, a change in the buckets in every answer after it.
 */
describe('health.buckets over HTTP: kept a bounded time', () => {
  let h: ApiHarness;
  let bucketIds: string[];
  // What the SDK sends (a batch of one), for one market.
  const url = () =>
    `${h.app.url}/trpc/health.buckets?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { market: 'nyc' } } }))}`;
  const slotCounts = (body: Buffer) => {
    const [answer] = JSON.parse(body.toString('utf8')) as [
      { result: { data: { json: { buckets: { slotCount: number }[] } } } },
    ];
    return answer.result.data.json.buckets.map((b) => b.slotCount);
  };
  /** A fresh render: after the bound, nothing kept can answer. */
  const miss = async (headers: Record<string, string> = {}) => {
    await sleep(KEPT_AT_MOST_MS + 50);
    const started = Date.now();
    const res = await rawGet(url(), headers);
    expect(res.headers['x-dropwatch-cache']).toBe('miss');
    // The server's bound starts between the two: before `started` no render began, after
    // `received` no kept answer of it is served.
    return { res, started, received: Date.now() };
  };

  beforeAll(async () => {
    h = await startApiHarness();
    // Enough buckets for an answer over the compression threshold.
    bucketIds = [];
    for (const day of [0, 1]) {
      for (const timeSlot of ['18:00', '19:00', '20:00', '21:00', '22:00']) {
        bucketIds.push(await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(day), timeSlot }));
      }
    }
  });
  afterAll(() => h?.stop());

  it('identical requests within the bound get the same bytes and ETag, per encoding, and 304 to their ETag', async () => {
    const { res: first } = await miss();
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(String(first.headers.vary).toLowerCase()).toContain('accept-encoding');
    const again = await Promise.all(Array.from({ length: 5 }, () => rawGet(url())));
    for (const res of again) {
      expect(res.headers['x-dropwatch-cache']).toBe('hit');
      expect(res.headers.etag).toBe(first.headers.etag);
      expect(res.body.equals(first.body)).toBe(true);
    }
    const br = await Promise.all([1, 2].map(() => rawGet(url(), { 'accept-encoding': 'br' })));
    expect(br.map((r) => r.headers['content-encoding'])).toEqual(['br', 'br']);
    expect(br[0]!.body.equals(br[1]!.body)).toBe(true);
    expect(brotliDecompressSync(br[0]!.body).equals(first.body)).toBe(true);
    expect(br[0]!.headers.etag).not.toBe(first.headers.etag);
    const notModified = await rawGet(url(), { 'if-none-match': String(first.headers.etag) });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
  });

  it('a change in the buckets is in every answer from the bound on; a request with credentials sees it at once', async () => {
    const { res: before, received } = await miss();
    const old = slotCounts(before.body);
    expect(old.every((n) => n === 10)).toBe(true);
    await h.sql.query('update discovery_buckets set slot_count = 777 where bucket_id = $1', [bucketIds[0]]);
    const changedAt = Date.now();

    // Not shared with anonymous requests: a token's request reads the database itself.
    const withToken = await rawGet(url(), { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(withToken.headers['x-dropwatch-cache']).toBeUndefined();
    expect(slotCounts(withToken.body)[0]).toBe(777);

    // Anonymous: the kept answer (the same bytes) while it is within its bound, never after it.
    const seen: { sentAt: number; counts: number[]; body: Buffer }[] = [];
    while (Date.now() < received + KEPT_AT_MOST_MS + 300) {
      const sentAt = Date.now();
      const res = await rawGet(url());
      seen.push({ sentAt, counts: slotCounts(res.body), body: res.body });
      await sleep(25);
    }
    for (const s of seen) {
      if (s.sentAt >= received + KEPT_AT_MOST_MS) expect(s.counts[0]).toBe(777);
      else if (s.counts[0] !== 777) expect(s.body.equals(before.body)).toBe(true);
    }
    // Once the new value has shown, it stays.
    const firstNew = seen.findIndex((s) => s.counts[0] === 777);
    expect(firstNew).toBeGreaterThanOrEqual(0);
    expect(seen.slice(firstNew).every((s) => s.counts[0] === 777)).toBe(true);
    // Within the bound, give or take the step between the requests above.
    expect(seen[firstNew]!.sentAt - changedAt).toBeLessThanOrEqual(KEPT_AT_MOST_MS + 100);
  });

  it('the kept answer is what was read when it was rendered: a change right after it waits for the bound', async () => {
    const { res: before, started } = await miss();
    await h.sql.query('update discovery_buckets set slot_count = slot_count + 1 where bucket_id = $1', [bucketIds[1]]);
    const res = await rawGet(url());
    // Only meaningful while the answer is within its bound (a slow machine may be past it).
    if (Date.now() < started + KEPT_AT_MOST_MS) {
      expect(res.headers['x-dropwatch-cache']).toBe('hit');
      expect(res.body.equals(before.body)).toBe(true);
    }
    const { res: after } = await miss();
    expect(slotCounts(after.body)[1]).toBe(slotCounts(before.body)[1]! + 1);
  });
});
