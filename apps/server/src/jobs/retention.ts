import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { directDatabaseUrl } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { defaultRetentionHolder, runRetention } from '@dropwatch/discovery';
import { createLogger } from '../logger.js';
import { readJobWorkerData } from '../scheduler/worker-data.js';

/** Connections the job's own ORM opens at most (leases and job_runs; DDL has its own). */
const JOB_POOL_MAX = 2;

/**
 * Bree job `retention` (daily on RETENTION_CRON, in the first market's zone): a thin shell over
 * runRetention. Reads its workerData (the shared job shape), opens its own ORM, runs, posts the
 * result, exits; a failure throws so Bree sees it. On Bree's 'cancel' it stops between steps and
 * says 'cancelled'.
 */
async function main(): Promise<void> {
  const { databaseUrl, config } = readJobWorkerData('retention', workerData);
  const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT).child({ job: 'retention' });
  const abort = new AbortController();
  parentPort?.on('message', (message) => {
    if (message === 'cancel') abort.abort();
  });
  const orm = await createOrm({
    databaseUrl,
    poolMax: JOB_POOL_MAX,
    applicationName: 'dropwatch-job-retention',
    pooler: config.DATABASE_POOLER,
  });
  try {
    const result = await runRetention({
      orm,
      config,
      // Retention's own session (SET lock_timeout, DETACH … CONCURRENTLY) never goes through a pooler.
      directDatabaseUrl: directDatabaseUrl(config, databaseUrl),
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
