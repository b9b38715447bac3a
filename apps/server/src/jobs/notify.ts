import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { directDatabaseUrl } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { runNotifyWorker } from '@dropwatch/discovery';
import { createLogger } from '../logger.js';
import { readJobWorkerData } from '../scheduler/worker-data.js';

/**
 * Bree job `notify`: ONE long-lived worker thread (started with the scheduler, restarted by it if
 * it dies), a thin shell over runNotifyWorker. Parses its workerData, opens its ORM for the life
 * of the worker, posts the stats of every pass that did something, and on Bree's 'cancel' lets
 * the pass in flight finish, closes the ORM and says 'done'. A failure throws so Bree's error
 * handler sees it (and the scheduler restarts the job).
 */
/** The fan-out connection, the delivery connection, and the lease/job_runs one (LISTEN has its own). */
const JOB_POOL_MAX = 3;

async function main(): Promise<void> {
  const { databaseUrl, config } = readJobWorkerData('notify', workerData);
  const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT).child({ job: 'notify' });
  const abort = new AbortController();
  parentPort?.on('message', (message) => {
    if (message === 'cancel') abort.abort();
  });
  const orm = await createOrm({
    databaseUrl,
    poolMax: Math.min(config.DB_POOL_MAX, JOB_POOL_MAX),
    applicationName: 'dropwatch-job-notify',
    pooler: config.DATABASE_POOLER,
  });
  try {
    const totals = await runNotifyWorker({
      orm,
      config,
      logger,
      // LISTEN needs a session of its own: never through a transaction pooler.
      databaseUrl: directDatabaseUrl(config, databaseUrl),
      signal: abort.signal,
      onPass: (stats, reason, err) => {
        if (err || stats.drops > 0 || stats.delivery.claimed > 0) {
          parentPort?.postMessage({ job: 'notify', reason, stats, ...(err ? { error: err.message } : {}) });
        }
      },
    });
    parentPort?.postMessage({ job: 'notify', totals });
  } finally {
    await orm.close(true);
  }
  parentPort?.postMessage('done');
}

if (!isMainThread) await main();
