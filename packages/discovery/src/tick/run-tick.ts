import type { Config } from '@dropwatch/core';
import { PartitionGuard, withPgClient, type MikroORM, type PgClient } from '@dropwatch/db';
import type { Logger } from 'pino';
import { recordDiscoveryRun } from '../discovery-run-stats.js';
import type { Provider, ProviderErrorCode } from '../providers/provider.js';
import type { ApplyContext } from './apply-snapshot.js';
import { ensureBuckets } from './ensure-buckets.js';
import { rebuildFeedCache } from './feed-cache.js';
import { pollBucket, type PickedBucket, type PollResult } from './poll-bucket.js';
import { VenueCache } from './venue-writes.js';

/** Due buckets read per tick at most. */
export const DUE_BUCKETS_LIMIT = 1_000;

export interface DiscoveryTickOptions {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly provider: Provider;
  readonly logger: Logger;
  /** The clock (tests pin it). */
  readonly now?: (() => Date) | undefined;
  /** Aborting stops starting new buckets; polls already running finish. */
  readonly signal?: AbortSignal | undefined;
  /** Test seam: runs inside each bucket transaction just before COMMIT. */
  readonly beforeCommit?: ApplyContext['beforeCommit'];
  /** Shared across ticks of one process (defaults to a process-wide one). */
  readonly venueCache?: VenueCache | undefined;
  /** Feed cache rebuild and NOTIFY (default true; the benchmark turns it off). */
  readonly rebuildFeed?: boolean | undefined;
}

export interface DiscoveryTickStats {
  bucketsCreated: number;
  bucketsDeleted: number;
  partitionsCreated: number;
  due: number;
  polled: number;
  applied: number;
  calibrating: number;
  suspect: number;
  /** Another engine held the bucket, or applied it first. */
  skipped: number;
  failed: number;
  providerErrors: Partial<Record<ProviderErrorCode, number>>;
  malformedHits: number;
  drops: number;
  closes: number;
  reopened: number;
  rowsWritten: number;
  /** Bucket transactions retried after a deadlock/serialization failure. */
  txRetries: number;
  /** Time inside bucket transactions, summed. */
  dbMs: number;
  durationMs: number;
  feedVersions: Record<string, number>;
}

const processVenueCache = new VenueCache();
const partitionGuards = new Map<number, PartitionGuard>();

/**
 * One round-robin discovery tick over every due bucket (the design before the continuous poller, kept as the reference of the detection bench and as the diff's test driver). Throws only when the tick itself cannot run
 * (database unreachable); a failing bucket is counted and logged, the others go on.
 */
export async function runDiscoveryTick(options: DiscoveryTickOptions): Promise<DiscoveryTickStats> {
  const { orm, config, logger, signal } = options;
  const clock = options.now ?? (() => new Date());
  const startedAt = clock();
  const t0 = performance.now();
  const stats: DiscoveryTickStats = {
    bucketsCreated: 0,
    bucketsDeleted: 0,
    partitionsCreated: 0,
    due: 0,
    polled: 0,
    applied: 0,
    calibrating: 0,
    suspect: 0,
    skipped: 0,
    failed: 0,
    providerErrors: {},
    malformedHits: 0,
    drops: 0,
    closes: 0,
    reopened: 0,
    rowsWritten: 0,
    txRetries: 0,
    dbMs: 0,
    durationMs: 0,
    feedVersions: {},
  };
  const ctx: ApplyContext = {
    config,
    venueCache: options.venueCache ?? processVenueCache,
    beforeCommit: options.beforeCommit,
  };
  try {
    let guard = partitionGuards.get(config.PARTITION_PREMAKE_DAYS);
    if (!guard)
      partitionGuards.set(config.PARTITION_PREMAKE_DAYS, (guard = new PartitionGuard(config.PARTITION_PREMAKE_DAYS)));
    stats.partitionsCreated = await guard.ensure(orm.em.fork(), startedAt);

    const due = await withPgClient(orm.em, async (client) => {
      const ensured = await ensureBuckets(client, config, startedAt);
      stats.bucketsCreated = ensured.created;
      stats.bucketsDeleted = ensured.deleted;
      stats.closes += ensured.pastDropsClosed;
      return dueBuckets(client, config, startedAt);
    });
    stats.due = due.length;

    let next = 0;
    const worker = async () => {
      while (next < due.length && !signal?.aborted) {
        const bucket = due[next++]!;
        count(await pollBucket({ ...options, clock }, ctx, bucket), stats);
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.DISCOVERY_CONCURRENCY, due.length) }, worker));

    if (options.rebuildFeed !== false) {
      stats.feedVersions = await withPgClient(orm.em, (client) =>
        rebuildFeedCache(client, config, clock(), { drops: stats.drops, closes: stats.closes }),
      );
    }
    stats.durationMs = Math.round(performance.now() - t0);
    stats.dbMs = Math.round(stats.dbMs * 10) / 10;
    await recordDiscoveryRun(orm.em.fork(), { startedAt, status: 'ok', stats: { ...stats } });
    logger.info(
      {
        polled: stats.polled,
        skipped: stats.skipped,
        failed: stats.failed,
        calibrating: stats.calibrating,
        suspect: stats.suspect,
        drops: stats.drops,
        closes: stats.closes,
        txRetries: stats.txRetries,
        providerErrors: stats.providerErrors,
        ms: stats.durationMs,
      },
      'discovery tick',
    );
    return stats;
  } catch (err) {
    stats.durationMs = Math.round(performance.now() - t0);
    const message = err instanceof Error ? err.message : String(err);
    await recordDiscoveryRun(orm.em.fork(), {
      startedAt,
      status: 'failed',
      stats: { ...stats },
      error: message,
    }).catch(() => undefined);
    throw err;
  }
}

/** Step 2: never scanned or cooled down, oldest first. -- uses discovery_buckets_scanned_at_idx */
async function dueBuckets(client: PgClient, config: Config, now: Date): Promise<PickedBucket[]> {
  const { rows } = await client.query<PickedBucket>(
    `select bucket_id, market, date::text as date, time_slot, scanned_at from discovery_buckets
     where market = any($1::text[])
       and (scanned_at is null or scanned_at <= $2::timestamptz - make_interval(secs => $3::int))
     order by scanned_at nulls first, bucket_id
     limit $4`,
    [config.DISCOVERY_MARKETS, now, config.DISCOVERY_BUCKET_COOLDOWN_SECONDS, DUE_BUCKETS_LIMIT],
  );
  return rows;
}

function count(result: PollResult, stats: DiscoveryTickStats): void {
  stats.polled++;
  if (result.kind === 'failed') {
    stats.failed++;
    stats.providerErrors[result.code] = (stats.providerErrors[result.code] ?? 0) + 1;
    return;
  }
  stats.malformedHits += result.stats.malformed;
  if (result.kind === 'db_failed') {
    stats.failed++;
    return;
  }
  const { outcome } = result;
  stats.dbMs += result.dbMs;
  stats.txRetries += outcome.retries;
  stats.rowsWritten += outcome.rowsWritten;
  switch (outcome.status) {
    case 'applied':
      stats.applied++;
      break;
    case 'calibrating':
      stats.calibrating++;
      break;
    case 'suspect':
      stats.suspect++;
      break;
    case 'locked':
    case 'stale':
      stats.skipped++;
      break;
  }
  stats.drops += outcome.drops.length;
  stats.closes += outcome.closes;
  stats.reopened += outcome.reopened;
}
