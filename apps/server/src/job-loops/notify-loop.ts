import { directDatabaseUrl } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { runNotifyWorker } from '@dropwatch/discovery';
import { createLogger } from '../logger.js';
import type { LoopOptions } from './discovery-loop.js';

/** The fan-out connection, the delivery connection, and the lease/job_runs one (LISTEN has its own). */
const JOB_POOL_MAX = 3;

/**
 * The notify side of a job worker: opens its own ORM for the life of the loop, runs
 * runNotifyWorker (woken by LISTEN, a periodic sweep as safety net), posts the stats of every
 * pass that did something, and when the signal fires lets the pass in flight finish and closes
 * the ORM. A failure throws.
 */
export async function runNotifyLoop({ databaseUrl, config, signal, post }: LoopOptions): Promise<void> {
  const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT).child({ job: 'notify' });
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
      signal,
      onPass: (stats, reason, err) => {
        if (err || stats.drops > 0 || stats.resizedDrops > 0 || stats.delivery.claimed > 0) {
          post({ job: 'notify', reason, stats, ...(err ? { error: err.message } : {}) });
        }
      },
    });
    post({ job: 'notify', totals });
  } finally {
    await orm.close(true);
  }
}
