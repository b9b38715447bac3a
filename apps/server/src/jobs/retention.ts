import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { directDatabaseUrl, type Config } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import {
  defaultRetentionHolder,
  retentionConfigSchema,
  runRetention,
  type RetentionConfig,
} from '@dropwatch/discovery';
import { createLogger } from '../logger.js';

/**
 * Bree job `retention` (daily on RETENTION_CRON, in the first market's zone): a thin shell over
 * runRetention. Parses its workerData, opens its own ORM, runs, posts the result, exits; a
 * failure throws so Bree sees it. On Bree's 'cancel' it stops between steps and says 'cancelled'.
 */
export const retentionWorkerDataSchema = z.object({
  databaseUrl: z.string().min(1),
  /** Retention's own session (SET lock_timeout, DETACH … CONCURRENTLY) goes here, never through a pooler. */
  directDatabaseUrl: z.string().min(1).optional(),
  databasePooler: z.enum(['none', 'transaction']).default('none'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  logFormat: z.enum(['json', 'pretty']).default('json'),
  retention: retentionConfigSchema,
});
export type RetentionWorkerData = z.input<typeof retentionWorkerDataSchema>;

/** What the scheduler passes as this job's `worker.workerData`. */
export function retentionWorkerData(config: Config, databaseUrl: string): RetentionWorkerData {
  const retention: RetentionConfig = retentionConfigSchema.parse(config);
  return {
    databaseUrl,
    directDatabaseUrl: directDatabaseUrl(config, databaseUrl),
    databasePooler: config.DATABASE_POOLER,
    logLevel: config.LOG_LEVEL,
    logFormat: config.LOG_FORMAT,
    retention,
  };
}

/** Connections the job's own ORM opens at most (leases and job_runs; DDL has its own). */
const JOB_POOL_MAX = 2;

async function main(): Promise<void> {
  const parsed = retentionWorkerDataSchema.safeParse(workerData);
  if (!parsed.success) throw new Error(`retention job: invalid workerData: ${z.prettifyError(parsed.error)}`);
  const data = parsed.data;
  const logger = createLogger(data.logLevel, undefined, data.logFormat).child({ job: 'retention' });
  const abort = new AbortController();
  parentPort?.on('message', (message) => {
    if (message === 'cancel') abort.abort();
  });
  const orm = await createOrm({
    databaseUrl: data.databaseUrl,
    poolMax: JOB_POOL_MAX,
    applicationName: 'dropwatch-job-retention',
    pooler: data.databasePooler,
  });
  try {
    const result = await runRetention({
      orm,
      config: data.retention,
      directDatabaseUrl: data.directDatabaseUrl,
      logger,
      holder: defaultRetentionHolder('job'),
      signal: abort.signal,
    });
    parentPort?.postMessage({ job: 'retention', result });
  } catch (err) {
    if (abort.signal.aborted) {
      parentPort?.postMessage('cancelled');
      return;
    }
    throw err;
  } finally {
    await orm.close(true);
    // The 'cancel' listener keeps the port referenced; let go so the thread ends by itself.
    parentPort?.removeAllListeners('message');
    parentPort?.unref();
  }
  parentPort?.postMessage('done');
}

if (!isMainThread) await main();
