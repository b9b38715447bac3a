import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { loadConfig } from '@dropwatch/core';
import { useTestDatabase } from '@dropwatch/db/testing';
import { createLogger } from '../src/logger.js';
import { createScheduler, type JobMessage, type Scheduler } from '../src/scheduler/scheduler.js';
import { dayFromToday, seedBucket, seedDrop, seedVenue, waitFor } from './api-fixtures.js';

/** The cursor lags by the oldest open transaction of the shared cluster: generous deadlines. */
const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

const t = useTestDatabase();
const config = loadConfig({ LOG_LEVEL: 'silent' });
let scheduler: Scheduler | undefined;
let sql: pg.Pool;

beforeAll(() => {
  sql = new pg.Pool({ connectionString: t.db.url, max: 2 });
});
afterAll(async () => {
  await scheduler?.stop(10_000);
  await sql?.end();
});

describe('Bree scheduler: the notify job', () => {
  it('runs every 5 s in a worker thread: a watched drop becomes a notification, job_runs records it', async () => {
    const messages: JobMessage[] = [];
    const bucketId = await seedBucket(sql, { market: 'nyc', date: dayFromToday(1), timeSlot: '20:30' });
    await seedVenue(sql, { venueId: 'resy:5', market: 'nyc', name: 'Five' });
    const { rows } = await sql.query<{ id: string }>(`insert into users (name) values ('watcher') returning id`);
    const userId = rows[0]!.id;
    await sql.query(`insert into watches (user_id, venue_id) values ($1, 'resy:5')`, [userId]);
    const drop = await seedDrop(sql, { bucketId, venueId: 'resy:5', market: 'nyc', slotDate: dayFromToday(1) });

    scheduler = await createScheduler({ config, databaseUrl: t.db.url, logger: createLogger('silent'), jobs: ['notify'], onMessage: (m) => messages.push(m) });
    await scheduler.start();
    const notified = await waitFor(async () => {
      const r = await sql.query<{ drop_event_id: string }>('select drop_event_id::text from user_notifications where user_id = $1', [userId]);
      return r.rows.length > 0 ? r.rows : undefined;
    }, VISIBLE_WITHIN_MS, 'the notify job to fan the drop out');
    expect(notified).toEqual([{ drop_event_id: drop.id }]);
    const posted = await waitFor(
      () => messages.find((m) => m.name === 'notify' && typeof m.message === 'object' && m.message !== null),
      10_000,
      'the job to post its stats',
    );
    expect(posted.message).toMatchObject({ job: 'notify', stats: { status: 'ok' } });
    const runs = await sql.query<{ status: string }>(`select status from job_runs where job = 'notify'`);
    expect(runs.rows.length).toBeGreaterThan(0);
    expect(runs.rows.every((r) => r.status === 'ok')).toBe(true);
  });
});
