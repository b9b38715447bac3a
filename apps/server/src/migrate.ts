import { ConfigError, directDatabaseUrl, loadConfig } from '@dropwatch/core';
import { migrate } from '@dropwatch/db/migrate';
import { openDatabase } from './database.js';
import { readEnvironment } from './environment.js';
import { createLogger } from './logger.js';

/** `npm run db:migrate`: apply migrations to DATABASE_URL (or the embedded Postgres) and exit. */
async function run(): Promise<void> {
  const config = loadConfig(readEnvironment(process.cwd(), process.env));
  const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT);
  const db = await openDatabase(config, logger, process.cwd(), { attach: true });
  try {
    const result = await migrate(db.url, config.PARTITION_PREMAKE_DAYS, {
      lockUrl: directDatabaseUrl(config, db.url),
      pooler: config.DATABASE_POOLER,
    });
    logger.info(result, 'migrations applied');
  } finally {
    await db.stop();
  }
}

run().catch((err: unknown) => {
  const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`dropwatch db:migrate: ${message}\n`);
  process.exit(1);
});
