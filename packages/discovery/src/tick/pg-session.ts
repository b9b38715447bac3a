import { withPoolConnection, type MikroORM } from '@dropwatch/db';
import type pg from 'pg';

/** The slice of a pg client the tick uses: `$n` placeholders and native array parameters. */
export type PgClient = Pick<pg.ClientBase, 'query'>;

/**
 * Runs fn on one connection of the ORM's own pool. The hot path talks to pg directly: `$n`
 * placeholders, native array parameters and named prepared statements.
 */
export function withPgConnection<T>(orm: MikroORM, fn: (client: PgClient) => Promise<T>): Promise<T> {
  return withPoolConnection(orm.em, fn);
}
