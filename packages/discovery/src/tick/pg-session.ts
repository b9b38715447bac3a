import type { MikroORM } from '@dropwatch/db';
import type pg from 'pg';

/** The slice of a pg client the tick uses: `$n` placeholders and native array parameters. */
export type PgClient = Pick<pg.ClientBase, 'query'>;

interface KnexPoolClient {
  acquireConnection(): Promise<pg.ClientBase>;
  releaseConnection(connection: pg.ClientBase): Promise<unknown>;
}

/**
 * Runs fn on one connection of the ORM's own pool (no second pool per process). The hot path
 * talks to pg directly: knex's raw bindings would expand arrays into lists. A connection that
 * broke (terminated backend) is marked by knex and discarded by the pool on release.
 */
export async function withPgConnection<T>(orm: MikroORM, fn: (client: PgClient) => Promise<T>): Promise<T> {
  const client = orm.em.getConnection().getKnex().client as KnexPoolClient;
  const connection = await client.acquireConnection();
  try {
    return await fn(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}
