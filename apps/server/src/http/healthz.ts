import type { ServerResponse } from 'node:http';
import pg from 'pg';
import { pendingMigrations } from '@dropwatch/db/migrate';
import type { Logger } from '../logger.js';
import type { Routes } from './server.js';

/** A health check answers within this, whatever the database does. */
export const HEALTHZ_TIMEOUT_MS = 2_000;

export interface ProbeResult {
  /** The database answered a round trip. */
  readonly database: boolean;
  /** Every migration this build knows is applied. */
  readonly migrated: boolean;
}

/**
 * Health checks on a connection of their own: behind the request pool, a probe waited its turn
 * under ordinary read load and a healthy process answered 503. One connection, opened on first
 * use and again after it broke; concurrent probes share the check in flight (one client never
 * runs two queries at once).
 */
export class HealthProbe {
  private client: pg.Client | undefined;
  private inFlight: Promise<ProbeResult> | undefined;
  private healthy = true;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  check(): Promise<ProbeResult> {
    this.inFlight ??= this.run().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async run(): Promise<ProbeResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`database did not answer within ${HEALTHZ_TIMEOUT_MS} ms`)),
        HEALTHZ_TIMEOUT_MS,
      );
    });
    try {
      const pending = await Promise.race([this.query(), timeout]);
      if (!this.healthy) this.logger.info('health check: database reachable again');
      this.healthy = true;
      return { database: true, migrated: pending.length === 0 };
    } catch (err) {
      // The raw error (host names, database names, server text) goes to the log, never to the
      // anonymous caller; logged once per outage, not once per probe.
      if (this.healthy) this.logger.error({ err }, 'health check: database unreachable');
      this.healthy = false;
      this.drop();
      return { database: false, migrated: false };
    } finally {
      clearTimeout(timer);
    }
  }

  private async query(): Promise<string[]> {
    if (this.closed) throw new Error('health probe closed');
    if (!this.client) {
      const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'dropwatch-health' });
      // A broken connection is replaced at the next check; the error itself is handled there.
      client.on('error', () => this.drop());
      this.client = client;
      await client.connect();
    }
    return pendingMigrations(this.client);
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
  }
}

/** Where the process is in its life, for /readyz. */
export interface Lifecycle {
  /** Database up, migrations applied, routes installed. */
  started: boolean;
  /** Set the moment shutdown begins: a load balancer stops sending traffic at once. */
  stopping: boolean;
  probe: HealthProbe | undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * /livez: the process and its event loop are alive (no database: a restart would not fix one).
 * /healthz: a database round trip. /readyz: database reachable, migrations applied and not
 * shutting down. Answers carry a short fixed reason, never the database's error text.
 */
export function healthRoutes(life: Lifecycle): Routes {
  return {
    '/livez': (_req, res) => send(res, 200, { status: 'ok' }),
    '/healthz': async (_req, res) => {
      if (!life.probe) return send(res, 503, { status: 'starting' });
      const result = await life.probe.check();
      if (result.database) send(res, 200, { status: 'ok' });
      else send(res, 503, { status: 'down', reason: 'database unreachable' });
    },
    '/readyz': async (_req, res) => {
      if (life.stopping) return send(res, 503, { status: 'stopping' });
      if (!life.started || !life.probe) return send(res, 503, { status: 'starting' });
      const result = await life.probe.check();
      if (life.stopping) return send(res, 503, { status: 'stopping' });
      if (!result.database) return send(res, 503, { status: 'not ready', reason: 'database unreachable' });
      if (!result.migrated) return send(res, 503, { status: 'not ready', reason: 'migrations pending' });
      send(res, 200, { status: 'ready' });
    },
  };
}
