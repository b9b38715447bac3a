import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { loadConfig } from '@dropwatch/core';
import { ensurePartitionsBetween } from '@dropwatch/db';
import { useTestDatabase } from '@dropwatch/db/testing';

const t = useTestDatabase();
let sql: pg.Client;

const JOB = pathToFileURL(fileURLToPath(new URL('../src/jobs/retention.ts', import.meta.url))).href;
/**
 * Starts the job file in a real worker thread the way the scheduler does in development: a
 * tiny eval'd bootstrap registers tsx, then imports the job (its @dropwatch/* imports load the
 * packages' built dist, as in production).
 */
const BOOTSTRAP = `(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  await import(${JSON.stringify(JOB)});
})().catch((err) => { setImmediate(() => { throw err; }); });`;

interface Outcome {
  readonly messages: unknown[];
  readonly error: Error | undefined;
  readonly exitCode: number;
}

function runJob(workerData: unknown): Promise<Outcome> {
  return new Promise((resolve) => {
    const messages: unknown[] = [];
    let error: Error | undefined;
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData });
    worker.on('message', (m) => messages.push(m));
    worker.on('error', (err) => (error = err));
    worker.on('exit', (exitCode) => resolve({ messages, error, exitCode }));
  });
}

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
/** The process config as the scheduler passes it (jobWorkerData), quiet. */
const config = () => loadConfig({ LOG_LEVEL: 'silent' });

beforeAll(async () => {
  sql = new pg.Client({ connectionString: t.db.url });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
});

describe('retention job (worker thread)', () => {
  it('runs retention, posts its stats, says done and exits 0', async () => {
    const old = day(20);
    await ensurePartitionsBetween(t.orm.em.fork(), old, old);
    await sql.query(
      `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, opened_at, opened_minute)
       values ('nyc_2026-01-01_20:30', 'x', 1, 'sim:1', 'nyc', $1::date, '20:30', $1::date, $1::date)`,
      [old],
    );
    const outcome = await runJob({
      job: { name: 'retention' },
      databaseUrl: t.db.url,
      config: config(),
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.exitCode).toBe(0);
    expect(outcome.messages.at(-1)).toBe('done');
    const stats = outcome.messages[0] as {
      job: string;
      result: { status: string; deleted: { drop_events: number }; partitions: { dropped: string[] } };
    };
    expect(stats.job).toBe('retention');
    expect(stats.result.status).toBe('ok');
    expect(stats.result.deleted.drop_events).toBe(1);
    expect(stats.result.partitions.dropped).toContain(`drop_events_p${old.replaceAll('-', '')}`);
    const { rows } = await sql.query<{ status: string }>(`select status from job_runs where job = 'retention'`);
    expect(rows).toEqual([{ status: 'ok' }]);
  });

  it('fails loudly (error, exit 1) on workerData it cannot use', async () => {
    const outcome = await runJob({
      databaseUrl: t.db.url,
      config: { ...config(), DROP_EVENTS_RETENTION_DAYS: 3 },
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.error?.message).toMatch(/DROP_EVENTS_RETENTION_DAYS/);
    expect(outcome.messages).not.toContain('done');
  });
});
