/** Shared with the notify job's cursor queries: they live in @dropwatch/discovery (drop-cursor/). */
export { emExecuteRunner, emRunner, toPgPlaceholders, type SqlRunner } from '@dropwatch/discovery';

/** An int[] / date[] parameter as a Postgres array literal (knex would splice a JS array into a list). */
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.map((v) => String(v)).join(',')}}`;
}
