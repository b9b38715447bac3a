import { parseArgs } from 'node:util';
import { startTopology } from './topology.js';

const USAGE = `usage: npm run topology -- [--api N] [--workers M] [--venues V] [--rps R] [--pool P] [--fast] [--logs DIR]
Starts on 127.0.0.1: a PostgreSQL primary and a streaming replica, PgBouncer (transaction mode),
N API and M worker replicas of the built server and the fake Resy market; prints their URLs and PIDs;
stops them all on Ctrl-C (SIGINT) or SIGTERM.`;

function int(value: string | undefined, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}–${max}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      api: { type: 'string', default: '2' },
      workers: { type: 'string', default: '2' },
      venues: { type: 'string', default: '300' },
      rps: { type: 'string', default: '10' },
      pool: { type: 'string', default: '10' },
      fast: { type: 'boolean', default: false },
      logs: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const rps = Number(values.rps);
  if (!(rps >= 0.1 && rps <= 100)) throw new Error('--rps must be within 0.1–100');
  const topology = await startTopology({
    api: int(values.api, 'api', 0, 16),
    workers: int(values.workers, 'workers', 0, 16),
    venues: int(values.venues, 'venues', 1, 100_000),
    rps,
    poolSize: int(values.pool, 'pool', 1, 100),
    fast: values.fast,
    ...(values.logs ? { logDir: values.logs } : {}),
    log: (line) => process.stderr.write(`topology: ${line}\n`),
  });
  process.stdout.write(`${topology.describe()}\nrunning; Ctrl-C stops everything\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`topology: ${signal}, stopping\n`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await topology.stop();
  process.stdout.write('topology stopped\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`topology failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
