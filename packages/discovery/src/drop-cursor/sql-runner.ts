import type { EntityManager } from '@dropwatch/db';

/**
 * Runs one statement written with `?` placeholders and returns its rows. The API runs the feed
 * SQL through the ORM's connection (knex-style `?`); the benchmark runs the very same text
 * through a bare `pg` client via `toPgPlaceholders`.
 */
export type SqlRunner = <T extends object>(sql: string, params: readonly unknown[]) => Promise<T[]>;

export function emRunner(em: EntityManager): SqlRunner {
  return <T extends object>(sql: string, params: readonly unknown[]) =>
    em.getConnection().execute<T[]>(sql, params as unknown[]);
}

/** `?` → `$1, $2, …` (the feed SQL has no `?` operators or string literals containing one). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
