import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';
import { waitForPostgres } from './wait-for-postgres.js';

/** Debian's PostgreSQL 15 server binaries (`apt-get install postgresql-15`). */
export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** The OS user a cluster runs as when we are root (PostgreSQL refuses to run as root). */
const OS_USER = 'postgres';
/** The database superuser every cluster here is created with (trust auth on 127.0.0.1). */
const DB_USER = 'postgres';
const READY_WITHIN_MS = 30_000;
const STOP_WITHIN_MS = 10_000;
const REPLAY_WITHIN_MS = 30_000;
const POLL_MS = 25;

/** Why the replica harness cannot run here, or undefined when it can. */
export function replicaMissing(): string | undefined {
  for (const bin of ['initdb', 'postgres', 'pg_basebackup']) {
    if (!existsSync(path.join(PG_BIN_DIR, bin))) {
      return `no ${bin} in ${PG_BIN_DIR} (apt-get install -y postgresql-15)`;
    }
  }
  return undefined;
}

export interface ClusterHandle {
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database: string): string;
  /** The server's log (stderr) so far, for failure messages. */
  log(): string;
}

export interface ReplicaPairHandle {
  readonly primary: ClusterHandle;
  readonly replica: ClusterHandle;
  /**
   * Resolves once the replica has replayed everything the primary had written when it was
   * called (its current WAL position): what a test waits on instead of sleeping.
   */
  caughtUp(): Promise<void>;
  /** Stops both servers by PID (replica first) and removes their folders. Idempotent. */
  stop(): Promise<void>;
}

export interface ReplicaPairOptions {
  /** Extra `-c name=value` server settings for both clusters. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Skip fsync (faster start-up and writes; for tests, not for a soak that measures them). */
  readonly fast?: boolean;
  /** Server log lines go here too (the topology harness writes them to a file). */
  readonly onLog?: (cluster: 'primary' | 'replica', line: string) => void;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

const exec = promisify(execFile);

async function runAs(): Promise<RunAs> {
  if (userInfo().uid !== 0) return {};
  const [uid, gid] = await Promise.all([exec('id', ['-u', OS_USER]), exec('id', ['-g', OS_USER])]);
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

async function run(bin: string, args: string[], as: RunAs): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(path.join(PG_BIN_DIR, bin), args, { ...as, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (chunk: Buffer) => (out = (out + chunk.toString('utf8')).slice(-8_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${bin} exited with ${code}: ${out.trim()}`)),
    );
  });
}

/**
 * Starts `postgres` as a direct child (so its PID is ours to stop) on 127.0.0.1:port with its
 * unix socket inside its own folder, and resolves once it accepts a query.
 */
async function startCluster(
  name: 'primary' | 'replica',
  dataDir: string,
  port: number,
  as: RunAs,
  options: ReplicaPairOptions,
): Promise<ClusterHandle & { stop(): Promise<void> }> {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dataDir,
    max_connections: '200',
    ...(options.fast ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
    ...options.settings,
  };
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const child: ChildProcess = spawn(path.join(PG_BIN_DIR, 'postgres'), args, {
    ...as,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-20_000);
    if (options.onLog) for (const line of text.split('\n')) if (line) options.onLog(name, line);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const url = (database: string) => `postgres://${DB_USER}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const stop = async () => {
    if (exited || child.pid === undefined) return;
    // SIGINT is PostgreSQL's "fast" shutdown: sessions are ended, no waiting for clients.
    process.kill(child.pid, 'SIGINT');
    const timer = setTimeout(() => {
      if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, STOP_WITHIN_MS);
    await exit;
    clearTimeout(timer);
  };
  if (child.pid === undefined) throw new Error(`${name}: postgres did not start`);
  try {
    await waitForPostgres(url('postgres'), READY_WITHIN_MS, {
      name: `${name}: postgres`,
      exited: () => exited,
      log: () => stderr,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, pid: child.pid, dataDir, url, log: () => stderr, stop };
}

async function scalar(url: string, sql: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, application_name: 'dropwatch-replica-harness' });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string | null }>(sql);
    return rows[0]?.v ?? null;
  } finally {
    await client.end();
  }
}

/**
 * A primary and a streaming hot-standby replica with the Debian binaries, each in a temp folder
 * of its own and on its own free port on 127.0.0.1: `initdb` the primary, start it, take a
 * `pg_basebackup -R` of it (which writes the replica's primary_conninfo and standby.signal),
 * start that. As root, every binary runs as the `postgres` OS user and the folders belong to it.
 */
export async function startPrimaryAndReplica(options: ReplicaPairOptions = {}): Promise<ReplicaPairHandle> {
  const missing = replicaMissing();
  if (missing) throw new Error(missing);
  const as = await runAs();
  const root = await mkdtemp(path.join(tmpdir(), 'dropwatch-replica-'));
  await chmod(root, 0o755);
  const primaryDir = path.join(root, 'primary');
  const replicaDir = path.join(root, 'replica');
  await mkdir(primaryDir, { mode: 0o700 });
  if (as.uid !== undefined && as.gid !== undefined) {
    await chown(primaryDir, as.uid, as.gid);
    // pg_basebackup creates the replica's folder itself, as the user it runs as.
    await chown(root, as.uid, as.gid);
  }
  const started: { stop(): Promise<void> }[] = [];
  const cleanup = async () => {
    for (const c of started.reverse()) await c.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  try {
    await run(
      'initdb',
      ['-D', primaryDir, '-U', DB_USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
      as,
    );
    const primaryPort = await freePort();
    const primary = await startCluster('primary', primaryDir, primaryPort, as, options);
    started.push(primary);
    // initdb's pg_hba.conf trusts replication connections from 127.0.0.1 under --auth=trust.
    await run(
      'pg_basebackup',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        DB_USER,
        '-D',
        replicaDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
      ],
      as,
    );
    const replica = await startCluster('replica', replicaDir, await freePort(), as, options);
    started.push(replica);
    const caughtUp = async () => {
      const target = await scalar(primary.url('postgres'), 'select pg_current_wal_insert_lsn()::text as v');
      const deadline = Date.now() + REPLAY_WITHIN_MS;
      for (;;) {
        const behind = await scalar(
          replica.url('postgres'),
          `select (pg_last_wal_replay_lsn() < '${target}'::pg_lsn)::text as v`,
        );
        if (behind === 'false') return;
        if (Date.now() > deadline) {
          throw new Error(
            `replica did not replay up to ${target} within ${REPLAY_WITHIN_MS} ms\n${replica.log().trim()}`,
          );
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    let stopping: Promise<void> | undefined;
    return { primary, replica, caughtUp, stop: () => (stopping ??= cleanup()) };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
