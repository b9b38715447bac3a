import type { ServerResponse } from 'node:http';
import { directDatabaseUrl, type Config } from '@dropwatch/core';
import { createOrm, describeDatabaseUrl, type MikroORM } from '@dropwatch/db';
import { migrate } from '@dropwatch/db/migrate';
import { PgDropListener, ReplicaReads } from '@dropwatch/api';
import { ensureFirstAdmin } from './auth/bootstrap-admin.js';
import { openDatabase, type DatabaseHandle } from './database.js';
import { dashboardRoutes } from './http/dashboard.js';
import { HealthProbe, healthRoutes, type Lifecycle } from './http/healthz.js';
import { createMetrics, handleMetrics } from './http/metrics.js';
import { createTrpcRoute, TRPC_PREFIX } from './http/trpc-route.js';
import { startHttpServer, type HttpServer, type Routes } from './http/server.js';
import type { Logger } from './logger.js';
import { createScheduler } from './scheduler/scheduler.js';

/** Shutdown must be over within this: jobs, HTTP, ORM and embedded Postgres included. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;
const HTTP_GRACE_MS = 3_000;
/** Running jobs get this long to finish on shutdown before their workers are terminated. */
const JOBS_STOP_TIMEOUT_MS = 6_000;

export interface AppOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Where relative paths (the embedded Postgres data dir) resolve. */
  readonly baseDir: string;
}

export interface App {
  readonly url: string;
  readonly orm: MikroORM;
  readonly databaseUrl: string;
  stop(): Promise<void>;
}

/** Starts the whole process: HTTP port, database, migrations, ORM, routes, jobs. Each step undone on failure. */
export async function startApp({ config, logger, baseDir }: AppOptions): Promise<App> {
  const undo: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const step of undo.reverse())
      await step().catch((err: unknown) => logger.error({ err }, 'shutdown step failed'));
  };
  const life: Lifecycle = { started: false, stopping: false, probe: undefined };
  try {
    // The port is bound before anything else: a taken port (EADDRINUSE) fails in milliseconds,
    // before Postgres starts, migrations run or a one-time admin token is printed into a start
    // that then fails. Until the rest is up, /livez answers and everything else says 'starting'.
    const routes: Routes = { ...healthRoutes(life) };
    const servesApi = config.DROPWATCH_ROLE !== 'worker';
    if (servesApi) routes[TRPC_PREFIX] = (_req, res) => sendStarting(res);
    const http: HttpServer = await startHttpServer(config.HOST, config.PORT, routes, logger);
    // Runs last on a failed start; a normal shutdown closes HTTP earlier, at its place below.
    undo.push(() => http.close(0));

    const db: DatabaseHandle = await openDatabase(config, logger, baseDir);
    undo.push(() => db.stop());

    // Behind a transaction pooler only the session-bound connections (the migration lock, LISTEN,
    // retention's DDL session) go to the primary directly; everything else through the pooler.
    const directUrl = directDatabaseUrl(config, db.url);
    const migrated = await migrate(db.url, config.PARTITION_PREMAKE_DAYS, {
      lockUrl: directUrl,
      pooler: config.DATABASE_POOLER,
    });
    logger.info(migrated, 'database migrated');

    const orm = await createOrm({ databaseUrl: db.url, poolMax: config.DB_POOL_MAX, pooler: config.DATABASE_POOLER });
    undo.push(() => orm.close(true));

    const probe = new HealthProbe(db.url, logger.child({ component: 'health' }));
    undo.push(() => probe.close());

    await ensureFirstAdmin(orm, config, logger);

    // The reads that tolerate replica lag go to READ_DATABASE_URL (API processes only). Its ORM
    // never sends startup options or named statements: reads are single autocommit statements,
    // so a pooler in front of the replica needs no setting.
    let replica: ReplicaReads | null = null;
    if (servesApi && config.READ_DATABASE_URL) {
      const readOrm = await createOrm({
        databaseUrl: config.READ_DATABASE_URL,
        poolMax: config.DB_POOL_MAX,
        pooler: 'transaction',
        applicationName: 'dropwatch-read',
      });
      undo.push(() => readOrm.close(true));
      const replicaLog = logger.child({ component: 'replica' });
      replica = new ReplicaReads(readOrm, {
        maxLagSeconds: config.READ_REPLICA_MAX_LAG_SECONDS,
        checkSeconds: config.READ_REPLICA_CHECK_SECONDS,
        onError: (err) =>
          replicaLog.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'read replica unreachable; its reads go to the primary',
          ),
      });
      await replica.start();
      const started = replica;
      undo.push(() => started.stop());
      logger.info({ database: describeDatabaseUrl(config.READ_DATABASE_URL), ...replica.status() }, 'read replica');
    }

    const metrics = createMetrics(orm, replica);
    routes['/metrics'] = (_req, res) => handleMetrics(metrics, res);
    // tRPC is served by `all` and `api` processes; a `worker` answers only health and /metrics.
    let closeSubscriptions = () => {};
    if (servesApi) {
      // ONE LISTEN connection per process; live subscribers and the feed.live cache hang off it.
      const drops = new PgDropListener(directUrl, logger.child({ component: 'listen' }));
      await drops.start();
      undo.push(() => drops.stop());
      const route = createTrpcRoute({ orm, config, logger, drops, metrics, replica });
      routes[TRPC_PREFIX] = (req, res) => route.handle(req, res);
      closeSubscriptions = () => route.closeSubscriptions();
      // The dashboard at / is a client of this API, served beside it.
      Object.assign(routes, dashboardRoutes());
    }
    undo.push(() => http.close(HTTP_GRACE_MS));
    // Runs before the HTTP close (undo runs in reverse): open SSE streams end first.
    undo.push(() => Promise.resolve(closeSubscriptions()));
    life.probe = probe;
    life.started = true;
    logger.info(
      { url: http.url, role: config.DROPWATCH_ROLE, ...(servesApi ? { dashboard: `${http.url}/` } : {}) },
      'dropwatch listening',
    );

    // Jobs run in `all` and `worker` processes; stopped first on shutdown (a running tick may finish).
    if (config.DROPWATCH_ROLE !== 'api') {
      const scheduler = createScheduler({
        config,
        databaseUrl: db.url,
        logger,
        onMessage: (m) => metrics.observeJobMessage(m.message),
      });
      undo.push(() => scheduler.stop(JOBS_STOP_TIMEOUT_MS));
      await scheduler.start();
    }

    let stopping: Promise<void> | undefined;
    return {
      url: http.url,
      orm,
      databaseUrl: db.url,
      stop: () => {
        life.stopping = true;
        return (stopping ??= unwind());
      },
    };
  } catch (err) {
    life.stopping = true;
    await unwind();
    throw err;
  }
}

function sendStarting(res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
  res.end(JSON.stringify({ status: 'starting' }));
}
