import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import type pg from 'pg';

/**
 * The slice of a `pg` connection that hand-written SQL uses: `$n` placeholders, native parameter
 * binding, named prepared statements. Every statement written by hand (hot paths and the
 * statements the ORM's query layer cannot express) goes through one of these, taken with
 * withPgClient.
 */
export type PgClient = Pick<pg.ClientBase, 'query'>;

/** What knex's client exposes of its pool (tarn) for taking one connection. */
interface KnexPoolClient {
  acquireConnection(): Promise<pg.ClientBase>;
  releaseConnection(connection: pg.ClientBase): Promise<unknown>;
}

/**
 * Runs fn on one `pg` connection of the ORM's own pool (no second pool per process; the pool's
 * size, timeouts and the ORM's type parsers apply) and gives it back afterwards. Inside
 * `em.transactional` it is the transaction's own connection (knex's transaction client hands out
 * the connection it holds and ignores the release), so the statements join the transaction. A
 * connection that broke (terminated backend) is marked by knex and discarded by the pool on
 * release.
 *
 * MikroORM's `Connection.execute` would instead format every value into the SQL text on the
 * client and run the result through its logging and result layers: slower in most cases of the
 * `feed-reads` bench, which keeps that path as a variant.
 */
export async function withPgClient<T>(em: EntityManager, fn: (client: PgClient) => Promise<T>): Promise<T> {
  const trx = em.getTransactionContext<Knex.Transaction>();
  const client = (trx ?? em.getKnex()).client as KnexPoolClient;
  const connection = await client.acquireConnection();
  try {
    return await fn(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Bind parameters of a statement assembled from pieces (optional filters): `add(value)` appends
 * the value and returns its placeholder, so each `$n` is numbered where its value is pushed and
 * the pieces may be written in any order.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
