import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { loadConfig } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { runNotify, runNotifyWorker } from '@dropwatch/discovery';

/**
 * The fanout bench's notify job in a worker thread, in the two shapes it has had:
 * - `once`: what each run of the old interval job did (a fresh thread imports the whole module
 *   graph, opens an ORM, runs once, exits) -- the bench starts one every 5 s;
 * - `long-lived`: today's job (one ORM, LISTEN, a pass per NOTIFY) until the bench posts 'cancel'.
 * It imports what the server's job shell imports (config, db, discovery, a pino logger), so a
 * boot costs what a boot of the real job cost.
 */
interface BenchNotifyData {
  readonly databaseUrl: string;
  readonly mode: 'once' | 'long-lived';
  /** More settings (the channels bench points SMTP_URL at its own server). */
  readonly settings?: Record<string, string>;
}

async function main(): Promise<void> {
  const data = workerData as BenchNotifyData;
  const config = loadConfig({
    NOTIFY_COOLDOWN_MINUTES: '0',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    LOG_LEVEL: 'silent',
    ...data.settings,
  });
  const logger = pino({ level: 'silent' });
  const orm = await createOrm({
    databaseUrl: data.databaseUrl,
    poolMax: 3,
    applicationName: `bench-notify-${data.mode}`,
  });
  try {
    if (data.mode === 'once') {
      await runNotify({ orm, config, logger, recordRun: false });
    } else {
      const abort = new AbortController();
      parentPort?.on('message', (m) => {
        if (m === 'cancel') abort.abort();
      });
      await runNotifyWorker({
        orm,
        config,
        logger,
        databaseUrl: data.databaseUrl,
        signal: abort.signal,
        recordRun: false,
      });
    }
  } finally {
    await orm.close(true);
  }
  parentPort?.postMessage('done');
  parentPort?.removeAllListeners('message');
  parentPort?.unref();
}

if (!isMainThread) await main();
