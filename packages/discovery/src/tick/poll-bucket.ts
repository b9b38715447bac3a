import { getMarket, type Config } from '@dropwatch/core';
import { withPgClient, type MikroORM } from '@dropwatch/db';
import type { Logger } from 'pino';
import type { BudgetLane } from '../budget/request-budget.js';
import { ProviderError, type Provider, type ProviderErrorCode, type SnapshotStats } from '../providers/provider.js';
import { applySnapshot, type ApplyContext, type ApplyOutcome } from './apply-snapshot.js';
import { SQL_RECORD_ERROR } from './bucket-sql.js';
import { prepareSnapshot } from './prepared-snapshot.js';

/** last_error is cut to this length. */
const LAST_ERROR_MAX = 500;

/** A bucket as the poller picked it. */
export interface PickedBucket {
  readonly bucket_id: string;
  readonly market: string;
  readonly date: string;
  readonly time_slot: string;
  /** As the database returned or was last given it: passed back for the apply's stale check. */
  readonly scanned_at: Date | string | null;
  /** The budget lane its requests wait in (default `search`). */
  readonly lane?: BudgetLane | undefined;
  /** The bucket is calibrated: the provider may answer a partial snapshot (ProviderBucket.hasBaseline). */
  readonly hasBaseline?: boolean | undefined;
}

export type PollResult =
  | { readonly kind: 'failed'; readonly code: ProviderErrorCode; readonly polledAt: Date; readonly stats?: undefined }
  | { readonly kind: 'db_failed'; readonly polledAt: Date; readonly stats: SnapshotStats }
  | {
      readonly kind: 'done';
      readonly outcome: ApplyOutcome;
      readonly polledAt: Date;
      readonly stats: SnapshotStats;
      /** The earliest and latest venue-local minute of the day the snapshot's slots start at. */
      readonly minutes: readonly [number, number] | null;
      readonly dbMs: number;
    };

export interface PollBucketOptions {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly provider: Provider;
  readonly logger: Logger;
  readonly signal?: AbortSignal | undefined;
  readonly clock: () => Date;
}

/**
 * One poll of one bucket: the snapshot fetched outside any transaction (holding no connection),
 * then applied in one short transaction. A provider error is recorded on the bucket; nothing
 * else changes.
 */
export async function pollBucket(
  options: PollBucketOptions,
  ctx: ApplyContext,
  due: PickedBucket,
): Promise<PollResult> {
  const { orm, config, provider, logger, signal, clock } = options;
  const log = logger.child({ bucket: due.bucket_id });
  const bucket = {
    bucketId: due.bucket_id,
    market: getMarket(due.market),
    date: due.date,
    timeSlot: due.time_slot,
    lane: due.lane,
    hasBaseline: due.hasBaseline,
  };
  let snapshot;
  const fetchedFrom = clock();
  try {
    snapshot = await provider.fetchSnapshot(bucket, config.DISCOVERY_PARTY_SIZES, signal);
  } catch (err) {
    const perr = err instanceof ProviderError ? err : new ProviderError('upstream', 'provider failed unexpectedly');
    const polledAt = clock();
    if (signal?.aborted) return { kind: 'failed', code: perr.code, polledAt };
    log.warn({ code: perr.code, err: perr.message }, 'provider error');
    await withPgClient(orm.em, (client) =>
      client.query(SQL_RECORD_ERROR, [
        due.bucket_id,
        `${perr.code}: ${perr.message}`.slice(0, LAST_ERROR_MAX),
        polledAt,
      ]),
    ).catch((e: unknown) => log.error({ err: e }, 'could not record the provider error'));
    return { kind: 'failed', code: perr.code, polledAt };
  }
  const prepared = prepareSnapshot(provider.name, snapshot, config.BUCKET_SLOT_CAP);
  if (prepared.capped > 0)
    log.warn({ capped: prepared.capped, cap: config.BUCKET_SLOT_CAP }, 'snapshot over BUCKET_SLOT_CAP');
  const polledAt = clock();
  const t = performance.now();
  try {
    const outcome = await withPgClient(orm.em, (client) =>
      applySnapshot(
        client,
        ctx,
        { bucketId: due.bucket_id, market: due.market, pickedScannedAt: due.scanned_at, fetchedFrom },
        prepared,
        polledAt,
      ),
    );
    return {
      kind: 'done',
      outcome,
      polledAt,
      stats: snapshot.stats,
      minutes: minuteRange(prepared.slots),
      dbMs: performance.now() - t,
    };
  } catch (err) {
    log.error({ err }, 'bucket transaction failed');
    return { kind: 'db_failed', polledAt, stats: snapshot.stats };
  }
}

function minuteRange(slots: readonly { slotTime: string }[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of slots) {
    const m = Number(s.slotTime.slice(0, 2)) * 60 + Number(s.slotTime.slice(3, 5));
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  return lo === Infinity ? null : [lo, hi];
}
