import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  freePort,
  startPgBouncer,
  startPrimaryAndReplica,
  type PgBouncerHandle,
  type ReplicaPairHandle,
} from '@dropwatch/db/testing';
import { startFakeResyMarket, type FakeResyHandle } from '../fake-resy/index.js';

/** The built server every replica runs (what `npm start` runs). */
export const SERVER_MAIN = fileURLToPath(new URL('../../../server/dist/main.js', import.meta.url));

/** The one application database on the primary (the replica has it too). */
export const TOPOLOGY_DATABASE = 'dropwatch';
const READY_WITHIN_MS = 120_000;
const STOP_WITHIN_MS = 15_000;
const POLL_MS = 200;

export interface TopologyOptions {
  readonly api: number;
  readonly workers: number;
  /** Venues of the fake Resy market. */
  readonly venues: number;
  /** RESY_MAX_RPS: the provider's limit, shared by all workers together. */
  readonly rps: number;
  /** Server connections PgBouncer keeps per database (all replicas share them). */
  readonly poolSize: number;
  /** fsync off on both clusters (faster; durability does not matter on loopback). */
  readonly fast: boolean;
  /** Where each process's log goes (one file per process); default a new temp folder. */
  readonly logDir?: string;
  /** More environment for every dropwatch process (e.g. DISCOVERY_LEASE_SECONDS). */
  readonly env?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

export interface ServerProcess {
  readonly name: string;
  readonly role: 'api' | 'worker';
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  alive(): boolean;
}

export interface Topology {
  readonly pair: ReplicaPairHandle;
  readonly bouncer: PgBouncerHandle;
  readonly market: FakeResyHandle;
  /** The primary itself (DIRECT_DATABASE_URL). */
  readonly directUrl: string;
  /** Through PgBouncer (DATABASE_URL). */
  readonly pooledUrl: string;
  /** The streaming replica (READ_DATABASE_URL). */
  readonly readUrl: string;
  readonly logDir: string;
  readonly apis: ServerProcess[];
  readonly workers: ServerProcess[];
  /** Starts one more worker replica (e.g. after one was killed). */
  addWorker(): Promise<ServerProcess>;
  /** A line per process: role, URL, PID, log file. */
  describe(): string;
  /** Stops every dropwatch process (SIGTERM, then SIGKILL), PgBouncer, the replica, the primary, the market. */
  stop(): Promise<void>;
}

/**
 * The scale-out topology as real processes on 127.0.0.1: a PostgreSQL primary and a streaming
 * replica (Debian binaries), PgBouncer in transaction mode in front of the primary, N API and M
 * worker replicas of the built server, and the fake Resy market the workers poll (served from this
 * process). APIs read from the replica (READ_DATABASE_URL); every process writes through the pooler
 * and keeps its session-bound connections on the primary (DIRECT_DATABASE_URL).
 */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const log = options.log ?? (() => undefined);
  const logDir = options.logDir ?? (await mkdtemp(path.join(tmpdir(), 'dropwatch-topology-')));
  await mkdir(logDir, { recursive: true });
  const pgLog = createWriteStream(path.join(logDir, 'postgres.log'), { flags: 'a' });
  const cleanups: (() => Promise<void>)[] = [];
  const processes: (ServerProcess & { stop(): Promise<void> })[] = [];
  const stopAll = async () => {
    await Promise.all(processes.map((p) => p.stop().catch(() => undefined)));
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await new Promise<void>((r) => pgLog.end(() => r()));
  };

  try {
    log('starting the primary and its streaming replica');
    const pair = await startPrimaryAndReplica({
      fast: options.fast,
      // The soak reads pg_stat_database.deadlocks and logs lock waits.
      settings: { log_lock_waits: 'on', deadlock_timeout: '1s' },
      onLog: (cluster, line) => pgLog.write(`[${cluster}] ${line}\n`),
    });
    cleanups.push(() => pair.stop());
    const admin = new pg.Client({ connectionString: pair.primary.url('postgres') });
    await admin.connect();
    await admin.query(`create database ${TOPOLOGY_DATABASE}`);
    await admin.end();
    const directUrl = pair.primary.url(TOPOLOGY_DATABASE);
    const readUrl = pair.replica.url(TOPOLOGY_DATABASE);

    log('starting PgBouncer (transaction mode)');
    const bouncer = await startPgBouncer({
      serverUrl: pair.primary.url('postgres'),
      databases: [TOPOLOGY_DATABASE],
      poolSize: options.poolSize,
    });
    cleanups.push(() => bouncer.stop());
    const pooledUrl = bouncer.url(TOPOLOGY_DATABASE);

    log('starting the fake Resy market');
    const market = await startFakeResyMarket({ seed: 1, venues: options.venues, epochMs: Date.now(), market: 'nyc' });
    cleanups.push(() => market.close());

    const common: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      HOST: '127.0.0.1',
      DATABASE_URL: pooledUrl,
      DATABASE_POOLER: 'transaction',
      DIRECT_DATABASE_URL: directUrl,
      DISCOVERY_MARKETS: 'nyc',
      RESY_API_KEY: 'bench-key',
      RESY_BASE_URL: market.url,
      RESY_MAX_RPS: String(options.rps),
      LOG_LEVEL: 'info',
      ...options.env,
    };
    let workerCount = 0;
    const spawnServer = async (
      role: 'api' | 'worker',
      name: string,
    ): Promise<ServerProcess & { stop(): Promise<void> }> => {
      const port = await freePort();
      const logFile = path.join(logDir, `${name}.log`);
      const out: WriteStream = createWriteStream(logFile, { flags: 'a' });
      const env = {
        ...common,
        PORT: String(port),
        DROPWATCH_ROLE: role,
        ...(role === 'api' ? { READ_DATABASE_URL: readUrl } : {}),
      };
      const child: ChildProcess = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      let done = false;
      const exited = new Promise<number | string>((resolve) =>
        child.once('exit', (code, signal) => {
          done = true;
          resolve(code ?? signal ?? 'unknown');
        }),
      );
      if (child.pid === undefined) throw new Error(`${name} did not start`);
      const pid = child.pid;
      const stop = async () => {
        if (done) return;
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => !done && process.kill(pid, 'SIGKILL'), STOP_WITHIN_MS);
        await exited;
        clearTimeout(timer);
      };
      const proc = { name, role, url: `http://127.0.0.1:${port}`, pid, logFile, exited, alive: () => !done, stop };
      processes.push(proc);
      return proc;
    };
    const ready = async (p: ServerProcess) => {
      const deadline = Date.now() + READY_WITHIN_MS;
      for (;;) {
        if (!p.alive()) throw new Error(`${p.name} exited during start-up (log: ${p.logFile})`);
        const res = await fetch(`${p.url}/readyz`).catch(() => null);
        if (res?.status === 200) return;
        if (Date.now() > deadline)
          throw new Error(`${p.name} not ready within ${READY_WITHIN_MS} ms (log: ${p.logFile})`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };

    log(`starting ${options.api} API and ${options.workers} worker replicas`);
    const apis = await Promise.all(Array.from({ length: options.api }, (_, i) => spawnServer('api', `api-${i + 1}`)));
    const workers = await Promise.all(
      Array.from({ length: options.workers }, () => spawnServer('worker', `worker-${++workerCount}`)),
    );
    await Promise.all([...apis, ...workers].map(ready));
    const addWorker = async () => {
      const w = await spawnServer('worker', `worker-${++workerCount}`);
      await ready(w);
      workers.push(w);
      return w;
    };
    let stopping: Promise<void> | undefined;
    return {
      pair,
      bouncer,
      market,
      directUrl,
      pooledUrl,
      readUrl,
      logDir,
      apis,
      workers,
      addWorker,
      describe: () =>
        [
          `primary   postgres://127.0.0.1:${pair.primary.port}  pid ${pair.primary.pid}  ${pair.primary.dataDir}`,
          `replica   postgres://127.0.0.1:${pair.replica.port}  pid ${pair.replica.pid}  ${pair.replica.dataDir}`,
          `pgbouncer postgres://127.0.0.1:${bouncer.port}  pid ${bouncer.pid}  (transaction mode, pool ${options.poolSize})`,
          `market    ${market.url}  (fake Resy, ${options.venues} venues, in pid ${process.pid})`,
          ...[...apis, ...workers].map(
            (p) => `${p.name.padEnd(9)} ${p.url}  pid ${p.pid}  ${p.alive() ? '' : '(exited) '}log ${p.logFile}`,
          ),
          `postgres logs: ${path.join(logDir, 'postgres.log')}`,
        ].join('\n'),
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
