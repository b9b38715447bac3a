import { isMainThread, threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@dropwatch/core';
import { useTestDatabase, waitFor } from '@dropwatch/db/testing';
import { createLogger } from '../src/logger.js';
import { createScheduler, type JobMessage, type Scheduler } from '../src/scheduler/scheduler.js';

const t = useTestDatabase();
const config = loadConfig({
  DISCOVERY_WINDOW_DAYS: '2',
  DISCOVERY_TIME_SLOTS: '20:30',
  DISCOVERY_TICK_SECONDS: '300',
  LOG_LEVEL: 'silent',
});
const logger = createLogger('silent');
let scheduler: Scheduler | undefined;
afterEach(async () => {
  await scheduler?.stop(10_000);
  scheduler = undefined;
});

/** Job waits in this file allow a worker thread to start and finish a tick. */
const until = <T>(what: string, fn: () => T | undefined | Promise<T | undefined>) => waitFor(fn, 30_000, what);

const jobRuns = async () =>
  (await t.orm.em.fork().execute<{ status: string }[]>(`select status from job_runs where job = 'discovery' order by id`));

describe('Bree scheduler: the discovery job', () => {
  it('runs a tick in a worker thread and posts its stats', async () => {
    const messages: JobMessage[] = [];
    scheduler = await createScheduler({ config, databaseUrl: t.db.url, logger, jobs: ['discovery'], onMessage: (m) => messages.push(m) });
    await scheduler.bree.run('discovery');
    const posted = await until('stats', () =>
      messages.find((m) => typeof m.message === 'object' && m.message !== null) as { message: { threadId: number; stats: { polled: number } } } | undefined,
    );
    expect(isMainThread).toBe(true);
    expect(posted.message.threadId).not.toBe(threadId);
    expect(posted.message.stats.polled).toBe(2);
    await until('done', () => messages.find((m) => m.message === 'done'));
    expect(await jobRuns()).toEqual([{ status: 'ok' }]);
  });

  it('does not start a second run while one is running', async () => {
    const before = (await jobRuns()).length;
    let created = 0;
    scheduler = await createScheduler({ config, databaseUrl: t.db.url, logger, jobs: ['discovery'] });
    scheduler.bree.on('worker created', () => created++);
    await scheduler.bree.run('discovery');
    await scheduler.bree.run('discovery');
    expect(created).toBe(1);
    await until('worker gone', () => (scheduler!.bree.workers.size === 0 ? true : undefined));
    expect((await jobRuns()).length).toBe(before + 1);
  });

  it('a failing job reaches the error handler', async () => {
    const errors: { name: string; err: Error }[] = [];
    // A database that does not exist, behind a URL carrying a password.
    const badUrl = new URL(t.db.url);
    badUrl.password = 'hunter2-not-for-logs';
    badUrl.pathname = '/dw_no_such_database';
    const bad = badUrl.toString();
    scheduler = await createScheduler({ config, databaseUrl: bad, logger, jobs: ['discovery'], onError: (name, err) => errors.push({ name, err }) });
    await scheduler.bree.run('discovery');
    const failure = await until('error', () => errors[0]);
    expect(failure.name).toBe('discovery');
    // Postgres says why (no such database, or the password refused where auth is by password).
    expect(failure.err.message).toMatch(/does not exist|password authentication failed/);
    // workerData (the database URL and its password) never shows in what the handler sees.
    expect(failure.err.message).not.toContain('hunter2-not-for-logs');
    expect(failure.err.message).not.toContain(bad);
  });

  it('stop() lets the running tick finish, within its timeout', async () => {
    const before = (await jobRuns()).length;
    scheduler = await createScheduler({ config, databaseUrl: t.db.url, logger, jobs: ['discovery'] });
    await scheduler.start(); // discovery runs at once
    await until('worker started', () => (scheduler!.bree.workers.size === 1 ? true : undefined));
    await scheduler.stop(20_000);
    expect(scheduler.bree.workers.size).toBe(0);
    const runs = await jobRuns();
    expect(runs.length).toBe(before + 1);
    expect(runs.at(-1)).toEqual({ status: 'ok' });
  });
});
