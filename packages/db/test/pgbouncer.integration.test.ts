import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsList } from '@dropwatch/migrations';
import { createOrm, withDatabase } from '../src/index.js';
import { migrate, pendingMigrations } from '../src/migrate.js';
import {
  adminQuery,
  createTestDatabase,
  pgbouncerMissing,
  startPgBouncer,
  type PgBouncerHandle,
  type TestDatabase,
} from '../src/testing/index.js';

const missing = pgbouncerMissing();

/**
 * dropwatch behind a real PgBouncer 1.18 in transaction mode: migrations through it (their lock
 * on the direct URL), and the two things that break there without DATABASE_POOLER=transaction.
 */
describe('behind PgBouncer in transaction mode', () => {
  let clone: TestDatabase;
  let emptyDb: string;
  let directUrl: string;
  let bouncer: PgBouncerHandle;

  beforeAll(async () => {
    // Run everywhere, never skipped: without the binary these fail and say what to install.
    if (missing !== undefined) throw new Error(missing);
    clone = await createTestDatabase();
    emptyDb = `dw_pgb_${process.pid}_${randomBytes(4).toString('hex')}`;
    await adminQuery(clone.adminUrl, `create database "${emptyDb}"`);
    directUrl = withDatabase(clone.adminUrl, emptyDb);
    // One server connection per database: every client shares it, as under load.
    bouncer = await startPgBouncer({ serverUrl: clone.adminUrl, databases: [emptyDb], poolSize: 1 });
  });
  afterAll(async () => {
    await bouncer?.stop();
    if (emptyDb) await adminQuery(clone.adminUrl, `drop database if exists "${emptyDb}" with (force)`);
    await clone?.drop();
  });

  it('is really a transaction pooler: a named statement of one client collides with another client', async () => {
    const a = new pg.Client({ connectionString: bouncer.url(emptyDb) });
    const b = new pg.Client({ connectionString: bouncer.url(emptyDb) });
    await a.connect();
    await b.connect();
    try {
      await a.query({ name: 'dw_probe', text: 'select 1' });
      await expect(b.query({ name: 'dw_probe', text: 'select 2' })).rejects.toThrow(
        /prepared statement "dw_probe" already exists/,
      );
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('refuses the startup options an unpooled ORM sends; the pooled ORM connects and queries', async () => {
    const unpooled = await createOrm({ databaseUrl: bouncer.url(emptyDb), poolMax: 1 });
    try {
      await expect(unpooled.em.fork().execute('select 1')).rejects.toThrow(/unsupported startup parameter: options/);
    } finally {
      await unpooled.close(true);
    }
    const pooled = await createOrm({ databaseUrl: bouncer.url(emptyDb), poolMax: 2, pooler: 'transaction' });
    try {
      expect(await pooled.em.fork().execute<{ one: number }[]>('select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      await pooled.close(true);
    }
  });

  it('migrates an empty database through the pooler, the lock held on the direct URL; twice at once applies each migration once', async () => {
    const opts = { lockUrl: directUrl, pooler: 'transaction' as const };
    const [first, second] = await Promise.all([
      migrate(bouncer.url(emptyDb), 3, opts),
      migrate(bouncer.url(emptyDb), 3, opts),
    ]);
    expect([...first.applied, ...second.applied].sort()).toEqual(migrationsList.map((m) => m.name).sort());
    const direct = new pg.Client({ connectionString: directUrl });
    await direct.connect();
    try {
      expect(await pendingMigrations(direct)).toEqual([]);
      const { rows } = await direct.query<{ n: string }>(
        `select count(*) as n from pg_inherits i join pg_class p on p.oid = i.inhparent where p.relname = 'drop_events'`,
      );
      expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(4);
      // The session lock was taken and released on the direct connection: nothing holds it now.
      const locks = await direct.query(
        `select 1 from pg_locks
         where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
      );
      expect(locks.rows).toEqual([]);
    } finally {
      await direct.end();
    }
  });
});
