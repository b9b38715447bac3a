import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withDatabase } from '../database-url.js';
import { freePort } from './free-port.js';
import { waitForPostgres } from './wait-for-postgres.js';

/** Debian's package puts the binary here (`apt-get install pgbouncer`). */
export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer';

/** Why PgBouncer tests cannot run here, or undefined when they can. */
export function pgbouncerMissing(): string | undefined {
  return existsSync(PGBOUNCER_BIN) ? undefined : `no PgBouncer at ${PGBOUNCER_BIN} (apt-get install -y pgbouncer)`;
}

export interface PgBouncerOptions {
  /** The PostgreSQL server behind the pooler (its host, port, user and password, if any). */
  readonly serverUrl: string;
  /** Database names routed through the pooler. */
  readonly databases: readonly string[];
  /** Server connections per database and user: small, so clients really share them. */
  readonly poolSize?: number;
}

export interface PgBouncerHandle {
  readonly port: number;
  readonly pid: number;
  /** The URL of `database` through the pooler. */
  url(database: string): string;
  /** What PgBouncer wrote to stderr so far (its log), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const READY_WITHIN_MS = 10_000;
const STOP_WITHIN_MS = 5_000;

/**
 * Starts a real PgBouncer in transaction mode on a free 127.0.0.1 port, configured in a temp dir
 * of its own, as a child process. PgBouncer refuses to run as root: when we are root it drops to
 * the `postgres` OS user (`-u`), which must read the temp dir. Resolves once a query through it
 * answers.
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncerHandle> {
  const missing = pgbouncerMissing();
  if (missing) throw new Error(missing);
  const server = new URL(options.serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'dropwatch-pgbouncer-'));
  await chmod(dir, 0o755);
  // The embedded Postgres asks for a password (a server on trust auth does not): PgBouncer logs in
  // to the server with the one in the URL.
  const password = decodeURIComponent(server.password);
  const serverAuth = password === '' ? '' : ` password='${password.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const dbLines = options.databases.map(
    (name) =>
      `${name} = host=${server.hostname} port=${server.port || '5432'} dbname=${name} user=${user}${serverAuth}`,
  );
  const ini = [
    '[databases]',
    ...dbLines,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    // No unix socket: parallel runs would collide on /tmp/.s.PGSQL.<port> and nothing uses it.
    'unix_socket_dir =',
    'pool_mode = transaction',
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'users.txt')}`,
    `default_pool_size = ${options.poolSize ?? 4}`,
    'max_client_conn = 200',
    // What the ORM's startup `options` does without a pooler (dropwatch sends none behind one).
    'idle_transaction_timeout = 30',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'users.txt'), `"${user}" ""\n`, { mode: 0o644 });
  const iniPath = path.join(dir, 'pgbouncer.ini');
  await writeFile(iniPath, ini, { mode: 0o644 });

  const args = process.getuid?.() === 0 ? ['-u', 'postgres', iniPath] : [iniPath];
  const child: ChildProcess = spawn(PGBOUNCER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const url = (database: string) => {
    const u = new URL(withDatabase(options.serverUrl, database));
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };
  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(
        () => child.pid !== undefined && !exited && process.kill(child.pid, 'SIGKILL'),
        STOP_WITHIN_MS,
      );
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const first = options.databases[0];
  if (child.pid === undefined || first === undefined) {
    await stop();
    throw new Error(`PgBouncer did not start${first === undefined ? ': no database given' : ''}`);
  }
  try {
    await waitForPostgres(url(first), READY_WITHIN_MS, { name: 'PgBouncer', exited: () => exited, log: () => stderr });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, pid: child.pid, url, log: () => stderr, stop };
}
