import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { directDatabaseUrl } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { createProvider, runPoller } from '@dropwatch/discovery';
import { createLogger } from '../logger.js';
import { readJobWorkerData } from '../scheduler/worker-data.js';

/**
 * Bree job `discovery`: one long-lived worker (the scheduler starts it once and restarts it if it
 * dies), a thin shell over runPoller. Parses its workerData, opens its own ORM and provider, and
 * polls continuously, posting its running totals after every housekeeping pass, until 'cancel'
 * (shutdown): then no new poll starts, the polls in flight finish and it says 'done'. A failure
 * throws so Bree's error handler sees it.
 */
/** Pool of the job's own ORM: one connection per bucket poll in flight, the fast lane, housekeeping. */
const EXTRA_CONNECTIONS = 3;

async function main(): Promise<void> {
  const { databaseUrl, config } = readJobWorkerData('discovery', workerData);
  const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT).child({ job: 'discovery' });
  const abort = new AbortController();
  parentPort?.on('message', (message) => {
    if (message === 'cancel') abort.abort();
  });
  const orm = await createOrm({
    databaseUrl,
    poolMax: Math.min(config.DB_POOL_MAX, config.DISCOVERY_CONCURRENCY + EXTRA_CONNECTIONS),
    applicationName: 'dropwatch-job-discovery',
    pooler: config.DATABASE_POOLER,
  });
  try {
    const stats = await runPoller({
      orm,
      config,
      provider: createProvider(config, logger),
      logger,
      signal: abort.signal,
      // Its liveness session must be a session of its own: never through a transaction pooler.
      sessionUrl: directDatabaseUrl(config, databaseUrl),
      onStats: (s) => parentPort?.postMessage({ job: 'discovery', threadId, stats: s }),
      // Each poll, so the main thread's metrics count this process's work (see metrics.ts).
      onPoll: (poll) => parentPort?.postMessage({ job: 'discovery', threadId, poll }),
    });
    parentPort?.postMessage({ job: 'discovery', threadId, stats });
  } finally {
    await orm.close(true);
  }
  parentPort?.postMessage('done');
}

if (!isMainThread) await main();
