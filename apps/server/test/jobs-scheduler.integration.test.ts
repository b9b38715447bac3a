import { isMainThread, threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@dropwatch/core';
import { useTestDatabase, waitFor } from '@dropwatch/db/testing';
import { createLogger } from '../src/logger.js';
import { createScheduler, type JobMessage, type Scheduler } from '../src/scheduler/scheduler.js';

const t = useTestDatabase();
const settings = {
  DISCOVERY_WINDOW_DAYS: '2',
  DISCOVERY_TIME_SLOTS: '20:30',
  DISCOVERY_TICK_SECONDS: '300',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
};
const config = loadConfig(settings);
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
let scheduler: Scheduler | undefined;
afterEach(async () => {
  await scheduler?.stop(10_000);
  scheduler = undefined;
});

/** Job waits in this file allow a worker thread to start and finish a tick. */
const until = <T>(what: string, fn: () => T | undefined | Promise<T | undefined>) => waitFor(fn, 30_000, what);

const jobRuns = async () =>
  await t.orm.em
    .fork()
    .execute<{ status: string }[]>(`select status from job_runs where job = 'discovery' order by id`);

const restartsOf = (messages: JobMessage[]) =>
  messages
    .filter((m) => (m.message as { event?: string } | null)?.event === 'restart')
    .map((m) => m.message as { restarts: number; delayMs: number });

describe('Bree scheduler: the discovery job', () => {
  it('is one long-lived worker thread started with the scheduler: it polls, posts its stats again and again, and keeps running', async () => {
    const messages: JobMessage[] = [];
    // Housekeeping (which posts the running totals) every 2 s instead of 300.
    const often = loadConfig({ ...settings, DISCOVERY_TICK_SECONDS: '2' });
    scheduler = createScheduler({
      config: often,
      databaseUrl: t.db.url,
      logger,
      jobs: ['discovery'],
      onMessage: (m) => messages.push(m),
    });
    await scheduler.start();
    const posted = await until('two stats messages', () => {
      const stats = messages.filter(
        (m) => typeof m.message === 'object' && m.message !== null && 'stats' in m.message,
      ) as {
        message: { threadId: number; stats: { polls: number } };
      }[];
      return stats.length >= 2 ? stats : undefined;
    });
    expect(isMainThread).toBe(true);
    expect(posted[0]!.message.threadId).not.toBe(threadId);
    // Both from the same worker thread: no worker per run.
    expect(posted[1]!.message.threadId).toBe(posted[0]!.message.threadId);
    expect(posted[1]!.message.stats.polls).toBeGreaterThan(0);
    expect((await jobRuns()).every((r) => r.status === 'ok')).toBe(true);
    expect(scheduler.bree.workers.has('discovery')).toBe(true);
    expect(messages.some((m) => m.message === 'done')).toBe(false);
    expect(restartsOf(messages)).toEqual([]);
  });

  it('a failing job reaches the error handler and is restarted with a doubling backoff', async () => {
    const errors: { name: string; err: Error }[] = [];
    const messages: JobMessage[] = [];
    // A database that does not exist, behind a URL carrying a password.
    const badUrl = new URL(t.db.url);
    badUrl.password = 'hunter2-not-for-logs';
    badUrl.pathname = '/dw_no_such_database';
    const bad = badUrl.toString();
    scheduler = createScheduler({
      config,
      databaseUrl: bad,
      logger,
      jobs: ['discovery'],
      onError: (name, err) => errors.push({ name, err }),
      onMessage: (m) => messages.push(m),
    });
    await scheduler.start();
    const failure = await until('error', () => errors[0]);
    expect(failure.name).toBe('discovery');
    // Postgres says why (no such database, or the password refused where auth is by password).
    expect(failure.err.message).toMatch(/does not exist|password authentication failed/);
    // workerData (the database URL and its password) never shows in what the handler sees.
    for (const e of errors) {
      expect(e.err.message).not.toContain('hunter2-not-for-logs');
      expect(e.err.message).not.toContain(bad);
    }
    // It keeps failing; the scheduler keeps restarting it, waiting twice as long each time.
    const restarts = await until('two restarts', () =>
      restartsOf(messages).length >= 2 ? restartsOf(messages) : undefined,
    );
    expect(restarts.slice(0, 2)).toEqual([
      { event: 'restart', restarts: 1, delayMs: 1_000, ranMs: expect.any(Number) as number },
      { event: 'restart', restarts: 2, delayMs: 2_000, ranMs: expect.any(Number) as number },
    ]);
    expect(scheduler.restarts.get('discovery')).toBeGreaterThanOrEqual(2);
  });

  it('stop() cancels the long-lived worker: the tick in flight finishes, within the timeout', async () => {
    const before = (await jobRuns()).length;
    const messages: JobMessage[] = [];
    scheduler = createScheduler({
      config,
      databaseUrl: t.db.url,
      logger,
      jobs: ['discovery'],
      onMessage: (m) => messages.push(m),
    });
    await scheduler.start(); // discovery starts at once
    await until('worker started', () => (scheduler!.bree.workers.size === 1 ? true : undefined));
    await scheduler.stop(20_000);
    expect(scheduler.bree.workers.size).toBe(0);
    expect(messages.some((m) => m.message === 'done')).toBe(true);
    expect(restartsOf(messages)).toEqual([]);
    const runs = await jobRuns();
    expect(runs.length).toBe(before + 1);
    expect(runs.at(-1)).toEqual({ status: 'ok' });
  });
});
