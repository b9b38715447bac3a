/**
 * A PostgreSQL array literal for one bound parameter. MikroORM's `execute` (knex raw) expands a JS
 * array into a list of placeholders, so arrays travel as a literal cast in SQL: `?::text[]`.
 */
export function pgArray(values: readonly (string | number | bigint | boolean | null)[]): string {
  const items = values.map((v) => {
    if (v === null) return 'NULL';
    if (typeof v !== 'string') return String(v);
    return `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}
