import { afterAll, beforeAll, inject } from 'vitest';
import { createOrm, type MikroORM } from '../orm.js';
import { cloneDatabase, dropDatabase, uniqueDatabaseName } from './admin.js';

export { freePort } from './free-port.js';
export { adminQuery } from './admin.js';
export { waitFor } from './wait-for.js';
export {
  PGBOUNCER_BIN,
  pgbouncerMissing,
  startPgBouncer,
  type PgBouncerHandle,
  type PgBouncerOptions,
} from './pgbouncer.js';
export {
  PG_BIN_DIR,
  replicaMissing,
  startPrimaryAndReplica,
  type ClusterHandle,
  type ReplicaPairHandle,
  type ReplicaPairOptions,
} from './replica.js';

export interface TestDatabase {
  /** URL of this test file's own database, cloned from the migrated template. */
  readonly url: string;
  readonly adminUrl: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the run's migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { adminUrl, template } = inject('dropwatchDb');
  const name = uniqueDatabaseName('dw_t');
  const url = await cloneDatabase(adminUrl, template, name);
  return { url, adminUrl, name, drop: () => dropDatabase(adminUrl, name) };
}

export interface TestDatabaseHandle {
  readonly db: TestDatabase;
  readonly orm: MikroORM;
}

/**
 * For a test file: its own database and ORM before all tests, both gone after. Access the
 * fields inside tests or hooks (they are set in beforeAll).
 */
export function useTestDatabase(options: { poolMax?: number } = {}): TestDatabaseHandle {
  const handle = {} as { db: TestDatabase; orm: MikroORM };
  beforeAll(async () => {
    handle.db = await createTestDatabase();
    handle.orm = await createOrm({ databaseUrl: handle.db.url, poolMax: options.poolMax ?? 10 });
  });
  afterAll(async () => {
    await handle.orm?.close(true);
    await handle.db?.drop();
  });
  return handle;
}
