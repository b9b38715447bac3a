import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { loadConfig } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { runNotify } from '@dropwatch/discovery';
import { createLogger } from '../logger.js';

/**
 * Bree job `notify` (every NOTIFY_INTERVAL_MS, singleton by the `notify` lease): a thin shell over
 * runNotify. Parses its workerData, opens its own ORM, runs once (fan-out then webhook
 * deliveries), posts the stats, exits; a failure throws so Bree's error handler sees it.
 */
export const notifyWorkerDataSchema = z.object({
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//),
  /** The process config as environment strings, validated again by loadConfig. */
  settings: z.record(z.string(), z.string()),
});

/** The fan-out connection, the delivery connection, and the lease/job_runs one. */
const JOB_POOL_MAX = 3;

async function main(): Promise<void> {
  const data = notifyWorkerDataSchema.parse(workerData);
  const config = loadConfig(data.settings);
  const logger = createLogger(config.LOG_LEVEL).child({ job: 'notify' });
  const orm = await createOrm({
    databaseUrl: data.databaseUrl,
    poolMax: Math.min(config.DB_POOL_MAX, JOB_POOL_MAX),
    applicationName: 'dropwatch-job-notify',
  });
  try {
    const stats = await runNotify({ orm, config, logger });
    parentPort?.postMessage({ job: 'notify', stats });
  } finally {
    await orm.close(true);
  }
  parentPort?.postMessage('done');
}

if (!isMainThread) await main();
