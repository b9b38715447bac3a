import { threadId } from 'node:worker_threads';
import { directDatabaseUrl, type Config } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { createProvider, runPoller } from '@dropwatch/discovery';
import { createLogger } from '../logger.js';

/** Pool of the loop's own ORM: one connection per bucket poll in flight, the fast lane, housekeeping. */
const EXTRA_CONNECTIONS = 3;

export interface LoopOptions {
  readonly databaseUrl: string;
  readonly config: Config;
  /** Aborted on Bree's 'cancel' (shutdown), or when the other loop of a shared worker failed. */
  readonly signal: AbortSignal;
  /** To the main thread (parentPort.postMessage). */
  readonly post: (message: unknown) => void;
}

/**
 * The discovery side of a job worker: opens its own ORM and provider and polls continuously
 * (runPoller), posting its running totals after every housekeeping pass and each poll (the main
 * thread's metrics count this process's work, see metrics.ts), until the signal: then no new poll
 * starts, the polls in flight finish, and the ORM closes. A failure throws.
 */
export async function runDiscoveryLoop({ databaseUrl, config, signal, post }: LoopOptions): Promise<void> {
  const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT).child({ job: 'discovery' });
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
      signal,
      // Its liveness session must be a session of its own: never through a transaction pooler.
      sessionUrl: directDatabaseUrl(config, databaseUrl),
      onStats: (s) => post({ job: 'discovery', threadId, stats: s }),
      onPoll: (poll) => post({ job: 'discovery', threadId, poll }),
    });
    post({ job: 'discovery', threadId, stats });
  } finally {
    await orm.close(true);
  }
}
