import { getMarket, loadConfig, marketToday } from '@dropwatch/core';
import { useTestDatabase, waitFor } from '@dropwatch/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProvider, runPoller, type PollEvent, type PollerStats } from '../src/index.js';
import { startScriptedMarket } from './support/scripted-market.js';
import { captureLogger } from './support/tick-harness.js';

const t = useTestDatabase({ poolMax: 12 });
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  t.orm.em.fork().execute<T[]>(sql, params);

let market: Awaited<ReturnType<typeof startScriptedMarket>>;
const today = marketToday('nyc', new Date());
const [south, west, north, east] = getMarket('nyc').boundingBox;
/** A point of the market's box, as shares of its height and width. */
const at = (y: number, x: number) => ({ lat: south + (north - south) * y, lng: west + (east - west) * x });
const start = (hhmm: string) => `${today} ${hhmm}:00`;

const config = loadConfig({
  RESY_API_KEY: 'test-key',
  RESY_BASE_URL: 'http://127.0.0.1:1',
  RESY_PER_PAGE: '20',
  RESY_MAX_PAGES: '2',
  RESY_MAX_RPS: '100',
  DISCOVERY_WINDOW_DAYS: '1',
  DISCOVERY_TIME_SLOTS: '20:30',
  DISCOVERY_PARTY_SIZES: '2',
  DISCOVERY_BASELINE_POLLS: '2',
  DISCOVERY_BUCKET_COOLDOWN_SECONDS: '2',
  DISCOVERY_TICK_SECONDS: '2',
  LOG_LEVEL: 'silent',
});

/** One provider per test, as one long-lived worker has (its call guard and tilings persist). */
let provider: ReturnType<typeof createProvider>;

/** Runs the real poller against the scripted market until `until` holds (or its deadline). */
/** Every poll the poller reported (its per-poll hook: what the process metrics count). */
const events: PollEvent[] = [];

async function poll(until: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<PollerStats> {
  const abort = new AbortController();
  const running = runPoller({
    orm: t.orm,
    config: { ...config, RESY_BASE_URL: market.url },
    provider,
    logger: captureLogger().logger,
    signal: abort.signal,
    onPoll: (e) => events.push(e),
  });
  try {
    await waitFor(async () => ((await until()) ? true : undefined), timeoutMs, what);
  } finally {
    abort.abort();
  }
  return running;
}

const calibrated = async () =>
  Number((await q<{ n: string }>('select count(*) as n from discovery_buckets where baseline_complete'))[0]!.n) === 1;
const drops = () =>
  q<{ venue_id: string; slot_time: string; closed_at: Date | null }>(
    'select venue_id, slot_time, closed_at from drop_events order by id',
  );
const pollCount = async () =>
  Number((await q<{ n: number }>('select poll_count as n from discovery_buckets'))[0]?.n ?? 0);

beforeAll(async () => {
  market = await startScriptedMarket();
});
afterAll(async () => {
  await market.close();
});
beforeEach(async () => {
  await q(
    'truncate discovery_buckets, bucket_slots, availability_state, drop_events, venue_metrics, venues, feed_cache, job_runs, watches, users cascade',
  );
  await q("delete from job_leases where name like 'discovery-worker:%'");
  market.venues.clear();
  market.state.emptyFilter = null;
  market.state.searchHidden.clear();
  provider = createProvider({ ...config, RESY_BASE_URL: market.url }, captureLogger().logger);
});

describe('the continuous poller', () => {
  it('polls without ticks, calibrates, records a new opening once and closes it when it is gone', async () => {
    market.venues.set(1, { id: 1, ...at(0.5, 0.5), starts: [start('20:00'), start('20:30')] });
    market.venues.set(2, { id: 2, ...at(0.2, 0.2), starts: [start('19:45')] });
    await poll(calibrated, 'calibration');
    market.venues.set(3, { id: 3, ...at(0.7, 0.3), starts: [start('21:15')] });
    await poll(async () => (await drops()).length > 0, 'a drop');
    const before = await pollCount();
    await poll(async () => (await pollCount()) >= before + 3, 'three more polls');
    expect((await drops()).map((d) => [d.venue_id, d.slot_time])).toEqual([['resy:3', '21:15']]);
    market.venues.get(3)!.starts = [];
    await poll(async () => (await drops())[0]?.closed_at != null, 'the close');
    // The interval between polls is kept for health.buckets.
    const [row] = await q<{ poll_interval_seconds: number | null }>(
      'select poll_interval_seconds from discovery_buckets',
    );
    expect(row!.poll_interval_seconds).toBeGreaterThan(0);
    const runs = await q<{ stats: { polls: number } }>("select stats from job_runs where job = 'discovery'");
    expect(runs.length).toBeGreaterThan(0);
  });

  it('a restarted worker (new provider, nothing in memory) resumes: no recalibration, no second drop, the open drop stays open', async () => {
    market.venues.set(1, { id: 1, ...at(0.5, 0.5), starts: [start('20:00'), start('20:30')] });
    await poll(calibrated, 'calibration');
    market.venues.set(3, { id: 3, ...at(0.7, 0.3), starts: [start('21:15')] });
    await poll(async () => (await drops()).length > 0, 'a drop');
    const [before] = await q<{ baseline_polls: number; poll_count: number }>(
      'select baseline_polls, poll_count from discovery_buckets',
    );
    provider = createProvider({ ...config, RESY_BASE_URL: market.url }, captureLogger().logger);
    await poll(async () => (await pollCount()) >= before!.poll_count + 3, 'three polls after the restart');
    const [after] = await q<{ baseline_polls: number }>('select baseline_polls from discovery_buckets');
    expect(after!.baseline_polls).toBe(before!.baseline_polls);
    const all = await drops();
    expect(all.map((d) => [d.venue_id, d.slot_time, d.closed_at])).toEqual([['resy:3', '21:15', null]]);
  });

  it('splits a search the page cap truncates, so every venue is seen and a venue shifting into view is no drop', async () => {
    // 70 venues with slots: more than 2 pages × 20 of one search. Clustered in one corner.
    for (let i = 1; i <= 70; i++) {
      market.venues.set(i, {
        id: i,
        ...at(0.1 + (i % 7) * 0.05, 0.1 + Math.floor(i / 7) * 0.05),
        starts: [start('20:30')],
      });
    }
    const stats = await poll(calibrated, 'calibration');
    const seen = Number((await q<{ n: string }>('select count(distinct venue_id) as n from bucket_slots'))[0]!.n);
    expect(seen).toBe(70);
    expect(
      market.requests.some(
        (r) => JSON.stringify(r.body.geo.bounding_box) !== JSON.stringify(getMarket('nyc').boundingBox),
      ),
    ).toBe(true);
    expect(stats.truncatedCalls).toBe(0);
    // A regular venue gaining slots changes the ranking; nothing it had is a drop.
    market.venues.get(5)!.starts.push(start('20:15'), start('20:45'));
    const before = await pollCount();
    await poll(async () => (await pollCount()) >= before + 3, 'three more polls');
    expect(await drops()).toEqual([]);
  });

  it('closes nothing when one call (party size × hour) answers empty once', async () => {
    market.venues.set(1, { id: 1, ...at(0.5, 0.5), starts: [start('19:30'), start('20:30'), start('21:30')] });
    await poll(calibrated, 'calibration');
    market.venues.set(9, { id: 9, ...at(0.4, 0.4), starts: [start('21:30')] });
    await poll(async () => (await drops()).length === 1, 'a drop');
    // The 21:30 call answers empty: its slots are suspect, the drop it saw stays open.
    market.state.emptyFilter = '21:30';
    const emptyFrom = await pollCount();
    const stats = await poll(async () => (await pollCount()) >= emptyFrom + 1, 'a poll with the empty call');
    expect(market.state.emptyAnswers).toBeGreaterThan(1);
    market.state.emptyFilter = null;
    const before = await pollCount();
    await poll(async () => (await pollCount()) >= before + 2, 'two more polls');
    expect(stats.suspectCalls).toBeGreaterThanOrEqual(1);
    expect((await drops())[0]!.closed_at).toBeNull();
  });

  it('a watched venue is polled per venue on the fast lane, and its new slot becomes a drop once', async () => {
    market.venues.set(1, { id: 1, ...at(0.5, 0.5), starts: [start('20:00'), start('20:30'), start('21:00')] });
    market.venues.set(7, { id: 7, ...at(0.6, 0.6), starts: [] });
    const [user] = await q<{ id: string }>("insert into users (name, role) values ('w', 'user') returning id");
    await q(
      "insert into watches (user_id, kind, venue_id, market, party_size) values (?, 'include', 'resy:7', 'nyc', 2)",
      [user!.id],
    );
    await poll(calibrated, 'calibration');
    // The search does not show the new table yet; only the venue's own availability does.
    market.state.searchHidden.add(7);
    market.venues.get(7)!.starts = [start('20:45')];
    events.length = 0;
    const stats = await poll(async () => (await drops()).length > 0, 'a drop');
    expect(stats.fastLanePolls).toBeGreaterThan(0);
    // The drop is reported as the fast lane's, so the process's drop counter includes it.
    expect(events.filter((e) => e.lane === 'venue').reduce((n, e) => n + e.drops, 0)).toBe(1);
    expect(events.filter((e) => e.lane === 'bucket').reduce((n, e) => n + e.drops, 0)).toBe(0);
    expect(market.requests.some((r) => r.path.startsWith('/4/find?venue_id=7&'))).toBe(true);
    market.state.searchHidden.clear();
    const before = await pollCount();
    await poll(async () => (await pollCount()) >= before + 2, 'two more polls');
    const all = await drops();
    expect(all.map((d) => [d.venue_id, d.slot_time])).toEqual([['resy:7', '20:45']]);
    expect(all[0]!.closed_at).toBeNull();
  });
  it("with more watched venues than a search of their day costs, the fast lane polls the day's bucket instead", async () => {
    market.venues.set(1, { id: 1, ...at(0.5, 0.5), starts: [start('20:00'), start('20:30'), start('21:00')] });
    for (let i = 2; i <= 11; i++) market.venues.set(i, { id: i, ...at(0.05 * i, 0.3), starts: [] });
    const [user] = await q<{ id: string }>("insert into users (name, role) values ('w', 'user') returning id");
    for (let i = 2; i <= 11; i++) {
      await q("insert into watches (user_id, kind, venue_id, market, party_size) values (?, 'include', ?, 'nyc', 2)", [
        user!.id,
        `resy:${i}`,
      ]);
    }
    await poll(calibrated, 'calibration');
    market.venues.get(7)!.starts = [start('20:45')];
    const findsBefore = market.requests.filter((r) => r.path.startsWith('/4/find')).length;
    const stats = await poll(async () => (await drops()).length > 0, 'a drop');
    // Ten targets for a day whose one bucket costs a few requests a round: it is searched, not asked per venue.
    expect(stats.fastLaneBucketPolls).toBeGreaterThan(0);
    expect(stats.fastLanePolls).toBe(0);
    expect(market.requests.filter((r) => r.path.startsWith('/4/find')).length).toBe(findsBefore);
    expect((await drops()).map((d) => [d.venue_id, d.slot_time])).toEqual([['resy:7', '20:45']]);
  });
});
