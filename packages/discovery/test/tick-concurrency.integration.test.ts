import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createOrm, withPgClient, type MikroORM } from '@dropwatch/db';
import { adminQuery, useTestDatabase, waitFor } from '@dropwatch/db/testing';
import { SimulatedProvider } from '../src/index.js';
import { applySnapshot, VenueCache, type DiscoveryTickStats } from '../src/internals.js';
import { applyVenueDay } from '../src/tick/apply-venue-day.js';
import { SQL_LOCK_AND_READ_BUCKET } from '../src/tick/bucket-sql.js';
import {
  calibratedBucket,
  makeTicker,
  scriptedSnapshot,
  slotAt,
  testConfig,
  TestClock,
} from './support/tick-harness.js';

const t = useTestDatabase({ poolMax: 12 });
/**
 * The simulated market is deterministic for its seed and the buckets' dates, so a fixed day makes
 * these runs the same every day. With "today" instead, the DISCOVERY_CONCURRENCY run drew only
 * 35 and 39 drops on two of four days tried, under its floor of 50. The tick makes that day's
 * partitions itself.
 */
const FIXED_NOON = Date.parse('2026-11-28T12:00:00Z');
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  t.orm.em.fork().execute<T[]>(sql, params);
const extraOrms: MikroORM[] = [];
afterAll(async () => {
  for (const o of extraOrms) await o.close(true);
});

beforeEach(async () => {
  await q(
    'truncate discovery_buckets, bucket_slots, availability_state, drop_events, venue_metrics, venues, feed_cache, job_runs',
  );
});

async function totals() {
  const [r] = await q<Record<string, string>>(
    `select (select count(*) from drop_events) as drops,
            (select count(*) from drop_events where closed_at is not null) as closed,
            (select coalesce(sum(drops), 0) from venue_metrics) as metric_drops,
            (select coalesce(sum(closes), 0) from venue_metrics) as metric_closes,
            (select coalesce(sum(open_seconds_sum), 0) from venue_metrics) as metric_secs,
            (select coalesce(sum(duration_seconds), 0) from drop_events) as secs,
            (select count(*) from (select 1 from drop_events group by bucket_id, slot_key, opened_minute having count(*) > 1) d) as dupes,
            (select count(*) from availability_state a join drop_events d on d.id = a.drop_event_id where d.closed_at is not null) as open_but_closed`,
  );
  return Object.fromEntries(Object.entries(r!).map(([k, v]) => [k, Number(v)]));
}

const sum = (
  list: DiscoveryTickStats[],
  k: 'applied' | 'calibrating' | 'suspect' | 'failed' | 'txRetries' | 'drops' | 'closes' | 'skipped',
) => list.reduce((a, s) => a + s[k], 0);

describe('discovery tick under concurrency', () => {
  it('DISCOVERY_CONCURRENCY buckets at once over the same venues: no deadlock, no unique error, metrics = closes', async () => {
    // 7 days × 2 slots = 14 buckets, 8 at once, all drawing drops from the same 40 venues.
    const config = testConfig({
      DISCOVERY_WINDOW_DAYS: '7',
      DISCOVERY_TIME_SLOTS: '15:00,20:30',
      DISCOVERY_CONCURRENCY: '8',
    });
    const clock = new TestClock(FIXED_NOON);
    const stepMs = (config.DISCOVERY_BUCKET_COOLDOWN_SECONDS + 1) * 1000;
    const provider = new SimulatedProvider({
      seed: 11,
      venues: 40,
      slotsPerBucket: 200,
      churn: 0.3,
      stepMs,
      now: clock.now,
    });
    const { tick } = makeTicker(() => t.orm, config, provider, clock);
    const runs: DiscoveryTickStats[] = [];
    for (let round = 0; round < 25; round++) runs.push(await tick());
    expect(sum(runs, 'failed')).toBe(0);
    expect(sum(runs, 'txRetries')).toBe(0);
    expect(sum(runs, 'applied') + sum(runs, 'calibrating') + sum(runs, 'suspect')).toBe(14 * 25);
    const tot = await totals();
    expect(tot.drops).toBeGreaterThan(50);
    expect(tot.closed).toBeGreaterThan(20);
    expect(tot).toMatchObject({
      metric_drops: tot.drops,
      metric_closes: tot.closed,
      metric_secs: tot.secs,
      dupes: 0,
      open_but_closed: 0,
    });
    expect(sum(runs, 'drops')).toBe(tot.drops);
  }, 120_000);

  it('two engines ticking at once on one database apply every bucket once and never duplicate a drop', async () => {
    const config = testConfig({
      DISCOVERY_WINDOW_DAYS: '4',
      DISCOVERY_TIME_SLOTS: '15:00,20:30',
      DISCOVERY_CONCURRENCY: '4',
    });
    const clock = new TestClock(FIXED_NOON);
    const stepMs = (config.DISCOVERY_BUCKET_COOLDOWN_SECONDS + 1) * 1000;
    const market = () =>
      new SimulatedProvider({ seed: 5, venues: 60, slotsPerBucket: 150, churn: 0.2, stepMs, now: clock.now });
    const other = await createOrm({ databaseUrl: t.db.url, poolMax: 6 });
    extraOrms.push(other);
    // Both engines read the same clock; only one of them advances it per round.
    const a = makeTicker(() => t.orm, config, market(), clock);
    const b = makeTicker(() => other, config, market(), clock);
    const runs: DiscoveryTickStats[] = [];
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      const first = a.tick();
      const second = b.tick({ now: clock.now });
      runs.push(...(await Promise.all([first, second])));
    }
    const [bucketRow] = await q<{ n: string; min: number; max: number }>(
      'select count(*) as n, min(poll_count) as min, max(poll_count) as max from discovery_buckets',
    );
    expect(Number(bucketRow!.n)).toBe(8);
    // Every bucket polled exactly once per round, by one engine or the other.
    expect(bucketRow).toMatchObject({ min: rounds, max: rounds });
    expect(sum(runs, 'applied') + sum(runs, 'calibrating') + sum(runs, 'suspect')).toBe(8 * rounds);
    expect(sum(runs, 'skipped')).toBe(8 * rounds);
    expect(sum(runs, 'failed')).toBe(0);
    const tot = await totals();
    expect(tot.drops).toBeGreaterThan(0);
    expect(tot).toMatchObject({ dupes: 0, metric_drops: tot.drops, metric_closes: tot.closed });
  }, 120_000);

  it('a connection terminated mid-transaction leaves the bucket as it was; the next tick succeeds and counts once', async () => {
    const config = testConfig();
    const clock = new TestClock(FIXED_NOON);
    const { provider, bucket, date, base, tick } = await calibratedBucket(
      () => t.orm,
      config,
      clock,
      (day) => [slotAt(day, 1, '20:00'), slotAt(day, 2, '20:30')],
    );
    provider.set(bucket, [...base, slotAt(date, 7, '21:00')]);
    await tick();
    // The drop closes in this poll; the backend dies after the whole diff ran, before COMMIT.
    provider.set(bucket, base);
    const state = async () =>
      q(
        `select (select row_to_json(b) from (select poll_count, scanned_at, slot_count from discovery_buckets) b) as bucket,
                (select count(*) from availability_state) as open,
                (select json_agg(s order by slot_key) from bucket_slots s) as slots,
                (select json_agg(m) from venue_metrics m) as metrics,
                (select count(*) from drop_events where closed_at is null) as open_drops`,
      );
    const before = await state();
    const killed = await tick({
      beforeCommit: async (_id, client) => {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        await adminQuery(t.db.adminUrl, `select pg_terminate_backend(${rows[0]!.pid})`);
      },
    });
    expect(killed.failed).toBe(1);
    expect(await state()).toEqual(before);
    const next = await tick();
    expect(next).toMatchObject({ failed: 0, applied: 1, closes: 1 });
    const [m] = await q<{ drops: number; closes: number }>(
      `select drops, closes from venue_metrics where venue_id = 'test:7'`,
    );
    expect(m).toEqual({ drops: 1, closes: 1 });
    // And again: nothing left to close, nothing counted twice.
    await tick();
    expect((await q<{ closes: number }>(`select closes from venue_metrics where venue_id = 'test:7'`))[0]!.closes).toBe(
      1,
    );
  });

  it('a bucket another transaction holds is locked; once that one has applied a poll, the same pick is stale', async () => {
    const config = testConfig();
    const clock = new TestClock(FIXED_NOON);
    const { bucket, base } = await calibratedBucket(
      () => t.orm,
      config,
      clock,
      (date) => [slotAt(date, 1, '20:00'), slotAt(date, 2, '20:30')],
    );
    const [picked] = await q<{ scanned_at: Date; poll_count: number }>(
      'select scanned_at, poll_count from discovery_buckets',
    );
    const snap = scriptedSnapshot(config, base);
    const ctx = { config, venueCache: new VenueCache() };
    const apply = (bucketId: string) =>
      withPgClient(t.orm.em, (c) =>
        applySnapshot(c, ctx, { bucketId, market: 'nyc', pickedScannedAt: picked!.scanned_at }, snap, clock.now()),
      );

    await withPgClient(t.orm.em, async (holder) => {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtextextended('dropwatch.bucket:' || $1, 0))`, [bucket]);
      expect((await apply(bucket)).status).toBe('locked');
      // The holder applies a poll and commits: the lock is free again, but that pick is spent.
      const later = new Date(clock.now().getTime() + 1000);
      await holder.query(
        'update discovery_buckets set scanned_at = $2, poll_count = poll_count + 1 where bucket_id = $1',
        [bucket, later],
      );
      await holder.query('commit');
    });
    expect((await apply(bucket)).status).toBe('stale');
    expect((await apply('nyc_1999-01-01_20:30')).status).toBe('stale');
    const [after] = await q<{ poll_count: number }>('select poll_count from discovery_buckets');
    expect(after!.poll_count).toBe(picked!.poll_count + 1);
  });

  it('a drop the fast lane opened while a poll was being fetched is not closed by that poll; the next poll closes it if gone', async () => {
    const config = testConfig();
    const clock = new TestClock(FIXED_NOON);
    const { bucket, date, base } = await calibratedBucket(
      () => t.orm,
      config,
      clock,
      (day) => [slotAt(day, 1, '20:00'), slotAt(day, 1, '20:30')],
    );
    const ctx = { config, venueCache: new VenueCache() };
    const applyPoll = async (fetchedFrom: Date) => {
      const [b] = await q<{ scanned_at: Date }>('select scanned_at from discovery_buckets where bucket_id = ?', [
        bucket,
      ]);
      const pick = { bucketId: bucket, market: 'nyc', pickedScannedAt: b!.scanned_at, fetchedFrom };
      return withPgClient(t.orm.em, (c) => applySnapshot(c, ctx, pick, scriptedSnapshot(config, base), clock.now()));
    };
    // A bucket poll starts reading its pages; meanwhile the fast lane records a table at venue 9.
    const pollBegan = clock.now();
    clock.advance(2_000);
    const fast = await withPgClient(t.orm.em, (c) =>
      applyVenueDay(
        c,
        ctx,
        { bucketId: bucket, market: 'nyc' },
        scriptedSnapshot(config, [slotAt(date, 9, '20:15')]),
        clock.now(),
      ),
    );
    expect(fast.drops).toHaveLength(1);
    clock.advance(2_000);
    // The poll's answer predates the table: it applies, and the drop stays open.
    const early = await applyPoll(pollBegan);
    expect(early.status).toBe('applied');
    expect(early.closes).toBe(0);
    expect((await totals()).closed).toBe(0);
    // A poll begun after the table opened does not see it either: now it closes.
    const laterBegan = clock.now();
    clock.advance(2_000);
    const later = await applyPoll(laterBegan);
    expect(later.closes).toBe(1);
    expect(await totals()).toMatchObject({ drops: 1, closed: 1, open_but_closed: 0 });
  });

  it('a poll committed after the lock statement took its snapshot, but before it got the lock, makes the pick stale', async () => {
    // The race two engines hit about once in five runs of the test above them: B's statement
    // snapshot predates A's commit, A commits and frees the advisory lock, B takes it. Here B
    // runs the tick's own statement behind a gate lock A holds, taken in the same statement
    // after its snapshot, so A's commit always lands in that window. Only a row lock that
    // conflicts with A's UPDATE makes B re-read the row's latest version; KEY SHARE does not
    // (it returned the old scanned_at: unchanged).
    const bucket = 'nyc_2026-11-28_20:30';
    const picked = new Date(FIXED_NOON);
    await q(
      `insert into discovery_buckets (bucket_id, market, date, time_slot, scanned_at) values (?, 'nyc', '2026-11-28', '20:30', ?)`,
      [bucket, picked],
    );
    const gate = `hashtextextended('dropwatch.test:gate', 0)`;
    const lockBehindGate = `select x.locked, x.unchanged
        from (select pg_advisory_xact_lock(${gate}) as opened) s
        cross join lateral (select * from (${SQL_LOCK_AND_READ_BUCKET}) q where s.opened is not null offset 0) x`;
    await withPgClient(t.orm.em, (engineA) =>
      withPgClient(t.orm.em, async (engineB) => {
        await engineA.query('begin');
        // A holds only the gate (not the bucket lock): B's try-lock then succeeds whatever order
        // the executor takes the two locks in, and the test is about the row version B reads.
        await engineA.query(`select pg_advisory_xact_lock(${gate})`);
        await engineA.query(
          `update discovery_buckets set scanned_at = scanned_at + interval '1 minute', poll_count = poll_count + 1 where bucket_id = $1`,
          [bucket],
        );
        const { rows: pid } = await engineB.query<{ pid: number }>('select pg_backend_pid() as pid');
        const read = engineB.query<{ locked: boolean; unchanged: boolean }>(lockBehindGate, [bucket, picked]);
        await waitFor(
          async () => {
            const [w] = await q<{ wait_event: string | null }>(
              'select wait_event from pg_stat_activity where pid = ?',
              [pid[0]!.pid],
            );
            return w?.wait_event === 'advisory' ? true : undefined;
          },
          10_000,
          "B's statement to take its snapshot and wait at the gate",
        );
        await engineA.query('commit');
        const { rows } = await read;
        expect(rows).toEqual([{ locked: true, unchanged: false }]);
      }),
    );
  });
});
