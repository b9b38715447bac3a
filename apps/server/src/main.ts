import { ConfigError, loadConfig, type Config } from '@dropwatch/core';
import { SHUTDOWN_TIMEOUT_MS, startApp, type App } from './app.js';
import { readEnvironment } from './environment.js';
import { createLogger } from './logger.js';

/** The process entry: the only place that reads process.env. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(readEnvironment(process.cwd(), process.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dropwatch: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT);

  // Handlers go in before anything starts: a signal during start-up waits for the start to
  // finish (or fail, which undoes itself) and then stops what started, embedded Postgres included.
  let starting: Promise<App | undefined> = Promise.resolve(undefined);
  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    starting
      .then((app) => app?.stop())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  starting = startApp({ config, logger, baseDir: process.cwd() }).catch((err: unknown) => {
    if (!signalled) throw err;
    return undefined;
  });
  await starting;
}

main().catch((err: unknown) => {
  process.stderr.write(`dropwatch: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
