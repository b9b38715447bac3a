import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';

/** What knex's client exposes of its pool (tarn) for taking one connection. */
interface KnexPoolClient {
  acquireConnection(): Promise<pg.ClientBase>;
  releaseConnection(connection: pg.ClientBase): Promise<unknown>;
}

/**
 * Runs fn on one `pg` connection of the ORM's own pool (no second pool per process; the pool's
 * size, timeouts and the ORM's type parsers apply). For hot statements that gain nothing from
 * the ORM's query layer: `$n` placeholders and native array parameters. A connection that broke
 * (terminated backend) is marked by knex and discarded by the pool on release.
 */
export async function withPoolConnection<T>(em: EntityManager, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = em.getKnex().client as KnexPoolClient;
  const connection = await client.acquireConnection();
  try {
    return await fn(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}
