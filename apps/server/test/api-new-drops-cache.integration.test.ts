import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '@dropwatch/api';
import { DROPS_CHANNEL, FEED_CHANGES_CHANNEL } from '@dropwatch/db';
import { NEW_DROPS_CACHE_MAX_AGE_MS } from '../src/http/new-drops-cache.js';
import {
  dayFromToday,
  minutesAgo,
  seedBucket,
  seedDrop,
  seedVenue,
  startApiHarness,
  waitFor,
  type ApiHarness,
} from './api-fixtures.js';

interface Page {
  drops: { id: string; closedAt: string | null; venue: { name: string } }[];
  cursor: string;
}

/**
 * A fresh answer must show up well before the cache's own age bound could explain it: these
 * tests fail if only that bound, not the wake, ended the cached answer.
 */
const FRESH_WITHIN_MS = NEW_DROPS_CACHE_MAX_AGE_MS / 2;

describe('feed.newDrops over HTTP: one answer per generation, shared', () => {
  let h: ApiHarness;
  let bucketId: string;
  /** The cursor just before the seeded drops. */
  let from: string;
  let seeded: string[];

  /** The GET the SDK sends (a batch of one). */
  const url = (cursor: string, extra: Record<string, unknown> = {}) =>
    `${h.app.url}/trpc/feed.newDrops?batch=1&input=${encodeURIComponent(
      JSON.stringify({ 0: { json: { cursor, market: 'nyc', limit: 200, ...extra } } }),
    )}`;
  const get = (cursor: string, headers: Record<string, string> = {}) => fetch(url(cursor), { headers });
  /** A kept answer (right after a wake nothing is kept until it is settled whether new drops are readable). */
  const kept = (cursor: string) =>
    waitFor(
      async () => {
        const res = await get(cursor);
        return res.headers.get('x-dropwatch-cache') === 'hit' ? res : undefined;
      },
      5_000,
      'a kept answer',
    );
  const pageOf = async (res: Response): Promise<Page> => {
    const [answer] = (await res.json()) as [{ result: { data: { json: Page } } }];
    return answer.result.data.json;
  };
  /** Commits a drop with the NOTIFY the poller sends in its bucket transaction. */
  const commitDrop = async () => {
    const c = await h.sql.connect();
    try {
      await c.query('begin');
      const d = await seedDrop(c, { bucketId, venueId: 'resy:1', market: 'nyc', slotDate: dayFromToday(0) });
      await c.query('select pg_notify($1, $2)', [DROPS_CHANNEL, JSON.stringify({ bucket: bucketId, drops: 1 })]);
      await c.query('commit');
      return d.id;
    } finally {
      c.release();
    }
  };

  beforeAll(async () => {
    h = await startApiHarness();
    bucketId = await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(0), timeSlot: '20:30' });
    await seedVenue(h.sql, { venueId: 'resy:1', market: 'nyc', name: 'Chez Un', dropsInWindow: 3 });
    from = (await h.client().feed.newDrops.query({ market: 'nyc' })).cursor;
    seeded = [];
    for (let i = 0; i < 3; i++) {
      const d = await seedDrop(h.sql, {
        bucketId,
        venueId: 'resy:1',
        market: 'nyc',
        slotDate: dayFromToday(0),
        openedAt: minutesAgo(3 - i),
      });
      seeded.push(d.id);
    }
    // The drops are readable once no older transaction of the cluster hides them.
    await waitFor(
      async () => ((await h.client().feed.newDrops.query({ cursor: from })).drops.length === 3 ? true : undefined),
      10_000,
      'the seeded drops',
    );
    await h.sql.query('select pg_notify($1, $2)', [DROPS_CHANNEL, '{}']);
  });
  afterAll(() => h?.stop());

  it('identical requests are answered with the same bytes from one render, per encoding', async () => {
    const first = await kept(from);
    const body = Buffer.from(await first.arrayBuffer());
    const again = await Promise.all(Array.from({ length: 5 }, () => get(from)));
    for (const res of again) {
      expect(res.headers.get('x-dropwatch-cache')).toBe('hit');
      expect(res.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
    }
    // Never a shared cache's to keep: it must come back and revalidate.
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect(first.headers.get('vary')?.toLowerCase()).toContain('accept-encoding');
    expect((await pageOf(new Response(body))).drops.map((d) => d.id)).toEqual(seeded);

    const br = await Promise.all([1, 2].map(() => get(from, { 'accept-encoding': 'br' })));
    expect(br.map((r) => r.headers.get('content-encoding'))).toEqual(['br', 'br']);
    // fetch decodes: same JSON as identity, and one validator per encoding.
    expect(await br[0]!.text()).toBe(body.toString());
    expect(br[0]!.headers.get('etag')).toBe(br[1]!.headers.get('etag'));
    expect(br[0]!.headers.get('etag')).not.toBe(first.headers.get('etag'));
    const etag = first.headers.get('etag')!;
    expect((await get(from, { 'if-none-match': etag })).status).toBe(304);
  });

  it('a new drop committed with its NOTIFY is in the next answer, at the head and after it', async () => {
    const head = (await pageOf(await get(from))).cursor;
    expect((await pageOf(await kept(head))).drops).toEqual([]);

    const id = await commitDrop();
    const started = Date.now();
    const page = await waitFor(
      async () => {
        const p = await pageOf(await get(head));
        return p.drops.length > 0 ? p : undefined;
      },
      FRESH_WITHIN_MS,
      'the new drop at the head',
    );
    expect(Date.now() - started).toBeLessThan(FRESH_WITHIN_MS);
    expect(page.drops.map((d) => d.id)).toEqual([id]);
    expect((await pageOf(await get(from))).drops.map((d) => d.id)).toEqual([...seeded, id]);
  });

  it('a drop closed (dropwatch_feed_changes at commit) shows its closedAt in the next answer', async () => {
    const before = await pageOf(await kept(from));
    expect(before.drops[0]?.closedAt).toBeNull();

    const c = await h.sql.connect();
    try {
      await c.query('begin');
      await c.query('update drop_events set closed_at = now(), duration_seconds = 60 where id = $1', [seeded[0]]);
      await c.query('delete from availability_state where drop_event_id = $1', [seeded[0]]);
      await c.query('select pg_notify($1, $2)', [FEED_CHANGES_CHANNEL, bucketId]);
      await c.query('commit');
    } finally {
      c.release();
    }
    const after = await waitFor(
      async () => {
        const p = await pageOf(await get(from));
        return p.drops[0]?.closedAt ? p : undefined;
      },
      FRESH_WITHIN_MS,
      'closedAt of the closed drop',
    );
    expect(after.drops.map((d) => d.id)).toEqual(before.drops.map((d) => d.id));
    expect(after.drops.slice(1)).toEqual(before.drops.slice(1));
  });

  it('a venue renamed (dropwatch_feed_changes) shows its new name in the next answer', async () => {
    expect((await pageOf(await kept(from))).drops[0]?.venue.name).toBe('Chez Un');
    await h.sql.query(
      `with renamed as (update venues set name = 'Chez Deux' where venue_id = 'resy:1' returning 1)
       select pg_notify($1, 'venues') from renamed`,
      [FEED_CHANGES_CHANNEL],
    );
    await waitFor(
      async () => ((await pageOf(await get(from))).drops[0]?.venue.name === 'Chez Deux' ? true : undefined),
      FRESH_WITHIN_MS,
      'the new venue name',
    );
  });

  it('requests with credentials, and batches with a private procedure, are never shared between users', async () => {
    const alice = await issueToken(h.app.orm.em.fork(), { userName: 'alice', role: 'user' });
    const bob = await issueToken(h.app.orm.em.fork(), { userName: 'bob', role: 'user' });
    const [drop] = (await h.client().feed.newDrops.query({ cursor: from, limit: 1 })).drops;
    await h.sql.query(
      `insert into user_notifications (user_id, drop_event_id, drop_opened_minute, payload)
       select $1, d.id, d.opened_minute, $3 from drop_events d where d.id = $2`,
      [alice.userId, drop!.id, JSON.stringify(drop)],
    );
    const batch = `${h.app.url}/trpc/feed.newDrops,notifications.list?batch=1&input=${encodeURIComponent(
      JSON.stringify({ 0: { json: { cursor: from, market: 'nyc', limit: 200 } }, 1: { json: {} } }),
    )}`;
    const as = async (token: string) => {
      const res = await fetch(batch, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-dropwatch-cache')).toBeNull();
      const [, list] = (await res.json()) as [unknown, { result: { data: { json: { items: unknown[] } } } }];
      return list.result.data.json.items.length;
    };
    expect(await as(alice.token)).toBe(1);
    expect(await as(bob.token)).toBe(0);
    expect(await as(alice.token)).toBe(1);

    // The same newDrops GET with a token is answered on its own, not from (or into) the cache.
    const withToken = await get(from, { authorization: `Bearer ${bob.token}` });
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('x-dropwatch-cache')).toBeNull();
  });

  it('a read without a cursor (a moving window) is never kept', async () => {
    const windowUrl = `${h.app.url}/trpc/feed.newDrops?batch=1&input=${encodeURIComponent(
      JSON.stringify({ 0: { json: { withinMinutes: 60, market: 'nyc', limit: 200 } } }),
    )}`;
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await fetch(windowUrl)).headers.get('x-dropwatch-cache'));
    expect(outcomes).toEqual(['miss', 'miss', 'miss']);
  });
});
