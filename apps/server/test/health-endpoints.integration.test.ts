import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@dropwatch/core';
import { withDatabase, withPgClient } from '@dropwatch/db';
import { pendingMigrations } from '@dropwatch/db/migrate';
import { adminQuery, createTestDatabase, freePort, type TestDatabase } from '@dropwatch/db/testing';
import { startApp, type App } from '../src/app.js';
import { HealthProbe, healthRoutes, type Lifecycle } from '../src/http/healthz.js';
import { startHttpServer } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';

const serverDir = import.meta.dirname;
const silent = createLogger('silent');

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('health endpoints of a running server', () => {
  let db: TestDatabase;
  let app: App;

  beforeAll(async () => {
    db = await createTestDatabase();
    // One pooled connection: a request holding it must not make the health checks fail.
    const config = loadConfig({
      DATABASE_URL: db.url,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DB_POOL_MAX: '1',
      DROPWATCH_ROLE: 'api',
    });
    app = await startApp({ config, logger: silent, baseDir: serverDir });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('/livez, /healthz and /readyz answer 200 on a migrated database', async () => {
    expect(await getJson(`${app.url}/livez`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${app.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${app.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('/healthz and /readyz answer 200 while every pooled connection is busy (they have their own)', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let acquired!: () => void;
    const isHeld = new Promise<void>((r) => (acquired = r));
    const holder = withPgClient(app.orm.em.fork(), async () => {
      acquired();
      await held;
    });
    await isHeld;
    try {
      expect((await getJson(`${app.url}/healthz`)).status).toBe(200);
      expect((await getJson(`${app.url}/readyz`)).status).toBe(200);
    } finally {
      release();
      await holder;
    }
  });

  it('a refused database gives a fixed reason, never the database error text', async () => {
    await adminQuery(db.adminUrl, `alter database "${db.name}" allow_connections false`);
    await adminQuery(
      db.adminUrl,
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${db.name}' and pid <> pg_backend_pid()`,
    );
    try {
      const health = await getJson(`${app.url}/healthz`);
      expect(health).toEqual({ status: 503, body: { status: 'down', reason: 'database unreachable' } });
      const ready = await getJson(`${app.url}/readyz`);
      expect(ready).toEqual({ status: 503, body: { status: 'not ready', reason: 'database unreachable' } });
    } finally {
      await adminQuery(db.adminUrl, `alter database "${db.name}" allow_connections true`);
    }
  });
});

describe('/readyz', () => {
  it('says stopping the moment shutdown begins, and migrations pending on a database behind this build', async () => {
    const name = `dw_unmigrated_${process.pid}`;
    const scratch = await createTestDatabase();
    const { adminUrl } = scratch;
    await adminQuery(adminUrl, `drop database if exists "${name}"`);
    await adminQuery(adminUrl, `create database "${name}"`);
    const life: Lifecycle = { started: true, stopping: false, probe: undefined };
    life.probe = new HealthProbe(withDatabase(adminUrl, name), silent);
    const http = await startHttpServer('127.0.0.1', 0, healthRoutes(life), silent);
    try {
      expect(await getJson(`${http.url}/readyz`)).toEqual({
        status: 503,
        body: { status: 'not ready', reason: 'migrations pending' },
      });
      expect((await getJson(`${http.url}/healthz`)).status).toBe(200);
      life.stopping = true;
      expect(await getJson(`${http.url}/readyz`)).toEqual({ status: 503, body: { status: 'stopping' } });
      expect((await getJson(`${http.url}/livez`)).status).toBe(200);
    } finally {
      await http.close(0);
      await life.probe.close();
      await adminQuery(adminUrl, `drop database if exists "${name}"`);
      await scratch.drop();
    }
  });
});

describe('start-up order', () => {
  it('a taken port fails the start before the database is touched (no migrations applied)', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const scratch = await createTestDatabase();
    const name = `dw_port_taken_${process.pid}`;
    await adminQuery(scratch.adminUrl, `drop database if exists "${name}"`);
    await adminQuery(scratch.adminUrl, `create database "${name}"`);
    const url = withDatabase(scratch.adminUrl, name);
    try {
      const config = loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent' });
      await expect(startApp({ config, logger: silent, baseDir: serverDir })).rejects.toMatchObject({
        code: 'EADDRINUSE',
        message: `port ${port} on 127.0.0.1 is already in use (set PORT, or HOST)`,
      });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        expect((await pendingMigrations(client)).length).toBeGreaterThan(0);
        const tables = await client.query(`select count(*) from pg_tables where schemaname = 'public'`);
        expect(tables.rows[0]).toEqual({ count: '0' });
      } finally {
        await client.end();
      }
    } finally {
      await new Promise((r) => blocker.close(r));
      await adminQuery(scratch.adminUrl, `drop database if exists "${name}"`);
      await scratch.drop();
    }
  });
});
