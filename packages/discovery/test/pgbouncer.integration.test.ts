import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOrm, DROPS_CHANNEL, type MikroORM } from '@dropwatch/db';
import { pgbouncerMissing, startPgBouncer, useTestDatabase, type PgBouncerHandle } from '@dropwatch/db/testing';
import { runNotifyWorker, type NotifyWakeReason } from '../src/index.js';
import {
  addWatch,
  connect,
  createUser,
  insertDrop,
  notificationsOf,
  seedVenue,
  silentLogger,
  waitFor,
} from './notify-fixtures.js';
import { makeTicker, ScriptedProvider, slotAt, testConfig, TestClock } from './support/tick-harness.js';

/** The exactly-once cursor lags by the oldest open transaction of the whole (shared) cluster. */
const VISIBLE_WITHIN_MS = 90_000;
/** So long that only LISTEN (or the first pass) can wake the notify worker within a test. */
const NO_SWEEP_MS = 600_000;
vi.setConfig({ testTimeout: 200_000 });

const missing = pgbouncerMissing();
const t = useTestDatabase();

/**
 * The discovery bucket transaction and the notify worker through a real PgBouncer 1.18 in
 * transaction mode (two server connections shared by more clients, as under load), with
 * DATABASE_POOLER=transaction; LISTEN goes to the server directly.
 */
describe('through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncerHandle;
  let pooled: MikroORM;
  let pooledUrl: string;
  let direct: pg.Client;

  beforeAll(async () => {
    // Run everywhere, never skipped: without the binary these fail and say what to install.
    if (missing !== undefined) throw new Error(missing);
    bouncer = await startPgBouncer({ serverUrl: t.db.url, databases: [t.db.name], poolSize: 2 });
    pooledUrl = bouncer.url(t.db.name);
    pooled = await createOrm({
      databaseUrl: pooledUrl,
      poolMax: 6,
      pooler: 'transaction',
      applicationName: 'pgbouncer-test',
    });
    direct = await connect(t.db.url);
  });
  afterAll(async () => {
    await direct?.end();
    await pooled?.close(true);
    await bouncer?.stop();
  });

  describe('the discovery tick', () => {
    // Four buckets polled concurrently on up to six client connections over two server ones.
    const config = testConfig({
      DISCOVERY_WINDOW_DAYS: '2',
      DISCOVERY_TIME_SLOTS: '15:00,20:30',
      // The tick reads only DATABASE_POOLER; the URLs (which loadConfig wants with it) are not dialled.
      DATABASE_POOLER: 'transaction',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/pooled',
      DIRECT_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/direct',
    });
    const q = async <T>(sql: string) => (await direct.query<T & pg.QueryResultRow>(sql)).rows;

    beforeEach(async () => {
      await q(
        'truncate discovery_buckets, bucket_slots, availability_state, drop_events, venue_metrics, venues, feed_cache, job_runs',
      );
    });

    it('calibrates every bucket, records a drop once and closes it when it is gone, with no failed poll', async () => {
      const clock = new TestClock();
      const provider = new ScriptedProvider();
      const ticker = makeTicker(() => pooled, config, provider, clock);
      // The first tick makes the window (2 days × 2 anchors); every bucket then gets its snapshot.
      expect(await ticker.tick()).toMatchObject({ bucketsCreated: 4, failed: 0 });
      const buckets = (
        await q<{ bucket_id: string }>('select bucket_id from discovery_buckets order by bucket_id')
      ).map((r) => r.bucket_id);
      expect(buckets).toHaveLength(4);
      const base = (b: string) => {
        const date = b.split('_')[1]!;
        return [slotAt(date, 1, '20:00'), slotAt(date, 2, '20:30')];
      };
      for (const b of buckets) provider.set(b, base(b));
      for (let i = 0; i < config.DISCOVERY_BASELINE_POLLS; i++) {
        expect(await ticker.tick()).toMatchObject({ failed: 0, calibrating: 4, drops: 0 });
      }
      const target = buckets[1]!;
      provider.set(target, [...base(target), slotAt(target.split('_')[1]!, 9, '21:15')]);
      expect(await ticker.tick()).toMatchObject({ failed: 0, applied: 4, drops: 1, closes: 0 });
      expect(await ticker.tick()).toMatchObject({ failed: 0, applied: 4, drops: 0, closes: 0 });
      provider.set(target, base(target));
      expect(await ticker.tick()).toMatchObject({ failed: 0, applied: 4, drops: 0, closes: 1 });

      const drops = await q<{ bucket_id: string; venue_id: string; closed: boolean }>(
        'select bucket_id, venue_id, closed_at is not null as closed from drop_events',
      );
      expect(drops).toEqual([{ bucket_id: target, venue_id: 'test:9', closed: true }]);
      expect(await q('select 1 from availability_state')).toEqual([]);
    });
  });

  describe('the notify worker', () => {
    it('turns a drop committed through the pooler into a notification, woken by a LISTEN that goes direct', async () => {
      await seedVenue(direct, 'resy:pgb1', 'Pooled venue');
      const user = await createUser(direct, 'pooled-watcher');
      await addWatch(direct, user, { venueId: 'resy:pgb1' });
      const abort = new AbortController();
      const reasons: NotifyWakeReason[] = [];
      const errors: Error[] = [];
      const done = runNotifyWorker({
        orm: pooled,
        config: { NOTIFY_COOLDOWN_MINUTES: 0, WEBHOOK_ALLOW_PRIVATE: true },
        logger: silentLogger,
        databaseUrl: t.db.url,
        signal: abort.signal,
        holder: 'pgbouncer-test',
        sweepMs: NO_SWEEP_MS,
        onPass: (_stats, reason, error) => {
          reasons.push(reason);
          if (error) errors.push(error);
        },
      });
      done.catch(() => undefined);
      const writer = await connect(pooledUrl, 'pgbouncer-test-writer');
      try {
        await waitFor(() => (reasons.length > 0 ? true : undefined), 30_000, 'the first pass (cursor created)');
        // What the poller does: the drop and its NOTIFY in one transaction, through the pooler.
        await writer.query('begin');
        const drop = await insertDrop(writer, { venueId: 'resy:pgb1' });
        await writer.query('select pg_notify($1, $2)', [DROPS_CHANNEL, '']);
        await writer.query('commit');

        const rows = await waitFor(
          async () => {
            const r = await notificationsOf(direct, user);
            return r.length > 0 ? r : undefined;
          },
          VISIBLE_WITHIN_MS,
          'the notification',
        );
        expect(rows.map((r) => r.drop_event_id)).toEqual([drop]);
        // Only the start and the LISTEN connection woke it (the sweep is 10 minutes away; 'more' is
        // a LISTEN wake-up during a pass). onPass runs once the pass that wrote the row has ended.
        const byListen = (r: NotifyWakeReason) => r === 'notify' || r === 'visible' || r === 'more';
        await waitFor(() => (reasons.some(byListen) ? true : undefined), 30_000, 'the pass woken by LISTEN');
        expect(reasons.filter((r) => !byListen(r))).toEqual(['start']);
        expect(errors).toEqual([]);
      } finally {
        await writer.end();
        abort.abort();
        await done;
      }
    });
  });
});
