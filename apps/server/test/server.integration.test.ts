import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@dropwatch/core';
import { adminQuery, createTestDatabase, freePort, waitFor, type TestDatabase } from '@dropwatch/db/testing';
import { startApp, type App } from '../src/app.js';
import { createLogger } from '../src/logger.js';

const serverDir = path.resolve(import.meta.dirname, '..');

function runServer(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('server in-process', () => {
  let db: TestDatabase;
  let app: App;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent' });
    app = await startApp({ config, logger: createLogger('silent'), baseDir: serverDir });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('answers /healthz 200 after a database round trip', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers 404 for unknown paths', async () => {
    expect((await fetch(`${app.url}/nope`)).status).toBe(404);
  });

  it('answers /healthz 503 while the database refuses connections, 200 again after', async () => {
    await adminQuery(db.adminUrl, `alter database "${db.name}" allow_connections false`);
    await adminQuery(
      db.adminUrl,
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${db.name}' and pid <> pg_backend_pid()`,
    );
    try {
      const res = await fetch(`${app.url}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'down' });
    } finally {
      await adminQuery(db.adminUrl, `alter database "${db.name}" allow_connections true`);
    }
    await waitFor(
      async () => ((await fetch(`${app.url}/healthz`)).status === 200 ? true : undefined),
      10_000,
      'healthz 200',
    );
  });
});

describe('roles', () => {
  it('a worker answers /healthz and /metrics but serves no tRPC', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', DROPWATCH_ROLE: 'worker', LOG_LEVEL: 'silent' });
    const app = await startApp({ config, logger: createLogger('silent'), baseDir: serverDir });
    try {
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${app.url}/trpc/health.lastScan`)).status).toBe(404);
    } finally {
      await app.stop();
      await db.drop();
    }
  });

  it('an api process serves tRPC', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', DROPWATCH_ROLE: 'api', LOG_LEVEL: 'silent' });
    const app = await startApp({ config, logger: createLogger('silent'), baseDir: serverDir });
    try {
      expect((await fetch(`${app.url}/trpc/health.lastScan`)).status).toBe(200);
    } finally {
      await app.stop();
      await db.drop();
    }
  });
});

describe('server process', () => {
  it('refuses to start on an out-of-range setting, naming the variable and its range', async () => {
    const { exited, output } = runServer({ DROP_EVENTS_RETENTION_DAYS: '3' });
    expect(await exited).toBe(2);
    expect(output()).toMatch(/DROP_EVENTS_RETENTION_DAYS="3" is invalid.*7–30/);
  });

  describe('with nothing configured (embedded Postgres)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'dropwatch-embedded-'));
      await chmod(dir, 0o755);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    /** One `npm start`: healthz 200 on the embedded path, then SIGTERM; returns the log. */
    async function startServeStop(dataDir: string): Promise<string> {
      const port = await freePort();
      const server = runServer({
        PORT: String(port),
        EMBEDDED_PG_PORT: String(await freePort()),
        EMBEDDED_PG_DIR: dataDir,
      });
      try {
        // Until the server listens, fetch is refused: that counts as "not yet".
        await waitFor(
          async () =>
            (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200 ? true : undefined,
          60_000,
          'healthz on the embedded path',
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; server output:\n${server.output()}`);
        });
      } finally {
        server.child.kill('SIGTERM');
      }
      const stopping = Date.now();
      expect(await server.exited).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(10_000);
      const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      expect(ps.split('\n').filter((l) => l.includes(dataDir))).toEqual([]);
      return server.output();
    }

    it('starts, serves /healthz 200, leaves no postgres behind after SIGTERM, and restarts on its data', async () => {
      const dataDir = path.join(dir, 'pg');
      const first = await startServeStop(dataDir);
      expect(first).toContain('first start: created the admin user');
      // The second start finds an initialised data dir and an admin: nothing is created again.
      const second = await startServeStop(dataDir);
      expect(second).toContain('dropwatch listening');
      expect(second).not.toContain('first start');
    }, 150_000);
  });
});
