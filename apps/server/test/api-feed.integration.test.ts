import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDiscoveryRun } from '@dropwatch/discovery';
import { BRIEF_ANSWER_MAX_AGE_MS } from '../src/http/brief-answers.js';
import {
  announceDrops,
  dayFromToday,
  minutesAgo,
  seedBucket,
  seedDrop,
  seedVenue,
  startApiHarness,
  waitFor,
  type ApiHarness,
} from './api-fixtures.js';

describe('feed procedures over HTTP (seeded rows)', () => {
  let h: ApiHarness;
  const today = dayFromToday(0);
  const tomorrow = dayFromToday(1);

  beforeAll(async () => {
    h = await startApiHarness();
    const nycToday = await seedBucket(h.sql, { market: 'nyc', date: today, timeSlot: '20:30' });
    const nycTomorrow = await seedBucket(h.sql, { market: 'nyc', date: tomorrow, timeSlot: '20:30' });
    const la = await seedBucket(h.sql, { market: 'la', date: today, timeSlot: '20:30' });
    await seedVenue(h.sql, { venueId: 'resy:1', market: 'nyc', name: 'Rare Place', dropsInWindow: 1 });
    await seedVenue(h.sql, { venueId: 'resy:2', market: 'nyc', name: 'Common Place', dropsInWindow: 140 });
    await seedVenue(h.sql, { venueId: 'resy:3', market: 'la', name: 'LA Place' });
    // just opened (within 10 min), nyc
    await seedDrop(h.sql, {
      bucketId: nycToday,
      venueId: 'resy:1',
      market: 'nyc',
      slotDate: today,
      partySizes: [2],
      openedAt: minutesAgo(1),
    });
    await seedDrop(h.sql, {
      bucketId: nycToday,
      venueId: 'resy:2',
      market: 'nyc',
      slotDate: today,
      partySizes: [4],
      openedAt: minutesAgo(3),
    });
    await seedDrop(h.sql, {
      bucketId: nycTomorrow,
      venueId: 'resy:2',
      market: 'nyc',
      slotDate: tomorrow,
      partySizes: [2, 4],
      openedAt: minutesAgo(5),
    });
    // just opened but closed: in no open feed
    await seedDrop(h.sql, {
      bucketId: nycToday,
      venueId: 'resy:1',
      market: 'nyc',
      slotDate: today,
      openedAt: minutesAgo(2),
      open: false,
    });
    // la
    await seedDrop(h.sql, { bucketId: la, venueId: 'resy:3', market: 'la', slotDate: today, openedAt: minutesAgo(4) });
    // still open: 30 drops older than the window
    for (let i = 0; i < 30; i++) {
      await seedDrop(h.sql, {
        bucketId: nycToday,
        venueId: i % 2 ? 'resy:1' : 'resy:2',
        market: 'nyc',
        slotDate: today,
        openedAt: minutesAgo(20 + i),
      });
    }
  });
  afterAll(() => h?.stop());

  it('justOpened: open drops of the window, newest first, filtered by market, party size and date', async () => {
    const c = h.client();
    const all = await c.feed.justOpened.query({ market: 'nyc' });
    expect(all.drops.map((d) => d.openedAt.getTime())).toEqual(
      [...all.drops.map((d) => d.openedAt.getTime())].sort((a, b) => b - a),
    );
    expect(all.drops).toHaveLength(3);
    expect(all.drops.every((d) => d.closedAt === null && d.market === 'nyc')).toBe(true);
    expect(all.drops[0]!.openedAt).toBeInstanceOf(Date);
    expect(all.drops[0]!.venue).toMatchObject({ id: 'resy:1', name: 'Rare Place', neighborhood: 'Soho' });

    const party4 = await c.feed.justOpened.query({ market: 'nyc', partySizes: [4] });
    expect(party4.drops.map((d) => d.partySizes)).toEqual([[4], [2, 4]]);
    const tomorrowOnly = await c.feed.justOpened.query({ market: 'nyc', dates: [tomorrow] });
    expect(tomorrowOnly.drops.map((d) => d.slotDate)).toEqual([tomorrow]);
    const la = await c.feed.justOpened.query({ market: 'la' });
    expect(la.drops.map((d) => d.venue.id)).toEqual(['resy:3']);
    const everywhere = await c.feed.justOpened.query();
    expect(everywhere.drops).toHaveLength(4);
    const narrow = await c.feed.justOpened.query({ market: 'nyc', withinMinutes: 2 });
    expect(narrow.drops).toHaveLength(1);
    const capped = await c.feed.justOpened.query({ market: 'nyc', limit: 2 });
    expect(capped.drops).toHaveLength(2);
  });

  it('stillOpen: only drops older than the window, newest first, never above its limit', async () => {
    const c = h.client();
    const res = await c.feed.stillOpen.query({ market: 'nyc' });
    expect(res.drops).toHaveLength(30);
    expect(res.drops.every((d) => d.openedAt.getTime() < Date.now() - 10 * 60_000)).toBe(true);
    const times = res.drops.map((d) => d.openedAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const limit of [1, 7, 29]) {
      const page = await c.feed.stillOpen.query({ market: 'nyc', limit });
      expect(page.drops).toHaveLength(limit);
      expect(page.drops[0]!.id).toBe(res.drops[0]!.id);
    }
  });

  it('board: rarest venue first, then freshest', async () => {
    const res = await h.client().feed.board.query({ market: 'nyc', limit: 5 });
    expect(res.drops).toHaveLength(5);
    // resy:1 has 1 drop in 14 days (rarity ≈ 93), resy:2 has 140 (rarity ≈ 9)
    expect(res.drops[0]!.venue.id).toBe('resy:1');
    expect(res.drops[0]!.rarity).toBeGreaterThan(90);
    const rarities = res.drops.map((d) => d.rarity);
    expect(rarities).toEqual([...rarities].sort((a, b) => b - a));
    const firstCommon = res.drops.findIndex((d) => d.venue.id === 'resy:2');
    const rare = res.drops.filter((d) => d.venue.id === 'resy:1').map((d) => d.openedAt.getTime());
    expect(rare).toEqual([...rare].sort((a, b) => b - a));
    if (firstCommon >= 0) expect(res.drops.slice(firstCommon).every((d) => d.venue.id === 'resy:2')).toBe(true);
  });

  it('feed.live without a cache row reads the segments live (bounded by limit)', async () => {
    const res = await h.client().feed.live.query({ market: 'nyc', limit: 2 });
    expect(res.version).toBe(0);
    expect(res.justOpened).toHaveLength(2);
    expect(res.stillOpen).toHaveLength(2);
    expect(res.board[0]!.venue.id).toBe('resy:1');
    expect(res.lastScanAt).toBeInstanceOf(Date);
    expect(res.nextScanAt!.getTime()).toBeGreaterThan(res.lastScanAt!.getTime());
  });

  it('venues.get: venue, metrics and recent drops; unknown venue is NOT_FOUND', async () => {
    const c = h.client();
    const v = await c.venues.get.query({ venueId: 'resy:1' });
    expect(v.venue.name).toBe('Rare Place');
    expect(v.metrics.drops).toBe(1);
    expect(v.metrics.rarityLabel).toBe('rare');
    expect(v.recentDrops.length).toBeGreaterThan(0);
    await expect(c.venues.get.query({ venueId: 'resy:999' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
  });

  it('health.buckets/lastScan/jobs/status answer from the seeded state', async () => {
    const c = h.client();
    const b = await c.health.buckets.query({ market: 'nyc' });
    expect(b.buckets.map((x) => x.bucketId)).toEqual([`nyc_${today}_20:30`, `nyc_${tomorrow}_20:30`]);
    expect(b.buckets.every((x) => !x.stale)).toBe(true);
    // Each bucket's own poll interval, as the poller left it.
    await h.sql.query(`update discovery_buckets set poll_interval_seconds = 12.34 where bucket_id = $1`, [
      `nyc_${today}_20:30`,
    ]);
    // An anonymous health.buckets answer is kept up to BRIEF_ANSWER_MAX_AGE_MS: read after it.
    await new Promise((r) => setTimeout(r, BRIEF_ANSWER_MAX_AGE_MS + 50));
    const polled = await c.health.buckets.query({ market: 'nyc' });
    expect(polled.buckets.map((x) => x.pollIntervalSeconds)).toEqual([12.3, null]);
    const metrics = await (await fetch(`${h.app.url}/metrics`)).text();
    expect(metrics).toContain(`dropwatch_bucket_poll_interval_seconds{bucket="nyc_${today}_20:30"} 12.34`);
    await h.sql.query(`insert into job_runs (job, started_at, finished_at, status, stats) values
      ('discovery', now() - interval '2 seconds', now(), 'ok', '{"drops": 3, "providerErrors": {"timeout": 2}}')`);
    const jobs = await c.health.jobs.query();
    expect(jobs.jobs).toEqual([
      expect.objectContaining({ job: 'discovery', status: 'ok', stats: { drops: 3, providerErrors: { timeout: 2 } } }),
    ]);
    const status = await c.health.status.query();
    expect(status.status).toBe('ok');
    await h.sql.query(`update discovery_buckets set last_error = 'auth: 401 from provider' where market = 'la'`);
    // An anonymous health.status answer is kept up to BRIEF_ANSWER_MAX_AGE_MS: read after it.
    await new Promise((r) => setTimeout(r, BRIEF_ANSWER_MAX_AGE_MS + 50));
    const degraded = await c.health.status.query();
    expect(degraded.status).toBe('degraded');
    expect(degraded.reasons.join(' ')).toMatch(/auth/);
    const last = await c.health.lastScan.query();
    expect(last.totalVenues).toBe(3);
  });
});

describe('feed.newDrops: exactly once across out-of-order commits', () => {
  let h: ApiHarness;
  let a: pg.Client;
  let b: pg.Client;
  let bucketId: string;
  beforeAll(async () => {
    h = await startApiHarness();
    bucketId = await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(0), timeSlot: '20:30' });
    await seedVenue(h.sql, { venueId: 'resy:1', market: 'nyc', name: 'One' });
    a = new pg.Client({ connectionString: h.db.url });
    b = new pg.Client({ connectionString: h.db.url });
    await a.connect();
    await b.connect();
  });
  afterAll(async () => {
    await a?.end();
    await b?.end();
    await h?.stop();
  });

  it('A inserts and holds, B commits, page; A commits, page: both exactly once, A (older tx) first', async () => {
    const c = h.client();
    const start = await c.feed.newDrops.query();
    expect(start.drops).toEqual([]);
    const drop = { bucketId, venueId: 'resy:1', market: 'nyc', slotDate: dayFromToday(0), open: false } as const;

    await a.query('begin');
    const dropA = await seedDrop(a, drop);
    await b.query('begin');
    const dropB = await seedDrop(b, drop);
    await b.query('commit');
    await announceDrops(h.sql);

    const page1 = await c.feed.newDrops.query({ cursor: start.cursor });
    expect(page1.drops).toEqual([]); // B is held back while the older A is open

    await a.query('commit');
    await announceDrops(h.sql);
    // The cursor lags by the oldest open transaction of the whole cluster (other sessions may
    // hold one briefly), so page until both arrive, with a deadline.
    const seen: string[] = [];
    let cursor = page1.cursor;
    await waitFor(
      async () => {
        const page = await c.feed.newDrops.query({ cursor });
        seen.push(...page.drops.map((d) => d.id));
        cursor = page.cursor;
        return seen.length >= 2 ? true : undefined;
      },
      10_000,
      'both drops',
    );
    const after = await c.feed.newDrops.query({ cursor });
    expect([...seen, ...after.drops.map((d) => d.id)]).toEqual([dropA.id, dropB.id]);
    expect(BigInt(dropA.txId)).toBeLessThan(BigInt(dropB.txId));
  });

  it('pages through many interleaved transactions: every drop once, no repeats', async () => {
    const c = h.client();
    let cursor = (await c.feed.newDrops.query()).cursor;
    const drop = { bucketId, venueId: 'resy:1', market: 'nyc', slotDate: dayFromToday(0), open: false } as const;
    const expected = new Set<string>();
    const seen: string[] = [];
    for (let round = 0; round < 5; round++) {
      await a.query('begin');
      expected.add((await seedDrop(a, drop)).id);
      for (let i = 0; i < 3; i++) expected.add((await seedDrop(h.sql, drop)).id);
      await announceDrops(h.sql);
      const mid = await c.feed.newDrops.query({ cursor, limit: 2 });
      seen.push(...mid.drops.map((d) => d.id));
      cursor = mid.cursor;
      await a.query('commit');
      await announceDrops(h.sql);
      const want = expected.size;
      await waitFor(
        async () => {
          const page = await c.feed.newDrops.query({ cursor, limit: 2 });
          seen.push(...page.drops.map((d) => d.id));
          cursor = page.cursor;
          return seen.length >= want ? true : undefined;
        },
        10_000,
        'every committed drop',
      );
    }
    expect(seen).toHaveLength(expected.size);
    expect(new Set(seen)).toEqual(expected);
  });

  it('withinMinutes without a cursor starts with the recent drops', async () => {
    const res = await h.client().feed.newDrops.query({ withinMinutes: 60, limit: 500 });
    expect(res.drops.length).toBeGreaterThanOrEqual(22);
  });
});

describe('feed.newDrops: the first call without a cursor; cursors that no server issued; feed.live of a market not polled', () => {
  let h: ApiHarness;
  let bucketId: string;
  /** Opened 1, 3 and 8 minutes ago, committed in that order (newest first). */
  let recent: string[];
  /** Opened 90 minutes ago, committed before the others. */
  let old: string;
  const drop = (openedAt: Date) =>
    ({ bucketId, venueId: 'resy:1', market: 'nyc', slotDate: dayFromToday(0), openedAt }) as const;
  const ids = (page: { drops: { id: string }[] }) => page.drops.map((d) => d.id);

  beforeAll(async () => {
    h = await startApiHarness();
    bucketId = await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(0), timeSlot: '20:30' });
    await seedVenue(h.sql, { venueId: 'resy:1', market: 'nyc', name: 'One' });
    old = (await seedDrop(h.sql, drop(minutesAgo(90)))).id;
    recent = [];
    for (const m of [1, 3, 8]) recent.push((await seedDrop(h.sql, drop(minutesAgo(m)))).id);
  });
  afterAll(() => h?.stop());

  it('a fresh call returns the drops of the last hour (withinMinutes defaults to 60) and a cursor that continues exactly once', async () => {
    const c = h.client();
    // The cursor passes a drop only once every older transaction in the cluster has ended (another
    // session may hold one briefly): ask again, with a deadline, until the seeded drops are readable.
    const first = await waitFor(
      async () => {
        const page = await c.feed.newDrops.query();
        return page.drops.length >= recent.length ? page : undefined;
      },
      10_000,
      'the seeded drops',
    );
    expect(ids(first)).toEqual(recent);

    // The window starts at the drop with the smallest transaction id in it, not at the
    // oldest-opened one (here the last committed): the drop opened 1 minute ago is in.
    const five = await c.feed.newDrops.query({ withinMinutes: 5 });
    expect(ids(five)).toEqual(expect.arrayContaining(recent.slice(0, 2)));
    expect(ids(five)).not.toContain(old);
    expect(ids(await c.feed.newDrops.query({ withinMinutes: 120 }))).toEqual([old, ...recent]);

    const next = await c.feed.newDrops.query({ cursor: first.cursor });
    expect(next.drops).toEqual([]);
    const later = await seedDrop(h.sql, drop(new Date()));
    await announceDrops(h.sql);
    const seen: string[] = [];
    let cursor = next.cursor;
    await waitFor(
      async () => {
        const page = await c.feed.newDrops.query({ cursor });
        seen.push(...ids(page));
        cursor = page.cursor;
        return seen.length >= 1 ? true : undefined;
      },
      10_000,
      'the later drop',
    );
    expect([...seen, ...ids(await c.feed.newDrops.query({ cursor }))]).toEqual([later.id]);
  });

  it('a cursor from the future (a transaction that does not exist yet) is BAD_REQUEST saying so', async () => {
    const c = h.client();
    const future = Buffer.from(`${2n ** 62n}:1`, 'utf8').toString('base64url');
    await expect(c.feed.newDrops.query({ cursor: future })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', httpStatus: 400 },
      message: expect.stringMatching(/^cursor: ahead of every drop this server has recorded/),
    });
    // The cursor this server hands out is never refused, even when nothing came after it.
    const { cursor } = await c.feed.newDrops.query();
    await expect(c.feed.newDrops.query({ cursor })).resolves.toMatchObject({ drops: [] });
  });

  it('feed.live of a market this server does not poll is BAD_REQUEST naming the polled markets', async () => {
    const c = h.client();
    await expect(c.feed.live.query({ market: 'la' })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST', httpStatus: 400 },
      message: 'market: la is not polled by this server (DISCOVERY_MARKETS: nyc)',
    });
    const nyc = await c.feed.live.query({ market: 'nyc' });
    expect(nyc.market).toBe('nyc');
  });

  it('/metrics reads the discovery runs written through the stats contract (last run, provider errors summed over the window)', async () => {
    const em = h.app.orm.em.fork();
    const base = { closes: 1, failed: 0, requests: 0, durationMs: 1 };
    await recordDiscoveryRun(em, {
      startedAt: minutesAgo(3),
      status: 'ok',
      stats: { ...base, drops: 1, providerErrors: { timeout: 2 } },
    });
    await recordDiscoveryRun(em, {
      startedAt: minutesAgo(1),
      status: 'ok',
      stats: {
        drops: 5,
        closes: 2,
        failed: 1,
        requests: 30,
        durationMs: 1500,
        providerErrors: { timeout: 1, auth: 1 },
      },
    });
    const text = await (await fetch(`${h.app.url}/metrics`)).text();
    const sample = (line: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(`${line} `))
        ?.split(' ')[1];
    expect(sample('dropwatch_discovery_tick_duration_seconds')).toBe('1.5');
    expect(sample('dropwatch_discovery_last_tick_drops')).toBe('5');
    expect(sample('dropwatch_discovery_last_tick_closes')).toBe('2');
    expect(sample('dropwatch_discovery_last_tick_buckets_failed')).toBe('1');
    expect(sample('dropwatch_discovery_requests_per_second')).toBe('20');
    expect(sample('dropwatch_provider_errors{code="timeout"}')).toBe('3');
    expect(sample('dropwatch_provider_errors{code="auth"}')).toBe('1');
  });
});
