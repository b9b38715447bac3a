import pg from 'pg';

/** How often waitForPostgres tries again. */
const POLL_MS = 25;

/** The process a harness started and now waits on (a PostgreSQL server, a PgBouncer). */
export interface StartingServer {
  /** What errors call it: `primary: postgres`, `PgBouncer`. */
  readonly name: string;
  /** Whether it has exited: then it will never answer, and waiting on stops at once. */
  exited(): boolean;
  /** Its log so far, for the error. */
  log(): string;
}

/**
 * Resolves once a fresh connection to `url` answers `select 1`: how a harness knows that the
 * server it started is ready (a listening port alone is not: PostgreSQL refuses queries while it
 * starts up). Fails as soon as the server has exited, else after `withinMs`, with the last
 * connection error and the server's log; stopping the server is the caller's.
 */
export async function waitForPostgres(url: string, withinMs: number, server: StartingServer): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (server.exited()) throw new Error(`${server.name} exited at start-up: ${server.log().trim()}`);
    const probe = new pg.Client({ connectionString: url });
    try {
      await probe.connect();
      await probe.query('select 1');
      await probe.end();
      return;
    } catch (err) {
      await probe.end().catch(() => undefined);
      if (Date.now() > deadline) {
        const reason = (err as Error).message;
        throw new Error(`${server.name} did not answer within ${withinMs} ms: ${reason}\n${server.log().trim()}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
