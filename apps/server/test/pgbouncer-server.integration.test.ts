import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDropwatchClient } from '@dropwatch/client';
import { DROPS_CHANNEL } from '@dropwatch/db';
import {
  freePort,
  pgbouncerMissing,
  startPgBouncer,
  useTestDatabase,
  waitFor,
  type PgBouncerHandle,
} from '@dropwatch/db/testing';
import { dayFromToday, seedBucket, seedDrop, seedVenue } from './api-fixtures.js';

const t = useTestDatabase();

/** Local ports of a process's TCP sockets (Linux /proc; we run as root or as the same user). */
async function localTcpPorts(pid: number): Promise<Set<number>> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m?.[1]) inodes.add(m[1]);
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local && cols[9] && inodes.has(cols[9])) ports.add(Number.parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serverDist = fileURLToPath(new URL('../dist/', import.meta.url));
/** The server is killed by PID if it has not stopped by then. */
const STOP_WITHIN_MS = 15_000;

/**
 * The built server (`npm start`'s main.js), role `all`, with DATABASE_URL through a real
 * PgBouncer in transaction mode (one server connection: every client of the process shares it)
 * and DIRECT_DATABASE_URL for LISTEN, the migration lock and retention.
 */
describe('npm start behind PgBouncer (DATABASE_POOLER=transaction)', () => {
  let bouncer: PgBouncerHandle;
  let child: ChildProcess | undefined;
  let url = '';
  const lines: Record<string, unknown>[] = [];
  let stderr = '';

  beforeAll(async () => {
    if (pgbouncerMissing() !== undefined) throw new Error(pgbouncerMissing());
    if (!existsSync(`${serverDist}main.js`) || !existsSync(`${serverDist}jobs/discovery.js`)) {
      execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: repoRoot, stdio: 'inherit' });
    }
    bouncer = await startPgBouncer({ serverUrl: t.db.adminUrl, databases: [t.db.name], poolSize: 2 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [`${serverDist}main.js`], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: bouncer.url(t.db.name),
        DATABASE_POOLER: 'transaction',
        DIRECT_DATABASE_URL: t.db.url,
        DROPWATCH_ROLE: 'all',
        DISCOVERY_MARKETS: 'nyc',
        DISCOVERY_TICK_SECONDS: '2',
        DISCOVERY_BUCKET_COOLDOWN_SECONDS: '2',
        SIM_VENUES: '40',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await waitFor(
      async () => {
        if (child?.exitCode !== null) throw new Error(`server exited (${child?.exitCode}): ${stderr}`);
        return (await fetch(`${url}/readyz`).catch(() => null))?.status === 200 ? true : undefined;
      },
      60_000,
      'readyz through PgBouncer',
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; log: ${JSON.stringify(lines.slice(-5))} ${stderr}\n${bouncer.log()}`);
    });
  }, 300_000);

  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child?.pid !== undefined && process.kill(child.pid, 'SIGKILL'), STOP_WITHIN_MS);
      await exited;
      clearTimeout(timer);
    }
    await bouncer?.stop();
  });

  it('is ready, answers feed calls, and its discovery passes run through the pooler without failures', async () => {
    const client = createDropwatchClient({ url, EventSource });
    const live = await client.feed.live.query({ market: 'nyc' });
    expect(live.market).toBe('nyc');
    const pass = await waitFor(
      () => lines.find((l) => l.msg === 'discovery pass' && Number(l.polls) > 0),
      60_000,
      'a discovery pass logged',
    );
    expect(pass).toMatchObject({ failed: 0 });
  }, 90_000);

  it('a drop committed with its NOTIFY through the pooler reaches a feed.onDrop subscriber (LISTEN on the direct URL)', async () => {
    const client = createDropwatchClient({ url, EventSource });
    const received: string[] = [];
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    const sub = client.feed.onDrop.subscribe(
      { market: 'nyc' },
      { onStarted: () => started(), onData: (e) => received.push(e.data.id) },
    );
    try {
      await isStarted;
      const sql = new pg.Client({ connectionString: bouncer.url(t.db.name) });
      await sql.connect();
      let dropId = '';
      try {
        const bucketId = await seedBucket(sql, { market: 'nyc', date: dayFromToday(3), timeSlot: '20:00' });
        await seedVenue(sql, { venueId: 'resy:pgb-1', market: 'nyc', name: 'Pooled' });
        // What the bucket transaction does: the drop and its NOTIFY in one transaction.
        await sql.query('begin');
        dropId = (await seedDrop(sql, { bucketId, venueId: 'resy:pgb-1', market: 'nyc', slotDate: dayFromToday(3) }))
          .id;
        await sql.query('select pg_notify($1, $2)', [DROPS_CHANNEL, JSON.stringify({ bucket: bucketId, drops: 1 })]);
        await sql.query('commit');
      } finally {
        await sql.end();
      }
      await waitFor(() => (received.includes(dropId) ? true : undefined), 20_000, 'the drop on feed.onDrop');
      // The API's LISTEN is a session of its own on the primary, not a pooled connection: its
      // backend's client port is none of PgBouncer's own sockets.
      const direct = new pg.Client({ connectionString: t.db.url });
      await direct.connect();
      try {
        const { rows } = await direct.query<{ port: number }>(
          `select client_port as port from pg_stat_activity
            where datname = current_database() and application_name = 'dropwatch-listen'`,
        );
        expect(rows).toHaveLength(1);
        const bouncerPorts = await localTcpPorts(bouncer.pid);
        expect(bouncerPorts.size).toBeGreaterThan(0);
        expect(bouncerPorts.has(rows[0]!.port)).toBe(false);
      } finally {
        await direct.end();
      }
    } finally {
      sub.unsubscribe();
    }
    expect(stderr).toBe('');
    expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
  }, 60_000);
});
