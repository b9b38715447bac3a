import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { loadConfig } from '@dropwatch/core';
import { DROPS_CHANNEL } from '@dropwatch/db';
import { useTestDatabase } from '@dropwatch/db/testing';
import { createLogger } from '../src/logger.js';
import { createScheduler, type JobMessage, type Scheduler } from '../src/scheduler/scheduler.js';
import { dayFromToday, seedBucket, seedDrop, seedVenue, waitFor } from './api-fixtures.js';

/** The cursor lags by the oldest open transaction of the shared cluster: generous deadlines. */
const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

const t = useTestDatabase();
// Housekeeping (which posts the poller's running totals) every 2 s; cooldown off.
const config = loadConfig({
  DISCOVERY_WINDOW_DAYS: '2',
  DISCOVERY_TIME_SLOTS: '20:30',
  DISCOVERY_TICK_SECONDS: '2',
  NOTIFY_COOLDOWN_MINUTES: '0',
  LOG_LEVEL: 'silent',
});
let scheduler: Scheduler | undefined;
let sql: pg.Pool;

beforeAll(() => {
  sql = new pg.Pool({ connectionString: t.db.url, max: 2 });
});
afterEach(async () => {
  await scheduler?.stop(10_000);
  scheduler = undefined;
});
afterAll(async () => {
  await sql?.end();
});

const posted = (messages: JobMessage[], job: string, key: string) =>
  messages.filter((m) => {
    const body = m.message as Record<string, unknown> | null;
    return typeof body === 'object' && body !== null && body.job === job && key in body;
  });

describe('Bree scheduler: discovery and notify together', () => {
  it('share one long-lived worker thread: it polls and notifies, and stop() ends both cleanly', async () => {
    const messages: JobMessage[] = [];
    const bucketId = await seedBucket(sql, { market: 'nyc', date: dayFromToday(1), timeSlot: '21:30' });
    await seedVenue(sql, { venueId: 'resy:7', market: 'nyc', name: 'Watched' });
    const { rows } = await sql.query<{ id: string }>(`insert into users (name) values ('watcher') returning id`);
    const userId = rows[0]!.id;
    await sql.query(`insert into watches (user_id, venue_id) values ($1, 'resy:7')`, [userId]);
    let created = 0;
    scheduler = createScheduler({
      config,
      databaseUrl: t.db.url,
      logger: createLogger('silent'),
      jobs: ['discovery', 'notify'],
      onMessage: (m) => messages.push(m),
    });
    scheduler.bree.on('worker created', () => created++);
    await scheduler.start();
    expect([...scheduler.bree.workers.keys()]).toEqual(['discovery-notify']);

    // The poller runs: its running totals arrive from the shared thread.
    const stats = await waitFor(
      () => (posted(messages, 'discovery', 'stats').length >= 1 ? posted(messages, 'discovery', 'stats') : undefined),
      30_000,
      'the poller to post its stats',
    );
    // The notifier runs beside it: a watched drop becomes a notification.
    const drop = await seedDrop(sql, { bucketId, venueId: 'resy:7', market: 'nyc', slotDate: dayFromToday(1) });
    await sql.query('select pg_notify($1, $2)', [DROPS_CHANNEL, '']);
    const notified = await waitFor(
      async () => {
        const r = await sql.query<{ drop_event_id: string }>(
          'select drop_event_id::text from user_notifications where user_id = $1',
          [userId],
        );
        return r.rows.length > 0 ? r.rows : undefined;
      },
      VISIBLE_WITHIN_MS,
      'the notify loop to fan the drop out',
    );
    expect(notified).toEqual([{ drop_event_id: drop.id }]);
    const threadIds = new Set(stats.map((m) => (m.message as { threadId: number }).threadId));
    expect(threadIds.size).toBe(1);
    expect(created).toBe(1);

    await scheduler.stop(5_000);
    expect(scheduler.bree.workers.size).toBe(0);
    // One 'done' when both loops have finished; each said its last totals first.
    expect(messages.filter((m) => m.message === 'done').map((m) => m.name)).toEqual(['discovery-notify']);
    expect(posted(messages, 'notify', 'totals')).toHaveLength(1);
    expect(messages.some((m) => (m.message as { event?: string } | null)?.event === 'restart')).toBe(false);
    expect((await sql.query(`select 1 from job_leases where name = 'notify'`)).rows).toEqual([]);
  });
});
