import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
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
// Cooldown off: one user gets every drop of a venue.
const config = loadConfig({ LOG_LEVEL: 'silent', NOTIFY_COOLDOWN_MINUTES: '0' });
let scheduler: Scheduler | undefined;
let sql: pg.Pool;
let bucketId: string;

beforeAll(async () => {
  sql = new pg.Pool({ connectionString: t.db.url, max: 2 });
  bucketId = await seedBucket(sql, { market: 'nyc', date: dayFromToday(1), timeSlot: '20:30' });
});
afterEach(async () => {
  await scheduler?.stop(10_000);
  scheduler = undefined;
});
afterAll(async () => {
  await sql?.end();
});

async function watcher(name: string, venueId: string): Promise<string> {
  await seedVenue(sql, { venueId, market: 'nyc', name });
  const { rows } = await sql.query<{ id: string }>(`insert into users (name) values ($1) returning id`, [name]);
  await sql.query(`insert into watches (user_id, venue_id) values ($1, $2)`, [rows[0]!.id, venueId]);
  return rows[0]!.id;
}

/** A drop as the discovery poller records it: committed, then NOTIFY dropwatch_drops. */
async function dropAt(venueId: string): Promise<string> {
  const drop = await seedDrop(sql, { bucketId, venueId, market: 'nyc', slotDate: dayFromToday(1) });
  await sql.query('select pg_notify($1, $2)', [DROPS_CHANNEL, '']);
  return drop.id;
}

const notificationsOf = (userId: string) =>
  waitFor(
    async () => {
      const r = await sql.query<{ drop_event_id: string }>(
        'select drop_event_id::text from user_notifications where user_id = $1 order by id',
        [userId],
      );
      return r.rows.length > 0 ? r.rows : undefined;
    },
    VISIBLE_WITHIN_MS,
    'the notify worker to fan the drop out',
  );

const statsMessage = (messages: JobMessage[]) =>
  messages.find(
    (m) => m.name === 'notify' && typeof m.message === 'object' && m.message !== null && 'stats' in m.message,
  );

describe('Bree scheduler: the notify job', () => {
  it('is one long-lived worker thread: a watched drop becomes a notification, job_runs records it', async () => {
    const messages: JobMessage[] = [];
    const userId = await watcher('watcher', 'resy:5');
    let created = 0;
    scheduler = createScheduler({
      config,
      databaseUrl: t.db.url,
      logger: createLogger('silent'),
      jobs: ['notify'],
      onMessage: (m) => messages.push(m),
    });
    scheduler.bree.on('worker created', () => created++);
    await scheduler.start();
    const first = await dropAt('resy:5');
    expect(await notificationsOf(userId)).toEqual([{ drop_event_id: first }]);
    const posted = await waitFor(() => statsMessage(messages), 10_000, 'the worker to post its stats');
    expect(posted.message).toMatchObject({ job: 'notify', stats: { status: 'ok', notifications: 1 } });
    const runs = await sql.query<{ status: string }>(`select status from job_runs where job = 'notify'`);
    expect(runs.rows.length).toBeGreaterThan(0);
    expect(runs.rows.every((r) => r.status === 'ok')).toBe(true);

    // A second drop is handled by the same worker: no worker per run.
    const second = await dropAt('resy:5');
    await waitFor(
      async () => ((await notificationsOf(userId)).length === 2 ? true : undefined),
      VISIBLE_WITHIN_MS,
      'the second drop',
    );
    expect((await notificationsOf(userId)).map((r) => r.drop_event_id)).toEqual([first, second]);
    expect(created).toBe(1);
    expect(scheduler.bree.workers.has('notify')).toBe(true);
  });

  it('a crashed worker is restarted after a backoff, counted, and notifies again', async () => {
    const messages: JobMessage[] = [];
    const errors: { name: string; err: Error }[] = [];
    const userId = await watcher('crash-watcher', 'resy:6');
    scheduler = createScheduler({
      config,
      databaseUrl: t.db.url,
      logger: createLogger('silent'),
      jobs: ['notify'],
      onMessage: (m) => messages.push(m),
      onError: (name, err) => errors.push({ name, err }),
    });
    await scheduler.start();
    const worker = await waitFor(() => scheduler!.bree.workers.get('notify'), 10_000, 'the notify worker');
    // Wait until it runs (its first pass posts nothing when idle; the LISTEN backend shows it is up).
    await waitFor(
      async () => {
        const r = await sql.query(
          `select 1 from pg_stat_activity where application_name = 'dropwatch-notify-listen' and datname = current_database()`,
        );
        return r.rows.length > 0 ? true : undefined;
      },
      30_000,
      'the worker to LISTEN',
    );
    await worker.terminate(); // the thread dies (exit code 1), as on an uncaught error

    const restart = await waitFor(
      () => messages.find((m) => m.name === 'notify' && (m.message as { event?: string }).event === 'restart'),
      10_000,
      'a restart',
    );
    expect(restart.message).toMatchObject({ event: 'restart', restarts: 1, delayMs: 1_000 });
    expect(errors.some((e) => e.name === 'notify' && /exited with code/.test(e.err.message))).toBe(true);
    const next = await waitFor(
      () => {
        const w = scheduler!.bree.workers.get('notify');
        return w && w !== worker ? w : undefined;
      },
      30_000,
      'the restarted worker',
    );
    expect(next.threadId).not.toBe(worker.threadId);
    expect(scheduler.restarts.get('notify')).toBe(1);

    // The new worker takes this process's lease back at once (same holder) and fans out.
    const drop = await dropAt('resy:6');
    expect(await notificationsOf(userId)).toEqual([{ drop_event_id: drop }]);
  });

  it('stop() cancels the worker cleanly within its timeout: it says done, releases its lease, no restart follows', async () => {
    const messages: JobMessage[] = [];
    scheduler = createScheduler({
      config,
      databaseUrl: t.db.url,
      logger: createLogger('silent'),
      jobs: ['notify'],
      onMessage: (m) => messages.push(m),
    });
    await scheduler.start();
    await waitFor(
      async () => {
        const r = await sql.query(`select holder from job_leases where name = 'notify'`);
        return r.rows.length > 0 ? true : undefined;
      },
      30_000,
      'the worker to take its lease',
    );
    const timeoutMs = 5_000;
    const started = Date.now();
    await scheduler.stop(timeoutMs);
    expect(Date.now() - started).toBeLessThan(timeoutMs + 1_000);
    expect(scheduler.bree.workers.size).toBe(0);
    expect(messages.some((m) => m.name === 'notify' && m.message === 'done')).toBe(true);
    expect(messages.some((m) => (m.message as { event?: string }).event === 'restart')).toBe(false);
    expect(scheduler.restarts.get('notify') ?? 0).toBe(0);
    expect((await sql.query(`select 1 from job_leases where name = 'notify'`)).rows).toEqual([]);
  });
});
