import pg from 'pg';
import type { Logger } from 'pino';
import { workerSessionName } from './replica-set.js';

/** A lost liveness session is reconnected at most this often. */
const RECONNECT_MS = 2_000;

/**
 * A discovery worker's liveness session: one idle connection straight to the primary, named after
 * its holder (workerSessionName), that the other workers look for in pg_stat_activity (see
 * ReplicaSet). It sends nothing once connected; when it is lost it is reconnected at the next
 * `keep()` after RECONNECT_MS. Whether it is there is judged by pg_stat_activity alone, by this
 * worker and the others alike, so they agree on who is live.
 */
export class WorkerSession {
  private client: pg.Client | undefined;
  private opening = false;
  private lastTry = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly holder: string,
    private readonly logger: Logger,
  ) {}

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Connects if not connected (and the last try is older than RECONNECT_MS); never throws. */
  async keep(): Promise<void> {
    if (this.client || this.opening || Date.now() - this.lastTry < RECONNECT_MS) return;
    this.opening = true;
    this.lastTry = Date.now();
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: workerSessionName(this.holder),
      // A session that cannot be told from a dead one is no help: find a silent peer within a minute.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5_000,
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.logger.warn(
        { err: err?.message },
        'discovery liveness session lost; this worker polls nothing until it is back',
      );
      client.end().catch(() => undefined);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      this.client = client;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'discovery liveness session could not connect');
      client.end().catch(() => undefined);
    } finally {
      this.opening = false;
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
