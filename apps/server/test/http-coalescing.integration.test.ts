import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpBatchStreamLink } from '@trpc/client';
import type { AppRouter } from '@dropwatch/api';
import superjson from 'superjson';
import { dayFromToday, seedBucket, startApiHarness, TEST_ADMIN_TOKEN, type ApiHarness } from './api-fixtures.js';

/**
 * Identical anonymous GETs of a public query that arrive while one is being answered share its
 * answer; nothing is kept after it is sent.
 */
describe('public queries over HTTP: concurrent identical requests share one answer', () => {
  let h: ApiHarness;
  let bucketId: string;
  const bucketsUrl = () =>
    `${h.app.url}/trpc/health.buckets?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { market: 'nyc' } } }))}`;
  const slotCounts = async (res: Response) => {
    const [answer] = (await res.json()) as [{ result: { data: { json: { buckets: { slotCount: number }[] } } } }];
    return answer.result.data.json.buckets.map((b) => b.slotCount);
  };
  // health.lastScan: coalesced only (health.buckets alone is kept a second, its own test file).
  const lastScanUrl = () =>
    `${h.app.url}/trpc/health.lastScan?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: null } }))}`;
  const totalSlots = async (res: Response) => {
    const [answer] = (await res.json()) as [{ result: { data: { json: { totalSlots: number } } } }];
    return answer.result.data.json.totalSlots;
  };

  beforeAll(async () => {
    h = await startApiHarness();
    bucketId = await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(0), timeSlot: '20:30' });
  });
  afterAll(() => h?.stop());

  it('a burst shares renders, and the next request after a change reads the change (nothing is kept)', async () => {
    const burst = await Promise.all(Array.from({ length: 50 }, () => fetch(lastScanUrl())));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    const outcomes = burst.map((r) => r.headers.get('x-dropwatch-cache'));
    expect(outcomes).toContain('shared');
    expect(new Set(outcomes)).toEqual(new Set(['miss', 'shared']));
    expect(burst[0]!.headers.get('cache-control')).toBe('no-cache');
    expect(new Set(await Promise.all(burst.map((r) => r.text()))).size).toBe(1);

    await h.sql.query('update discovery_buckets set slot_count = 999 where bucket_id = $1', [bucketId]);
    const after = await fetch(lastScanUrl());
    expect(after.headers.get('x-dropwatch-cache')).toBe('miss');
    expect(await totalSlots(after)).toBe(999);
  });

  it('answers with an ETag, and 304 to a revalidation while unchanged', async () => {
    const first = await fetch(bucketsUrl());
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect((await fetch(bucketsUrl(), { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('a request with credentials is answered on its own', async () => {
    const res = await fetch(bucketsUrl(), { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-dropwatch-cache')).toBeNull();
    expect(await slotCounts(res)).toEqual([999]);
  });

  it("a client of tRPC's streamed batch format gets that format, for feed.live and health.buckets alike", async () => {
    const streaming = createTRPCClient<AppRouter>({
      links: [httpBatchStreamLink({ url: `${h.app.url}/trpc`, transformer: superjson })],
    });
    const [live, buckets] = await Promise.all([
      streaming.feed.live.query({ market: 'nyc' }),
      streaming.health.buckets.query({ market: 'nyc' }),
    ]);
    expect(live.market).toBe('nyc');
    expect(buckets.buckets.map((b) => b.bucketId)).toEqual([bucketId]);
    // feed.live alone: the path the serialized-response cache answers for non-streaming clients.
    expect((await streaming.feed.live.query({ market: 'nyc', limit: 3 })).market).toBe('nyc');
  });
});
