/**
 * The connection type of hand-written SQL, declared in the db package beside withPgClient (the one
 * way to run SQL on the pool). Kept as a re-export for the delivery channels, which import it
 * from here; new code imports it from `@dropwatch/db`.
 */
export type { PgClient } from '@dropwatch/db';
