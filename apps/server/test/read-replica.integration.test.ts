import pg from 'pg';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@dropwatch/core';
import { createDropwatchClient, type DropwatchClient } from '@dropwatch/client';
import { replicaMissing, startPrimaryAndReplica, waitFor, type ReplicaPairHandle } from '@dropwatch/db/testing';
import { startApp, type App } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { dayFromToday, seedBucket, seedDrop, seedVenue, TEST_ADMIN_TOKEN } from './api-fixtures.js';

/**
 * An API process with READ_DATABASE_URL on a real streaming replica (primary and standby started
 * once for this file): which reads go where, the lag in health.status and /metrics, and the
 * fallback to the primary while the replica lags past READ_REPLICA_MAX_LAG_SECONDS (replay paused).
 */
describe('READ_DATABASE_URL on a streaming replica', () => {
  let pair: ReplicaPairHandle;
  let app: App;
  let client: DropwatchClient;
  let primary: pg.Client;
  let control: pg.Client;
  const database = 'dropwatch';
  const slotDate = dayFromToday(2);

  beforeAll(async () => {
    if (replicaMissing() !== undefined) throw new Error(replicaMissing());
    pair = await startPrimaryAndReplica({ fast: true });
    const admin = new pg.Client({ connectionString: pair.primary.url('postgres') });
    await admin.connect();
    await admin.query(`create database ${database}`);
    await admin.end();
    const config = loadConfig({
      DATABASE_URL: pair.primary.url(database),
      READ_DATABASE_URL: pair.replica.url(database),
      READ_REPLICA_MAX_LAG_SECONDS: '1',
      READ_REPLICA_CHECK_SECONDS: '1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      DROPWATCH_ROLE: 'api',
      DROPWATCH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      DISCOVERY_MARKETS: 'nyc',
    });
    app = await startApp({ config, logger: createLogger('silent'), baseDir: process.cwd() });
    client = createDropwatchClient({ url: app.url, EventSource });
    primary = new pg.Client({ connectionString: pair.primary.url(database) });
    await primary.connect();
    control = new pg.Client({ connectionString: pair.replica.url('postgres') });
    await control.connect();
    await seedVenue(primary, { venueId: 'resy:rep-1', market: 'nyc', name: 'Replicated' });
  }, 120_000);
  afterAll(async () => {
    await control?.query('select pg_wal_replay_resume()').catch(() => undefined);
    await control?.end();
    await primary?.end();
    await app?.stop();
    await pair?.stop();
  });

  const seed = async (timeSlot: string) => {
    const bucketId = await seedBucket(primary, { market: 'nyc', date: slotDate, timeSlot });
    return (await seedDrop(primary, { bucketId, venueId: 'resy:rep-1', market: 'nyc', slotDate })).id;
  };
  const justOpened = async () => (await client.feed.justOpened.query({ market: 'nyc' })).drops.map((d) => d.id);
  const newDrops = async () =>
    (await client.feed.newDrops.query({ market: 'nyc', withinMinutes: 60 })).drops.map((d) => d.id);
  const replicaStatus = async () => (await client.health.status.query()).replica;
  const scrape = async () => (await fetch(`${app.url}/metrics`)).text();

  it('reports the lag: caught up is 0 in health.status and /metrics', async () => {
    await pair.caughtUp();
    const status = await waitFor(
      async () => {
        const r = await replicaStatus();
        return r && r.lagSeconds === 0 ? r : undefined;
      },
      10_000,
      'replica lag 0',
    );
    expect(status).toEqual({ lagSeconds: 0, readsOnPrimary: false });
    const text = await scrape();
    expect(text).toMatch(/^dropwatch_replica_lag_seconds 0$/m);
    expect(text).toMatch(/^dropwatch_replica_reads_on_primary 0$/m);
  });

  it('the lag-tolerant reads go to the replica, the cursor read to the primary', async () => {
    await control.query('select pg_wal_replay_pause()');
    try {
      const id = await seed('19:00');
      // On the primary at once; on the paused replica not yet.
      expect(await newDrops()).toContain(id);
      expect(await justOpened()).not.toContain(id);
      expect((await client.feed.board.query({ market: 'nyc' })).drops.map((d) => d.id)).not.toContain(id);
    } finally {
      await control.query('select pg_wal_replay_resume()');
    }
    await pair.caughtUp();
    const after = await justOpened();
    expect(after.length).toBeGreaterThan(0);
  });

  it('past READ_REPLICA_MAX_LAG_SECONDS the replica reads go to the primary, and come back once it catches up', async () => {
    await control.query('select pg_wal_replay_pause()');
    let id = '';
    try {
      id = await seed('19:30');
      const lagging = await waitFor(
        async () => {
          const r = await replicaStatus();
          return r?.readsOnPrimary ? r : undefined;
        },
        20_000,
        'the replica judged too far behind',
      );
      expect(lagging.lagSeconds).toBeGreaterThan(1);
      const status = await client.health.status.query();
      expect(status.reasons.some((r) => r.startsWith('replica: ') && r.includes('behind the primary'))).toBe(true);
      expect(await scrape()).toMatch(/^dropwatch_replica_reads_on_primary 1$/m);
      // Served by the primary now: the drop the paused replica has not replayed is there.
      expect(await justOpened()).toContain(id);
    } finally {
      await control.query('select pg_wal_replay_resume()');
    }
    await pair.caughtUp();
    await waitFor(
      async () => ((await replicaStatus())?.readsOnPrimary === false ? true : undefined),
      20_000,
      'reads back on the replica',
    );
    expect(await justOpened()).toContain(id);
  });
});
