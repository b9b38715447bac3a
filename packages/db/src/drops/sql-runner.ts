import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { withPoolConnection } from '../pool-connection.js';

/**
 * Runs one statement written with `?` placeholders and returns its rows. The API runs the feed
 * SQL through the ORM's connection pool; the benchmark runs the very same text
 * through a bare `pg` client via `toPgPlaceholders`.
 */
export type SqlRunner = <T extends object>(sql: string, params: readonly unknown[]) => Promise<T[]>;

/**
 * Runs on the ORM's own pool. Outside a transaction the statement goes straight to the pooled
 * `pg` connection with bind parameters; inside `em.transactional` it joins the transaction
 * through knex. MikroORM's `Connection.execute` would instead format every value into the SQL
 * text on the client and run the result through its logging and result layers: slower in most
 * cases of the `feed-reads` bench, which keeps that path as a variant.
 */
export function emRunner(em: EntityManager): SqlRunner {
  return async <T extends object>(sql: string, params: readonly unknown[]) => {
    const trx = em.getTransactionContext<Knex.Transaction>();
    if (trx) {
      const result = (await em
        .getKnex()
        .raw(sql, params as Knex.RawBinding[])
        .transacting(trx)) as { rows: T[] };
      return result.rows;
    }
    const result = await withPoolConnection(em, (c) => c.query<T>(toPgPlaceholders(sql), params as unknown[]));
    return result.rows;
  };
}

/** `?` → `$1, $2, …` (the feed SQL has no `?` operators or string literals containing one). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
