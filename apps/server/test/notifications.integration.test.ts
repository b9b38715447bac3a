import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import type { Unsubscribable } from '@trpc/server/observable';
import pino from 'pino';
import { issueToken } from '@dropwatch/api';
import type { DropwatchClient, RouterOutputs } from '@dropwatch/client';
import { loadConfig } from '@dropwatch/core';
import { MAX_WATCHES_PER_USER, runNotify } from '@dropwatch/discovery';
import {
  dayFromToday,
  seedBucket,
  seedDrop,
  seedVenue,
  startApiHarness,
  waitFor,
  type ApiHarness,
} from './api-fixtures.js';

type Notification = RouterOutputs['notifications']['list']['items'][number];

/** The cursor lags by the oldest open transaction of the whole (shared) cluster: generous deadlines. */
const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

interface Failure {
  readonly message: string;
  readonly data: { code: string } | undefined;
}

async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCClientError) return { message: err.message, data: err.data as { code: string } | undefined };
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('watches and in-app notifications over HTTP (real server, real client, SSE)', () => {
  let h: ApiHarness;
  let bucketId: string;
  let a: DropwatchClient;
  let b: DropwatchClient;
  const subs: Unsubscribable[] = [];
  const config = loadConfig({ NOTIFY_COOLDOWN_MINUTES: '0' });
  const notifyOnce = () => runNotify({ orm: h.app.orm, config, logger: pino({ level: 'silent' }) });

  /** Runs the notify job until `fn` holds (drops may be held back by another session's open transaction). */
  const notifyUntil = <T>(fn: () => Promise<T | undefined>, what: string) =>
    waitFor(
      async () => {
        await notifyOnce();
        return fn();
      },
      VISIBLE_WITHIN_MS,
      what,
    );

  const user = async (name: string) => {
    const t = await issueToken(h.app.orm.em.fork(), { userName: name, role: 'user' });
    return h.client(t.token);
  };

  beforeAll(async () => {
    h = await startApiHarness();
    bucketId = await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(1), timeSlot: '20:30' });
    await seedVenue(h.sql, { venueId: 'resy:1', market: 'nyc', name: 'Café Boulud' });
    await seedVenue(h.sql, { venueId: 'resy:2', market: 'nyc', name: 'Elsewhere' });
    a = await user('alice');
    b = await user('bob');
    await notifyOnce(); // the job's cursor starts here
  });
  afterAll(async () => {
    for (const s of subs) s.unsubscribe();
    await h?.stop();
  });

  it('a drop at a watched venue reaches the watcher over onNew and in list; a user not watching gets nothing', async () => {
    await a.watches.add.mutate({ venueId: 'resy:1' });
    await b.watches.add.mutate({ venueId: 'resy:2' });
    const gotA: { id: string; n: Notification }[] = [];
    const gotB: unknown[] = [];
    subs.push(a.notifications.onNew.subscribe(undefined, { onData: (e) => gotA.push({ id: e.id, n: e.data }) }));
    subs.push(b.notifications.onNew.subscribe(undefined, { onData: (e) => gotB.push(e) }));
    // Subscriptions are open once a NOTIFY-free poll found nothing; give the SSE handshake a moment by waiting on list.
    await waitFor(
      async () => ((await a.notifications.list.query()).items.length === 0 ? true : undefined),
      5_000,
      'list',
    );

    const drop = await seedDrop(h.sql, {
      bucketId,
      venueId: 'resy:1',
      market: 'nyc',
      slotDate: dayFromToday(1),
      partySizes: [2, 4],
    });
    await notifyUntil(() => Promise.resolve(gotA.length >= 1 ? true : undefined), 'onNew to deliver the drop');
    expect(gotA[0]!.n.drop.id).toBe(drop.id);
    expect(gotA[0]!.n.drop.venue.name).toBe('Café Boulud');
    expect(gotA[0]!.n.drop.openedAt).toBeInstanceOf(Date);
    expect(gotA[0]!.n.readAt).toBeNull();
    const list = await a.notifications.list.query();
    expect(list.items.map((n) => n.drop.id)).toEqual([drop.id]);
    expect(list.items[0]!.id).toBe(gotA[0]!.id);
    expect((await b.notifications.list.query()).items).toEqual([]);
    expect(gotB).toEqual([]);
  });

  it('an exclude suppresses, and party size, date range and time range filters hold', async () => {
    const [f, g, hh, i] = [await user('frank'), await user('grace'), await user('heidi'), await user('ivan')];
    await f.watches.add.mutate({ venueName: 'Cafe Boulud' });
    await f.watches.add.mutate({ venueId: 'resy:1', kind: 'exclude' });
    await g.watches.add.mutate({ venueId: 'resy:1', partySize: 6 });
    await hh.watches.add.mutate({ venueId: 'resy:1', timeFrom: '21:00', timeTo: '22:00' });
    await i.watches.add.mutate({ venueId: 'resy:1', dateFrom: dayFromToday(2), dateTo: dayFromToday(2) });
    const early = await seedDrop(h.sql, {
      bucketId,
      venueId: 'resy:1',
      market: 'nyc',
      slotDate: dayFromToday(1),
      slotTime: '20:30',
      partySizes: [2, 4],
    });
    const late = await seedDrop(h.sql, {
      bucketId,
      venueId: 'resy:1',
      market: 'nyc',
      slotDate: dayFromToday(2),
      slotTime: '21:30',
      partySizes: [6],
    });
    // Alice watches resy:1 unfiltered: once she has both, the job has read both.
    await notifyUntil(async () => {
      const ids = (await a.notifications.list.query({ limit: 10 })).items.map((n) => n.drop.id);
      return ids.includes(early.id) && ids.includes(late.id) ? true : undefined;
    }, 'both drops fanned out');
    expect((await f.notifications.list.query()).items).toEqual([]);
    for (const c of [g, hh, i])
      expect((await c.notifications.list.query()).items.map((n) => n.drop.id)).toEqual([late.id]);
  });

  it('watches: idempotent add, name normalized, bounded count, NOT_FOUND for ids not yours, BAD_REQUEST for bad input', async () => {
    const c = await user('carol');
    const first = await c.watches.add.mutate({
      venueName: '  CAFÉ   Boulud ',
      partySize: 2,
      timeFrom: '19:00',
      timeTo: '22:00',
    });
    expect(first.created).toBe(true);
    expect(first.watch.venueName).toBe('cafe boulud');
    const again = await c.watches.add.mutate({ venueName: 'cafe boulud' });
    expect(again).toMatchObject({ created: false, watch: { id: first.watch.id, partySize: 2 } });
    expect((await c.watches.list.query()).items.map((w) => w.id)).toEqual([first.watch.id]);

    for (let i = 1; i < MAX_WATCHES_PER_USER; i++)
      await c.watches.add.mutate({ venueId: `resy:${1000 + i}`, kind: 'exclude' });
    const over = await failure(c.watches.add.mutate({ venueId: 'resy:99999' }));
    expect(over.data?.code).toBe('CONFLICT');
    expect(over.message).toContain(`at most ${MAX_WATCHES_PER_USER}`);
    expect((await c.watches.list.query()).items).toHaveLength(MAX_WATCHES_PER_USER);

    const bad = await failure(c.watches.add.mutate({ venueId: 'resy:1', venueName: 'x' }));
    expect(bad.data?.code).toBe('BAD_REQUEST');
    expect((await failure(c.watches.add.mutate({ venueId: 'not an id' }))).data?.code).toBe('BAD_REQUEST');
    expect((await failure(c.watches.add.mutate({ venueId: 'resy:1', timeFrom: '25:00' }))).data?.code).toBe(
      'BAD_REQUEST',
    );
    expect(
      (await failure(c.watches.add.mutate({ venueId: 'resy:1', dateFrom: '2026-03-02', dateTo: '2026-03-01' }))).data
        ?.code,
    ).toBe('BAD_REQUEST');

    const alices = (await a.watches.list.query()).items[0]!;
    expect((await failure(c.watches.remove.mutate({ id: alices.id }))).data?.code).toBe('NOT_FOUND');
    expect((await a.watches.list.query()).items.map((w) => w.id)).toContain(alices.id);
    expect(await c.watches.remove.mutate({ id: first.watch.id })).toEqual({ removed: true });
    expect((await failure(c.watches.remove.mutate({ id: first.watch.id }))).data?.code).toBe('NOT_FOUND');
    expect((await failure(h.client().watches.list.query())).data?.code).toBe('UNAUTHORIZED');
  });

  it('concurrent adds never take a user past the watch limit (count and insert run in one locked transaction)', async () => {
    const w = await user('walter');
    const extra = 10;
    const outcomes = await Promise.allSettled(
      Array.from({ length: MAX_WATCHES_PER_USER + extra }, (_, i) =>
        w.watches.add.mutate({ venueId: `resy:${5000 + i}` }),
      ),
    );
    const created = outcomes.filter((o) => o.status === 'fulfilled' && o.value.created).length;
    const refused = outcomes.filter(
      (o) => o.status === 'rejected' && (o.reason as { data?: { code?: string } }).data?.code === 'CONFLICT',
    ).length;
    expect({ created, refused }).toEqual({ created: MAX_WATCHES_PER_USER, refused: extra });
    expect((await w.watches.list.query()).items).toHaveLength(MAX_WATCHES_PER_USER);
  });

  it('list pages newest first with an opaque cursor; unreadOnly, markRead and markAllRead touch only the caller', async () => {
    const d = await user('dave');
    await d.watches.add.mutate({ venueId: 'resy:2' });
    const drops = [];
    for (let i = 0; i < 5; i++)
      drops.push(await seedDrop(h.sql, { bucketId, venueId: 'resy:2', market: 'nyc', slotDate: dayFromToday(1) }));
    await notifyUntil(
      async () => ((await d.notifications.list.query({ limit: 10 })).items.length >= 5 ? true : undefined),
      'five notifications',
    );

    const page1 = await d.notifications.list.query({ limit: 2 });
    const page2 = await d.notifications.list.query({ limit: 2, cursor: page1.nextCursor! });
    const page3 = await d.notifications.list.query({ limit: 2, cursor: page2.nextCursor! });
    expect(page3.nextCursor).toBeNull();
    const ids = [...page1.items, ...page2.items, ...page3.items].map((n) => n.drop.id);
    expect(ids).toEqual(drops.map((x) => x.id).reverse());
    expect((await failure(d.notifications.list.query({ cursor: 'garbage!' }))).data?.code).toBe('BAD_REQUEST');

    expect(await d.notifications.markRead.mutate({ ids: [page1.items[0]!.id] })).toEqual({ updated: 1 });
    const unread = await d.notifications.list.query({ unreadOnly: true, limit: 10 });
    expect(unread.items).toHaveLength(4);

    // Bob's (and Alice's) ids are not Dave's.
    const bobs = await b.notifications.list.query();
    const alices = (await a.notifications.list.query()).items[0]!;
    expect((await failure(d.notifications.markRead.mutate({ ids: [alices.id] }))).data?.code).toBe('NOT_FOUND');
    expect((await failure(d.notifications.markRead.mutate({ ids: [page1.items[1]!.id, alices.id] }))).data?.code).toBe(
      'NOT_FOUND',
    );
    expect((await a.notifications.list.query()).items[0]!.readAt).toBeNull();
    expect((await d.notifications.list.query({ unreadOnly: true, limit: 10 })).items).toHaveLength(4);
    expect((await d.notifications.list.query({ limit: 50 })).items.map((n) => n.id)).not.toContain(alices.id);
    // Bob watches the same venue: his notifications of the same drops are his own rows.
    expect(bobs.items.length).toBeGreaterThan(0);
    const daves = (await d.notifications.list.query({ limit: 50 })).items.map((n) => n.id);
    for (const n of bobs.items) expect(daves).not.toContain(n.id);
    expect((await failure(d.notifications.markRead.mutate({ ids: [bobs.items[0]!.id] }))).data?.code).toBe('NOT_FOUND');

    // A subscription resuming from someone else's id is refused.
    const errors: unknown[] = [];
    subs.push(
      d.notifications.onNew.subscribe(
        { lastEventId: alices.id },
        { onData: () => undefined, onError: (e) => errors.push(e) },
      ),
    );
    await waitFor(() => (errors.length > 0 ? true : undefined), 5_000, 'onNew to refuse a foreign id');
    expect(((errors[0] as TRPCClientError<never>).data as { code: string } | undefined)?.code).toBe('NOT_FOUND');

    expect(await d.notifications.markAllRead.mutate()).toEqual({ updated: 4 });
    expect((await d.notifications.list.query({ unreadOnly: true })).items).toEqual([]);
    expect((await a.notifications.list.query()).items[0]!.readAt).toBeNull();
  });

  it('onNew resumes from the last event id without gaps or repeats', async () => {
    const e = await user('erin');
    await e.watches.add.mutate({ venueId: 'resy:2' });
    const got: { id: string; drop: string }[] = [];
    const sub = e.notifications.onNew.subscribe(undefined, {
      onData: (ev) => got.push({ id: ev.id, drop: ev.data.drop.id }),
    });
    subs.push(sub);
    await waitFor(
      async () => ((await e.notifications.list.query()).items.length === 0 ? true : undefined),
      5_000,
      'list',
    );
    const d1 = await seedDrop(h.sql, { bucketId, venueId: 'resy:2', market: 'nyc', slotDate: dayFromToday(1) });
    await notifyUntil(() => Promise.resolve(got.length >= 1 ? true : undefined), 'the first notification');
    sub.unsubscribe();
    const missed = [
      await seedDrop(h.sql, { bucketId, venueId: 'resy:2', market: 'nyc', slotDate: dayFromToday(1) }),
      await seedDrop(h.sql, { bucketId, venueId: 'resy:2', market: 'nyc', slotDate: dayFromToday(1) }),
    ];
    await notifyUntil(
      async () => ((await e.notifications.list.query()).items.length >= 3 ? true : undefined),
      'the missed ones',
    );
    const again: string[] = [];
    subs.push(
      e.notifications.onNew.subscribe({ lastEventId: got[0]!.id }, { onData: (ev) => again.push(ev.data.drop.id) }),
    );
    await waitFor(() => (again.length >= 2 ? true : undefined), 10_000, 'the missed notifications');
    expect(got.map((g) => g.drop)).toEqual([d1.id]);
    expect(again).toEqual(missed.map((m) => m.id));
  });
});
