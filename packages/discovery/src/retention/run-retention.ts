import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { AppError } from '@dropwatch/core';
import type { EntityManager, MikroORM } from '@dropwatch/db';
import { withLease } from '../job-leases.js';
import { recordJobRun } from '../job-runs.js';
import { notifyFeedChanged } from '../tick/apply-snapshot.js';
import { BATCHED_DELETES, countBatched, deleteInBatches } from './batched-deletes.js';
import { retentionCutoffs, type RetentionCutoffs } from './cutoffs.js';
import {
  countRows,
  ensureDayPartitions,
  listDayPartitions,
  partitionsToRemove,
  removeDayPartition,
  type DayPartitionedTable,
} from './day-partitions.js';
import { countPastBuckets, deletePastBuckets } from './past-buckets.js';
import { RETENTION_JOB, RETENTION_LEASE_TTL_MS, type RetentionConfig } from './retention-config.js';
import { isRetryableLockError, openRetentionSession, type RetentionSession } from './retention-session.js';

export const RETENTION_TABLES = [
  'drop_events',
  'user_notifications',
  'venue_metrics',
  'venues',
  'job_runs',
  'webhook_deliveries',
  'stream_tickets',
  'destinations',
  'discovery_buckets',
  'bucket_slots',
  'availability_state',
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];
export type RetentionCounts = Record<RetentionTable, number>;

/** Where retention gets its database: an ORM, or an EntityManager (it forks its own). */
export type RetentionSource = ({ readonly orm: MikroORM } | { readonly em: EntityManager }) & {
  /**
   * Where retention's own session goes (DIRECT_DATABASE_URL): its `SET lock_timeout` and
   * `DETACH … CONCURRENTLY` need one session, which a transaction pooler does not give.
   * Default: the ORM's URL.
   */
  readonly directDatabaseUrl?: string | undefined;
};

export type RetentionOptions = RetentionSource & {
  readonly config: RetentionConfig;
  readonly logger?: Logger;
  /** The instant the cutoffs are computed from (tests); defaults to the current time. */
  readonly now?: Date;
  /** Shown to a second caller as `heldBy`, e.g. "job@host:pid" or "prune.now:<user>". */
  readonly holder?: string;
  /** Checked between steps and batches: an aborted run stops early and fails. */
  readonly signal?: AbortSignal;
  readonly lockTimeoutMs?: number;
};

export interface RetentionStats {
  readonly status: 'ok';
  readonly jobRunId: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  /** Rows removed per table (drop_events/user_notifications: rows of the dropped partitions). */
  readonly deleted: RetentionCounts;
  readonly dropsClosed: number;
  readonly partitions: { readonly created: number; readonly dropped: string[]; readonly finalized: string[] };
  /** Statements retried after a lock timeout, deadlock or serialization failure. */
  readonly lockRetries: number;
  readonly cutoffs: RetentionCutoffs;
}

export interface RetentionAlreadyRunning {
  readonly status: 'already_running';
  readonly heldBy: string | null;
}

export type RetentionResult = RetentionStats | RetentionAlreadyRunning;

export interface RetentionPreview {
  readonly cutoffs: RetentionCutoffs;
  /** What runRetention would remove now, per table: the same predicates, counted. */
  readonly wouldDelete: RetentionCounts;
  readonly dropsToClose: number;
  readonly partitionsToDrop: string[];
}

const SILENT = pino({ level: 'silent' });

function forkEm(source: RetentionSource): EntityManager {
  return 'orm' in source ? source.orm.em.fork() : source.em.fork();
}

function sessionUrlOf(source: RetentionSource, em: EntityManager): string {
  const url = source.directDatabaseUrl ?? em.config.get('clientUrl');
  if (!url) throw new Error('retention needs an ORM configured with clientUrl');
  return url;
}

export function defaultRetentionHolder(role: string): string {
  return `${role}@${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

const zeroCounts = (): RetentionCounts => Object.fromEntries(RETENTION_TABLES.map((t) => [t, 0])) as RetentionCounts;

function partitionPlan(cutoffs: RetentionCutoffs): [DayPartitionedTable, string][] {
  return [
    ['drop_events', cutoffs.dropEventsKeepFromDay],
    ['user_notifications', cutoffs.notificationsKeepFromDay],
  ];
}

/**
 * The retention pass — the daily job and `prune.now` both call this. Runs under the
 * `retention` lease: a second caller (another replica, the job vs prune.now) gets
 * `{ status: 'already_running', heldBy }` at once instead of waiting. Writes one job_runs row.
 */
export async function runRetention(options: RetentionOptions): Promise<RetentionResult> {
  const em = forkEm(options);
  const holder = options.holder ?? defaultRetentionHolder('retention');
  const logger = (options.logger ?? SILENT).child({ job: RETENTION_JOB, holder });
  const leased = await withLease(em, { name: RETENTION_JOB, holder, ttlMs: RETENTION_LEASE_TTL_MS }, () =>
    retentionPass(em, options, logger),
  );
  if (leased.ran) return leased.value;
  logger.info({ heldBy: leased.heldBy }, 'retention already running elsewhere');
  return { status: 'already_running', heldBy: leased.heldBy };
}

async function retentionPass(em: EntityManager, options: RetentionOptions, logger: Logger): Promise<RetentionStats> {
  const { config, signal } = options;
  const startedAt = new Date();
  const t0 = performance.now();
  const cutoffs = retentionCutoffs(config, options.now ?? startedAt);
  const deleted = zeroCounts();
  const partitions = { created: 0, dropped: [] as string[], finalized: [] as string[] };
  const stuck: string[] = [];
  let dropsClosed = 0;
  let session: RetentionSession | undefined;
  const snapshot = () => ({
    deleted,
    dropsClosed,
    partitions,
    stuckPartitions: stuck,
    lockRetries: session?.retries ?? 0,
    durationMs: Math.round(performance.now() - t0),
    cutoffs,
  });

  try {
    session = await openRetentionSession({
      databaseUrl: sessionUrlOf(options, em),
      logger,
      lockTimeoutMs: options.lockTimeoutMs,
    });

    partitions.created = await ensureDayPartitions(session, cutoffs.partitionsFromDay, cutoffs.partitionsToDay);

    for (const [table, keepFromDay] of partitionPlan(cutoffs)) {
      const all = await listDayPartitions(session.client, table);
      for (const p of all) {
        if (p.state !== 'attached' && p.day >= keepFromDay) {
          logger.warn({ partition: p.name, state: p.state }, 'partition inside the retention window is not attached');
        }
      }
      for (const p of partitionsToRemove(all, keepFromDay)) {
        signal?.throwIfAborted();
        try {
          const removed = await removeDayPartition(session, p);
          logger.debug({ partition: removed.name, rows: removed.rows, ms: removed.ms }, 'partition removed');
          deleted[table] += removed.rows;
          partitions.dropped.push(removed.name);
          if (removed.finalized) partitions.finalized.push(removed.name);
        } catch (err) {
          // Still locked after every retry: go on with the rest; the next run finishes it
          // (FINALIZE if it was left pending detach). The run reports failure below.
          if (!isRetryableLockError(err)) throw err;
          stuck.push(p.name);
          logger.warn({ partition: p.name, err }, 'partition stayed locked; left for the next run');
        }
      }
    }

    // Drops of removed partitions may sit in a cached feed.newDrops answer (a page far behind).
    if (partitions.dropped.length > 0) await notifyFeedChanged(session.client, RETENTION_JOB);

    for (const spec of BATCHED_DELETES) {
      deleted[spec.table] = await deleteInBatches(session, spec, cutoffs, config.PRUNE_BATCH_SIZE, signal);
    }

    const past = await deletePastBuckets(session, cutoffs, signal);
    deleted.discovery_buckets = past.discovery_buckets;
    deleted.bucket_slots = past.bucket_slots;
    deleted.availability_state = past.availability_state;
    dropsClosed = past.dropsClosed;

    if (stuck.length > 0) {
      throw new AppError(
        'BUSY',
        `retention could not remove ${stuck.length} partition(s) within the lock timeout; the next run will`,
      );
    }
  } catch (err) {
    // Recording the failure must not hide it (the database may be what failed).
    await recordJobRun(em, {
      job: RETENTION_JOB,
      startedAt,
      status: 'failed',
      stats: snapshot(),
      error: err instanceof Error ? err.message : String(err),
    }).catch((recordErr: unknown) => logger.error({ err: recordErr }, 'could not record the failed retention run'));
    logger.error({ err, ...snapshot() }, 'retention failed');
    throw err;
  } finally {
    // Closed drops, removed venues and metrics: the API's answer cache starts over (also after a
    // failed run, which may have removed some of them).
    if (session) await notifyFeedChanged(session.client, RETENTION_JOB).catch(() => undefined);
    await session?.close().catch(() => undefined);
  }

  const stats = snapshot();
  const jobRunId = await recordJobRun(em, { job: RETENTION_JOB, startedAt, status: 'ok', stats });
  logger.info(stats, 'retention done');
  return {
    status: 'ok',
    jobRunId,
    startedAt,
    durationMs: stats.durationMs,
    deleted,
    dropsClosed,
    partitions,
    lockRetries: stats.lockRetries,
    cutoffs,
  };
}

/** What runRetention would delete now, per table, without deleting anything. */
export async function previewRetention(
  options: RetentionSource & { readonly config: RetentionConfig; readonly now?: Date; readonly logger?: Logger },
): Promise<RetentionPreview> {
  const em = forkEm(options);
  const cutoffs = retentionCutoffs(options.config, options.now ?? new Date());
  const session = await openRetentionSession({
    databaseUrl: sessionUrlOf(options, em),
    logger: options.logger ?? SILENT,
  });
  try {
    const wouldDelete = zeroCounts();
    const partitionsToDrop: string[] = [];
    for (const [table, keepFromDay] of partitionPlan(cutoffs)) {
      for (const p of partitionsToRemove(await listDayPartitions(session.client, table), keepFromDay)) {
        wouldDelete[table] += await countRows(session.client, p.name);
        partitionsToDrop.push(p.name);
      }
    }
    for (const spec of BATCHED_DELETES) wouldDelete[spec.table] = await countBatched(session, spec, cutoffs);
    const past = await countPastBuckets(session, cutoffs);
    wouldDelete.discovery_buckets = past.discovery_buckets;
    wouldDelete.bucket_slots = past.bucket_slots;
    wouldDelete.availability_state = past.availability_state;
    return { cutoffs, wouldDelete, dropsToClose: past.dropsClosed, partitionsToDrop };
  } finally {
    await session.close();
  }
}
