/** Shared with the notify job's cursor queries: they live in @dropwatch/discovery (drop-cursor/). */
export { emRunner, toPgPlaceholders, type SqlRunner } from '@dropwatch/discovery';

