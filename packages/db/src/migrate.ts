import pg from 'pg';
import { Migrator } from '@mikro-orm/migrations';
import { migrationsList } from '@dropwatch/migrations';
import { MikroORM, ormConfig, type DatabasePooler } from './orm.js';
import { ensurePartitions } from './partitions.js';

/** Key of the session advisory lock that serializes migrations across replicas. */
const MIGRATION_LOCK_KEY = 7_240_001;

export interface MigrateResult {
  readonly applied: string[];
  readonly partitionsCreated: number;
}

export interface MigrateOptions {
  /**
   * Where the lock's session goes (DIRECT_DATABASE_URL): behind a transaction pooler a session
   * advisory lock stays on whichever server connection ran it, and the unlock may run on another.
   * Default: databaseUrl.
   */
  readonly lockUrl?: string;
  readonly pooler?: DatabasePooler;
}

/**
 * Applies pending migrations under a session advisory lock (held on a dedicated connection, so
 * replicas starting together wait for each other), then makes sure the day partitions exist.
 * The migrations themselves run through databaseUrl, each in a transaction (pooler-safe).
 */
export async function migrate(
  databaseUrl: string,
  premakeDays: number,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const lock = new pg.Client({
    connectionString: options.lockUrl ?? databaseUrl,
    application_name: 'dropwatch-migrate',
  });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    // Only this ORM carries the Migrator: every other one (the job workers' above all) is opened
    // without it, so their threads never load the migrator or the migration files.
    const orm = await MikroORM.init({
      ...ormConfig({
        databaseUrl,
        poolMax: 2,
        applicationName: 'dropwatch-migrate',
        pooler: options.pooler ?? 'none',
      }),
      extensions: [Migrator],
      migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    });
    try {
      const applied = await orm.getMigrator().up();
      const partitionsCreated = await ensurePartitions(orm.em.fork(), premakeDays);
      return { applied: applied.map((m) => m.name), partitionsCreated };
    } finally {
      await orm.close(true);
    }
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}

/** Where MikroORM records applied migrations (its default table name). */
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

/**
 * Migrations this build knows that the database has not recorded as applied, read on a client
 * the caller owns (readiness checks use their own connection, not the request pool). A database
 * never migrated has them all pending.
 */
export async function pendingMigrations(client: pg.ClientBase): Promise<string[]> {
  const names = migrationsList.map((m) => m.name);
  try {
    const { rows } = await client.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE} where name = any($1)`, [
      names,
    ]);
    const applied = new Set(rows.map((r) => r.name));
    return names.filter((n) => !applied.has(n));
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return names; // undefined_table
    throw err;
  }
}
