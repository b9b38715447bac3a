import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Unsubscribable } from '@trpc/server/observable';
import type { DropDto } from '@dropwatch/client';
import {
  dayFromToday,
  seedBucket,
  seedDrop,
  seedVenue,
  startApiHarness,
  waitFor,
  type ApiHarness,
} from './api-fixtures.js';

interface Got {
  id: string;
  drop: DropDto;
  at: number;
}

describe('feed.onDrop over SSE', () => {
  let h: ApiHarness;
  let bucketId: string;
  const subs: Unsubscribable[] = [];
  const drop = () => ({ bucketId, venueId: 'resy:1', market: 'nyc', slotDate: dayFromToday(0) });
  const notify = () => h.sql.query(`select pg_notify('dropwatch_drops', 'test')`);

  beforeAll(async () => {
    h = await startApiHarness();
    bucketId = await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(0), timeSlot: '20:30' });
    await seedVenue(h.sql, { venueId: 'resy:1', market: 'nyc', name: 'One' });
  });
  afterAll(async () => {
    for (const s of subs) s.unsubscribe();
    await h?.stop();
  });

  function subscribe(
    input: { market?: 'nyc' | 'la'; lastEventId?: string },
    got: Got[],
    errors: unknown[] = [],
  ): Unsubscribable {
    const sub = h.client().feed.onDrop.subscribe(input, {
      onData: (e) => got.push({ id: e.id, drop: e.data, at: Date.now() }),
      onError: (err) => errors.push(err),
    });
    subs.push(sub);
    return sub;
  }

  it('delivers a drop committed after subscribing within 1 s, then resumes from the last id without gaps or repeats', async () => {
    const c = h.client();
    const { cursor } = await c.feed.newDrops.query();
    const got: Got[] = [];
    const sub = subscribe({ market: 'nyc', lastEventId: cursor }, got);

    const first = await seedDrop(h.sql, drop());
    const committedAt = Date.now();
    await notify();
    // The exactly-once cursor passes a drop only when every older transaction in the cluster
    // has ended; on a shared server another session's write can hold it back for a while. The
    // promise is: within 1 s of the drop becoming readable by the cursor (at once on a quiet one).
    const visibleAt = await waitFor(
      async () => {
        const page = await c.feed.newDrops.query({ cursor });
        return page.drops.some((d) => d.id === first.id) ? Date.now() : undefined;
      },
      60_000,
      'the drop to pass the cursor',
    );
    await waitFor(() => (got.length >= 1 ? true : undefined), 60_000, 'the first drop over SSE');
    expect(got[0]!.drop.id).toBe(first.id);
    expect(got[0]!.drop.openedAt).toBeInstanceOf(Date);
    expect(got[0]!.at - Math.max(committedAt, visibleAt)).toBeLessThan(1_000);

    // Disconnect, miss two drops, reconnect with the last id seen.
    sub.unsubscribe();
    const missed = [await seedDrop(h.sql, drop()), await seedDrop(h.sql, drop())];
    await notify();
    const again: Got[] = [];
    subscribe({ market: 'nyc', lastEventId: got[got.length - 1]!.id }, again);
    await waitFor(() => (again.length >= 2 ? true : undefined), 60_000, 'the missed drops');
    const live = await seedDrop(h.sql, drop());
    await notify();
    await waitFor(() => (again.length >= 3 ? true : undefined), 60_000, 'a live drop after resuming');
    expect(again.map((g) => g.drop.id)).toEqual([...missed.map((m) => m.id), live.id]);
    // ids are cursors: newDrops from the first event's id yields exactly what the stream did.
    const page = await c.feed.newDrops.query({ cursor: got[0]!.id });
    expect(page.drops.map((d) => d.id)).toEqual(again.map((g) => g.drop.id));
  });

  it('filters by market and fans one NOTIFY out to many subscribers', async () => {
    const { cursor } = await h.client().feed.newDrops.query();
    const lists = Array.from({ length: 5 }, () => [] as Got[]);
    for (const list of lists) subscribe({ market: 'nyc', lastEventId: cursor }, list);
    const laGot: Got[] = [];
    subscribe({ market: 'la', lastEventId: cursor }, laGot);
    const d = await seedDrop(h.sql, drop());
    await notify();
    await waitFor(() => (lists.every((l) => l.length >= 1) ? true : undefined), 60_000, 'every subscriber');
    for (const l of lists) expect(l.map((g) => g.drop.id)).toEqual([d.id]);
    expect(laGot).toEqual([]);
  });

  it('a malformed lastEventId is BAD_REQUEST, not a silent restart', async () => {
    const errors: unknown[] = [];
    subscribe({ lastEventId: 'not-a-cursor' }, [], errors);
    const err = await waitFor(() => errors[0], 3_000, 'the subscription error');
    expect(err).toMatchObject({ data: { code: 'BAD_REQUEST' } });
  });
});

describe('feed.live serialized-response cache over HTTP', () => {
  let h: ApiHarness;
  const liveUrl = () =>
    `${h.app.url}/trpc/feed.live?input=${encodeURIComponent(JSON.stringify({ json: { market: 'nyc' } }))}`;

  const payload = (dropId: string) => ({
    market: 'nyc',
    builtAt: new Date().toISOString(),
    justOpenedMinutes: 10,
    justOpened: [
      {
        id: dropId,
        market: 'nyc',
        bucketId: 'nyc_2026-12-01_20:30',
        venue: { id: 'resy:1', name: 'One', neighborhood: null, bookingUrl: null, imageUrl: null },
        slotDate: '2026-12-01',
        slotTime: '20:30',
        partySizes: [2],
        openedAt: new Date().toISOString(),
        closedAt: null,
        rarity: 50,
      },
    ],
    stillOpen: [],
    board: [],
  });

  beforeAll(async () => {
    h = await startApiHarness();
    await h.sql.query(`insert into feed_cache (key, payload, version) values ('market:nyc', $1, 1)`, [
      JSON.stringify(payload('101')),
    ]);
  });
  afterAll(() => h?.stop());

  it('answers a repeat from the cache, 304 on a matching If-None-Match, a new body after the feed changes', async () => {
    const first = await fetch(liveUrl());
    expect(first.status).toBe(200);
    expect(first.headers.get('x-dropwatch-cache')).toBe('miss');
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const body = await first.text();
    expect(body).toContain('"101"');

    const second = await fetch(liveUrl());
    expect(second.headers.get('x-dropwatch-cache')).toBe('hit');
    expect(second.headers.get('etag')).toBe(etag);
    expect(await second.text()).toBe(body);

    const notModified = await fetch(liveUrl(), { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');

    // The tRPC wire format is unchanged: the typed client reads the cached answer.
    const viaClient = await h.client().feed.live.query({ market: 'nyc' });
    expect(viaClient.justOpened.map((d) => d.id)).toEqual(['101']);
    expect(viaClient.version).toBe(1);
    expect(viaClient.justOpened[0]!.openedAt).toBeInstanceOf(Date);

    // The tick rebuilds the cache (version 2) and NOTIFYs: the next answer is the new feed.
    await h.sql.query(`update feed_cache set payload = $1, version = 2, built_at = now() where key = 'market:nyc'`, [
      JSON.stringify(payload('202')),
    ]);
    await h.sql.query(`select pg_notify('dropwatch_drops', '{}')`);
    const changed = await waitFor(
      async () => {
        const res = await fetch(liveUrl(), { headers: { 'if-none-match': etag } });
        return res.status === 200 ? res : undefined;
      },
      5_000,
      'a new feed.live body',
    );
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.text()).toContain('"202"');
  });

  it('a burst of identical polls costs one render', async () => {
    const url = `${h.app.url}/trpc/feed.live?input=${encodeURIComponent(JSON.stringify({ json: { market: 'nyc', limit: 7 } }))}`;
    const misses = await metricValue(h, 'dropwatch_feed_live_cache_total{result="miss"}');
    const responses = await Promise.all(Array.from({ length: 50 }, () => fetch(url)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const bodies = new Set(await Promise.all(responses.map((r) => r.text())));
    expect(bodies.size).toBe(1);
    expect(await metricValue(h, 'dropwatch_feed_live_cache_total{result="miss"}')).toBe(misses + 1);
    const metrics = await (await fetch(`${h.app.url}/metrics`)).text();
    expect(metrics).toMatch(/dropwatch_http_requests_total\{procedure="feed.live",status="200"\} \d+/);
    expect(metrics).toMatch(/dropwatch_http_request_duration_seconds_bucket\{le="[^"]+",procedure="feed.live"\}/);
  });
});

async function metricValue(h: ApiHarness, series: string): Promise<number> {
  const text = await (await fetch(`${h.app.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length).trim()) : 0;
}
