import pg from 'pg';
import { createOrm } from './orm.js';
import { ensurePartitions } from './partitions.js';

/** Key of the session advisory lock that serializes migrations across replicas. */
const MIGRATION_LOCK_KEY = 7_240_001;

export interface MigrateResult {
  readonly applied: string[];
  readonly partitionsCreated: number;
}

/**
 * Applies pending migrations under a session advisory lock (held on a dedicated connection, so
 * replicas starting together wait for each other), then makes sure the day partitions exist.
 */
export async function migrate(databaseUrl: string, premakeDays: number): Promise<MigrateResult> {
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: 'dropwatch-migrate' });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const orm = await createOrm({ databaseUrl, poolMax: 2, applicationName: 'dropwatch-migrate' });
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
