import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withPgClient, type MikroORM } from '@dropwatch/db';
import { DISCOVERY_JOB, readDiscoveryRunStats } from '@dropwatch/discovery';
import type { ServerResponse } from 'node:http';
import type { CacheOutcome } from './live-response-cache.js';
import { RequestMetrics } from './request-metrics.js';

/** /metrics gives up on its database read after this (the process metrics still answer). */
export const METRICS_DB_TIMEOUT_MS = 2_000;
/** Provider errors are summed over the discovery runs of this window. */
const PROVIDER_ERROR_WINDOW_MINUTES = 60;
/** Discovery runs read for the provider-error sum at most. */
const PROVIDER_ERROR_RUNS_LIMIT = 500;
/** Buckets exported with their poll interval at most (5 markets × 14 days × 6 anchors). */
const BUCKET_INTERVALS_LIMIT = 420;

export interface HttpMetrics {
  readonly registry: Registry;
  /** `seconds` null: a stream (SSE subscription), counted but kept out of the latency histogram. */
  observeRequest(procedures: readonly string[], status: number, seconds: number | null): void;
  liveCache(result: CacheOutcome): void;
  readonly subscribers: Gauge;
  /** What a job posts to the main thread; the discovery worker's per-poll messages feed the counters. */
  observeJobMessage(message: unknown): void;
  /** Reads the database-derived gauges (bounded by METRICS_DB_TIMEOUT_MS). */
  collectFromDb(): Promise<void>;
}

interface ScrapeRow {
  /** job_runs.stats of the last finished discovery run (a DiscoveryRunStats). */
  last_stats: unknown;
  last_elapsed_seconds: number | null;
  /** providerErrors of each discovery run of the window. */
  recent_errors: unknown[] | string | null;
  cursor_lag_seconds: number | null;
  poll_intervals: Record<string, number> | string | null;
}

const parsedJson = <T>(v: T | string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/** What the discovery worker posts after each bucket poll (PollEvent of @dropwatch/discovery). */
interface PollMessage {
  readonly poll: {
    readonly lane?: 'bucket' | 'venue';
    readonly durationMs: number;
    readonly drops: number;
    readonly errorCode: string | null;
  };
}

const isPollMessage = (m: unknown): m is PollMessage => {
  const poll = (m as { poll?: Record<string, unknown> } | null)?.poll;
  return (
    typeof poll === 'object' && poll !== null && typeof poll.durationMs === 'number' && typeof poll.drops === 'number'
  );
};

/**
 * Prometheus metrics of one process, in their own registry (several apps can live in one test
 * process). Requests, latency and the discovery counters (drops, poll durations, provider
 * errors) count what THIS process did, from its worker's messages, so sum() over replicas adds
 * up. The gauges read at scrape time (last tick, cursor lag, bucket intervals) describe the
 * shared database, the same from every replica: aggregate them with max(), not sum().
 */
/** The read replica's state as /metrics shows it (ReplicaReads of @dropwatch/api). */
interface ReplicaGaugeSource {
  status(): { lagSeconds: number | null; onPrimary: boolean };
}

export function createMetrics(orm: MikroORM, replica?: ReplicaGaugeSource | null): HttpMetrics {
  const registry = new Registry();
  // Event-loop lag, heap, GC, CPU, file descriptors of this process. The lag is sampled every
  // 100 ms rather than prom-client's 10 ms: at 10 ms its timer woke an idle server's main thread a
  // hundred times a second, most of that thread's idle CPU, and lag under 100 ms is not what an
  // operator watches this gauge for.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const drops = new Counter({
    name: 'dropwatch_discovery_drops_total',
    help: 'Drops recorded by the bucket polls of this process',
    registers: [registry],
  });
  const pollDuration = new Histogram({
    name: 'dropwatch_discovery_poll_duration_seconds',
    help: 'Duration of the bucket polls of this process (provider calls and the diff)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const providerErrorsTotal = new Counter({
    name: 'dropwatch_provider_errors_total',
    help: 'Bucket polls of this process that failed at the provider, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const requests = new RequestMetrics(
    registry,
    { requests: 'dropwatch_http_requests_total', latency: 'dropwatch_http_request_duration_seconds' },
    {
      requests: 'tRPC requests by procedure and HTTP status (a batch counts once per procedure)',
      latency: 'tRPC request latency by procedure',
    },
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  const liveCache = new Counter({
    name: 'dropwatch_feed_live_cache_total',
    help: 'feed.live answers by serialized-response cache result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const subscribers = new Gauge({
    name: 'dropwatch_sse_subscribers',
    help: 'Open feed.onDrop subscriptions in this process',
    registers: [registry],
  });

  const tickSeconds = new Gauge({
    name: 'dropwatch_discovery_tick_duration_seconds',
    help: 'Duration of the last discovery tick',
    registers: [registry],
  });
  const tickDrops = new Gauge({
    name: 'dropwatch_discovery_last_tick_drops',
    help: 'Drops recorded by the last discovery tick',
    registers: [registry],
  });
  const tickCloses = new Gauge({
    name: 'dropwatch_discovery_last_tick_closes',
    help: 'Drops closed by the last discovery tick',
    registers: [registry],
  });
  const tickFailed = new Gauge({
    name: 'dropwatch_discovery_last_tick_buckets_failed',
    help: 'Buckets that failed in the last discovery tick',
    registers: [registry],
  });
  const providerErrors = new Gauge({
    name: 'dropwatch_provider_errors',
    help: `Provider errors by code over the last ${PROVIDER_ERROR_WINDOW_MINUTES} minutes of discovery runs`,
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const cursorLag = new Gauge({
    name: 'dropwatch_feed_cursor_lag_seconds',
    help: 'Age of the oldest open writing transaction: how far the exactly-once feed cursor lags',
    registers: [registry],
  });
  const requestRate = new Gauge({
    name: 'dropwatch_discovery_requests_per_second',
    help: 'Provider requests a second sent during the last discovery pass (all lanes)',
    registers: [registry],
  });
  const pollInterval = new Gauge({
    name: 'dropwatch_bucket_poll_interval_seconds',
    help: 'Seconds between the last two polls of each bucket (the poller polls busy buckets more often)',
    labelNames: ['bucket'] as const,
    registers: [registry],
  });
  if (replica) {
    // Measured by the process's own replica check (READ_REPLICA_CHECK_SECONDS), not at scrape time.
    new Gauge({
      name: 'dropwatch_replica_lag_seconds',
      help: 'Seconds the read replica (READ_DATABASE_URL) is behind the primary, as this process last measured; NaN when unknown',
      registers: [registry],
      collect() {
        this.set(replica.status().lagSeconds ?? Number.NaN);
      },
    });
    new Gauge({
      name: 'dropwatch_replica_reads_on_primary',
      help: "1 while the replica's reads go to the primary (lag over READ_REPLICA_MAX_LAG_SECONDS, or unreachable)",
      registers: [registry],
      collect() {
        this.set(replica.status().onPrimary ? 1 : 0);
      },
    });
  }
  const dbUp = new Gauge({
    name: 'dropwatch_metrics_db_up',
    help: '1 when the scrape could read the database',
    registers: [registry],
  });

  const collectFromDb = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('metrics query timed out')), METRICS_DB_TIMEOUT_MS);
    });
    try {
      // -- uses job_runs_job_started_idx (job, started_at desc) for both job_runs reads.
      // The stats are read whole and typed by the discovery run contract (readDiscoveryRunStats).
      const query = withPgClient(orm.em.fork(), (db) =>
        db.query<ScrapeRow>(
          `with last_tick as (
             select r.started_at, r.finished_at, r.stats from job_runs r
             where r.job = $1 and r.finished_at is not null
             order by r.started_at desc limit 1
           ), recent as (
             select r.stats from job_runs r
             where r.job = $1 and r.started_at > now() - make_interval(mins => $2)
             order by r.started_at desc limit $3
           )
           select
             (select stats from last_tick) as last_stats,
             (select extract(epoch from finished_at - started_at)::float8 from last_tick) as last_elapsed_seconds,
             (select coalesce(jsonb_agg(recent.stats -> 'providerErrors'), '[]'::jsonb) from recent) as recent_errors,
             (select coalesce(max(extract(epoch from now() - a.xact_start)), 0)::float8
                from pg_stat_activity a where a.backend_xid is not null) as cursor_lag_seconds,
             (select coalesce(jsonb_object_agg(b.bucket_id, b.poll_interval_seconds), '{}'::jsonb)
                from (select bucket_id, poll_interval_seconds from discovery_buckets
                      where poll_interval_seconds is not null order by bucket_id limit $4) b) as poll_intervals`,
          [DISCOVERY_JOB, PROVIDER_ERROR_WINDOW_MINUTES, PROVIDER_ERROR_RUNS_LIMIT, BUCKET_INTERVALS_LIMIT],
        ),
      );
      const {
        rows: [row],
      } = await Promise.race([query, timeout]);
      const last = readDiscoveryRunStats(row?.last_stats ?? null);
      const seconds = last.durationMs !== undefined ? last.durationMs / 1000 : (row?.last_elapsed_seconds ?? null);
      if (seconds != null) tickSeconds.set(Number(seconds));
      if (last.drops !== undefined) tickDrops.set(last.drops);
      if (last.closes !== undefined) tickCloses.set(last.closes);
      if (last.failed !== undefined) tickFailed.set(last.failed);
      providerErrors.reset();
      const errs = new Map<string, number>();
      for (const value of parsedJson(row?.recent_errors ?? null) ?? []) {
        for (const [code, n] of Object.entries(readDiscoveryRunStats({ providerErrors: value }).providerErrors ?? {}))
          errs.set(code, (errs.get(code) ?? 0) + n);
      }
      for (const [code, n] of errs) providerErrors.set({ code }, n);
      cursorLag.set(Number(row?.cursor_lag_seconds ?? 0));
      if (last.requests !== undefined && last.durationMs !== undefined && last.durationMs > 0)
        requestRate.set(last.requests / (last.durationMs / 1000));
      pollInterval.reset();
      const intervals = parsedJson(row?.poll_intervals ?? null);
      for (const [bucket, seconds] of Object.entries(intervals ?? {})) pollInterval.set({ bucket }, Number(seconds));
      dbUp.set(1);
    } catch {
      dbUp.set(0);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    registry,
    subscribers,
    observeRequest(procedures, status, seconds) {
      for (const procedure of procedures) requests.observe(procedure, status, seconds);
    },
    liveCache: (result) => liveCache.inc({ result }),
    observeJobMessage(message) {
      if (!isPollMessage(message)) return;
      const { poll } = message;
      // The histogram is of bucket polls; a fast-lane venue poll is one request, counted for its drops.
      if (poll.lane !== 'venue') pollDuration.observe(poll.durationMs / 1000);
      if (poll.drops > 0) drops.inc(poll.drops);
      if (poll.errorCode) providerErrorsTotal.inc({ code: poll.errorCode });
    },
    collectFromDb,
  };
}

export async function handleMetrics(metrics: HttpMetrics, res: ServerResponse): Promise<void> {
  await metrics.collectFromDb();
  const body = await metrics.registry.metrics();
  res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  res.end(body);
}
