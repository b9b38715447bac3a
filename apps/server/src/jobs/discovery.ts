import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { loadConfig } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { createProvider, runDiscoveryTick } from '@dropwatch/discovery';
import { createLogger } from '../logger.js';

/**
 * Bree job `discovery` (every DISCOVERY_TICK_SECONDS): a thin shell over runDiscoveryTick.
 * Parses its workerData, opens its own ORM, runs one tick, posts the stats, exits; a failure
 * throws so Bree's error handler sees it. On 'cancel' (shutdown) it starts no new bucket and
 * lets the polls in flight finish.
 */
export const discoveryWorkerDataSchema = z.object({
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//),
  /** The process config as environment strings, validated again by loadConfig. */
  settings: z.record(z.string(), z.string()),
});

/** Pool of the job's own ORM: one connection per concurrent bucket plus the tick's own. */
const EXTRA_CONNECTIONS = 2;

async function main(): Promise<void> {
  const data = discoveryWorkerDataSchema.parse(workerData);
  const config = loadConfig(data.settings);
  const logger = createLogger(config.LOG_LEVEL).child({ job: 'discovery' });
  const abort = new AbortController();
  parentPort?.on('message', (message) => {
    if (message === 'cancel') abort.abort();
  });
  const orm = await createOrm({
    databaseUrl: data.databaseUrl,
    poolMax: Math.min(config.DB_POOL_MAX, config.DISCOVERY_CONCURRENCY + EXTRA_CONNECTIONS),
    applicationName: 'dropwatch-job-discovery',
  });
  try {
    const stats = await runDiscoveryTick({ orm, config, provider: createProvider(config, logger), logger, signal: abort.signal });
    parentPort?.postMessage({ job: 'discovery', threadId, stats });
  } finally {
    await orm.close(true);
  }
  parentPort?.postMessage('done');
}

if (!isMainThread) await main();
