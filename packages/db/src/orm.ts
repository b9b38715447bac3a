import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { ENTITIES } from './entities/index.js';

export { MikroORM };
/** A raw SQL fragment in an entity query or update (e.g. `raw('now()')`: the database's clock). */
export { raw } from '@mikro-orm/postgresql';
export type { EntityManager, Knex } from '@mikro-orm/postgresql';

/** A transaction left idle this long is ended by the server: the feed cursor waits on open ones. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

export interface OrmOptions {
  readonly databaseUrl: string;
  readonly poolMax?: number;
  /** Shows in pg_stat_activity. */
  readonly applicationName?: string;
  /** DATABASE_POOLER: 'transaction' when databaseUrl is a PgBouncer-style pooler in transaction mode. */
  readonly pooler?: DatabasePooler;
}

export type DatabasePooler = 'none' | 'transaction';

export function ormConfig(options: OrmOptions): Options {
  return {
    clientUrl: options.databaseUrl,
    entities: ENTITIES,
    forceUtcTimezone: true,
    // Never create a missing database (MikroORM's default): a mistyped DATABASE_URL must fail.
    ensureDatabase: false,
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    debug: false,
    pool: {
      min: 0,
      max: options.poolMax ?? 10,
      // Acquire fails instead of waiting forever when the pool is exhausted.
      acquireTimeoutMillis: 15_000,
      idleTimeoutMillis: 10_000,
    },
    driverOptions: {
      connection: {
        application_name: options.applicationName ?? 'dropwatch',
        // PgBouncer refuses a startup `options` parameter ("unsupported startup parameter"), and
        // a session setting would not follow the client across server connections anyway:
        // behind a pooler the limit is the pooler's idle_transaction_timeout (or the role's).
        ...(options.pooler === 'transaction'
          ? {}
          : { options: `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_TIMEOUT_MS}` }),
      },
    },
  };
}

export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormConfig(options));
}
