import { hostname } from 'node:os';
import { RARITY_WINDOW_DAYS, type Config } from '@dropwatch/core';
import {
  compareCursors,
  dropProjection,
  encodeCursor,
  NOTIFICATIONS_CHANNEL,
  readNewDrops,
  startCursor,
  toDropDto,
  withPgClient,
  type DropCursor,
  type DropDto,
  type MikroORM,
  type NewDropRow,
  type PgClient,
} from '@dropwatch/db';
import type { Logger } from 'pino';
import { withLease } from '../job-leases.js';
import { recordJobRun } from '../job-runs.js';
import { channelEnv, type ChannelSettings } from '../delivery/channel-env.js';
import { DELIVERY_CHANNELS } from '../delivery/channels.js';
import { deliverDue, emptyDeliveryStats, type DeliveryOptions, type DeliveryStats } from '../delivery/deliver-due.js';
import { FANOUT_SQL } from './fanout-sql.js';
import {
  NOTIFY_BATCH_SIZE,
  NOTIFY_CURSOR_NAME,
  NOTIFY_INITIAL_LOOKBACK_MINUTES,
  NOTIFY_LEASE_NAME,
  NOTIFY_LEASE_TTL_MS,
  NOTIFY_MAX_BATCHES_PER_RUN,
} from './notify-limits.js';
import { normalizeVenueName } from './venue-name.js';

export interface NotifyOptions {
  readonly orm: MikroORM;
  /** The channels' settings (Telegram, SMTP, VAPID) default as the settings schema says. */
  readonly config: Pick<Config, 'NOTIFY_COOLDOWN_MINUTES' | 'WEBHOOK_ALLOW_PRIVATE'> & Partial<ChannelSettings>;
  readonly logger: Logger;
  /** Lease holder id (default host:pid). */
  readonly holder?: string;
  /** Drops per transaction (default NOTIFY_BATCH_SIZE). */
  readonly batchSize?: number;
  /** Delivery knobs of every channel (tests shorten the backoff). */
  readonly delivery?: Omit<DeliveryOptions, 'allowPrivate' | 'env'>;
  /** Skip the delivery pass (the benchmark times the fan-out alone). */
  readonly deliver?: boolean;
  /** Test seam: runs inside each batch transaction after the inserts, just before COMMIT. */
  readonly beforeCommit?: (db: PgClient) => Promise<void>;
  /** Write a job_runs row (default true). */
  readonly recordRun?: boolean;
}

export interface NotifyStats {
  status: 'ok' | 'skipped';
  heldBy?: string | null;
  batches: number;
  drops: number;
  matched: number;
  notifications: number;
  deliveriesQueued: number;
  /** Open drops fanned out again because they gained a party size (runResizedBatch). */
  resizedDrops: number;
  /** The delivery pass over every channel (DELIVERY_CHANNELS). */
  delivery: DeliveryStats;
  /** Another runner advanced the cursor first (its batch was rolled back here). */
  cursorRaces: number;
  cursor: string | null;
  durationMs: number;
  /** The pass stopped with work left (batch limit reached, or deliveries released): run again now. */
  more: boolean;
}

/** The job's cursor row, created on first use a few minutes back (NOTIFY_INITIAL_LOOKBACK_MINUTES). */
async function readCursor(db: PgClient): Promise<DropCursor> {
  const { rows } = await db.query<{ tx_id: string; id: string }>(
    'select tx_id::text, id::text from consumer_cursors where name = $1',
    [NOTIFY_CURSOR_NAME],
  );
  const row = rows[0];
  if (row) return { txId: BigInt(row.tx_id), id: BigInt(row.id) };
  const start = await startCursor(db, NOTIFY_INITIAL_LOOKBACK_MINUTES);
  await db.query(
    'insert into consumer_cursors (name, tx_id, id) values ($1, $2::xid8, $3) on conflict (name) do nothing',
    [NOTIFY_CURSOR_NAME, start.txId.toString(), start.id.toString()],
  );
  return readCursor(db);
}

interface BatchResult {
  readonly drops: number;
  readonly matched: number;
  readonly inserted: number;
  readonly deliveries: number;
  readonly cursor: DropCursor;
  readonly full: boolean;
  readonly raced: boolean;
}

/**
 * One batch, ONE transaction: read the drops after the cursor (the exactly-once query), advance
 * the cursor (guarded: only from the value read, so a concurrent runner makes this one roll back),
 * fan out to watchers, enqueue one outbox row per delivery channel, NOTIFY. A crash anywhere before COMMIT leaves nothing;
 * after it, everything -- so every notification exists exactly once.
 */
async function runBatch(db: PgClient, opts: NotifyOptions, batchSize: number): Promise<BatchResult> {
  await db.query('begin');
  try {
    const from = await readCursor(db);
    // The page is read before this transaction writes anything (it has no xid yet), so its own
    // xid never holds back the snapshot's xmin.
    const page = await readNewDrops(db, from, undefined, batchSize);
    if (compareCursors(page.cursor, from) === 0) {
      await db.query('rollback');
      return { drops: 0, matched: 0, inserted: 0, deliveries: 0, cursor: from, full: false, raced: false };
    }
    const moved = await db.query(
      `update consumer_cursors set tx_id = $2::xid8, id = $3, updated_at = now()
       where name = $1 and tx_id = $4::xid8 and id = $5`,
      [
        NOTIFY_CURSOR_NAME,
        page.cursor.txId.toString(),
        page.cursor.id.toString(),
        from.txId.toString(),
        from.id.toString(),
      ],
    );
    if (moved.rowCount !== 1) {
      await db.query('rollback');
      return { drops: 0, matched: 0, inserted: 0, deliveries: 0, cursor: from, full: false, raced: true };
    }
    const { matched, inserted, deliveries } = await fanOut(db, opts, page.rows, page.drops);
    await opts.beforeCommit?.(db);
    await db.query('commit');
    return {
      drops: page.rows.length,
      matched,
      inserted,
      deliveries,
      cursor: page.cursor,
      full: page.rows.length === batchSize,
      raced: false,
    };
  } catch (err) {
    await db.query('rollback').catch(() => undefined);
    throw err;
  }
}

/**
 * The fan-out of these drops (FANOUT_SQL) inside the caller's transaction, and the NOTIFY to the
 * notifications' listeners, delivered at COMMIT and only if the transaction commits.
 */
async function fanOut(
  db: PgClient,
  opts: NotifyOptions,
  rows: readonly { id: string; opened_minute: Date | string }[],
  drops: readonly DropDto[],
): Promise<{ matched: number; inserted: number; deliveries: number }> {
  if (rows.length === 0) return { matched: 0, inserted: 0, deliveries: 0 };
  const res = await db.query<{ matched: number; inserted: number; deliveries: number }>(FANOUT_SQL, [
    rows.map((r) => r.id),
    rows.map((r) => r.opened_minute),
    drops.map((d) => d.venue.id),
    drops.map((d) => normalizeVenueName(d.venue.name)),
    drops.map((d) => d.market),
    drops.map((d) => d.slotDate),
    drops.map((d) => d.slotTime),
    drops.map((d) => `{${d.partySizes.join(',')}}`),
    drops.map((d) => JSON.stringify(d)),
    opts.config.NOTIFY_COOLDOWN_MINUTES,
  ]);
  const out = {
    matched: res.rows[0]?.matched ?? 0,
    inserted: res.rows[0]?.inserted ?? 0,
    deliveries: res.rows[0]?.deliveries ?? 0,
  };
  if (out.inserted > 0) await db.query('select pg_notify($1, $2)', [NOTIFICATIONS_CHANNEL, String(out.inserted)]);
  return out;
}

/**
 * Open drops that gained a party size since they were fanned out (availability_state.resized,
 * set by the bucket diff), at most `limit`, in one transaction: their flags cleared and the drops
 * fanned out again. Watches that match only now are told; anyone told already is not again (the
 * unique key of user_notifications, and the per-venue cooldown). A drop closed meanwhile has no
 * row left, so nobody hears of a table that is gone.
 * -- availability_state_resized_idx; then drop_events_pkey within the drops' own minutes.
 */
async function runResizedBatch(
  db: PgClient,
  opts: NotifyOptions,
  limit: number,
): Promise<Omit<BatchResult, 'cursor' | 'raced'>> {
  await db.query('begin');
  try {
    const picked = await db.query<{ id: string; opened_minute: Date }>(
      `update availability_state a set resized = false
       from (select bucket_id, slot_key from availability_state where resized
             order by drop_event_id limit $1 for update skip locked) p
       where a.bucket_id = p.bucket_id and a.slot_key = p.slot_key
       returning a.drop_event_id::text as id, a.drop_opened_minute as opened_minute`,
      [limit],
    );
    const rows =
      picked.rows.length === 0
        ? []
        : (
            await db.query<NewDropRow>(
              `select d.opened_minute, ${dropProjection('$3')}
               from drop_events d left join venues v on v.venue_id = d.venue_id
               where d.id = any ($1::bigint[]) and d.opened_minute = any ($2::timestamptz[]) and d.closed_at is null`,
              [picked.rows.map((r) => r.id), picked.rows.map((r) => r.opened_minute), RARITY_WINDOW_DAYS],
            )
          ).rows;
    const { matched, inserted, deliveries } = await fanOut(db, opts, rows, rows.map(toDropDto));
    await db.query('commit');
    return {
      drops: rows.length,
      matched,
      inserted,
      deliveries,
      full: picked.rows.length === limit,
    };
  } catch (err) {
    await db.query('rollback').catch(() => undefined);
    throw err;
  }
}

/** Stats of a pass before it ran anything. */
export function emptyNotifyStats(): NotifyStats {
  return {
    status: 'ok',
    batches: 0,
    drops: 0,
    matched: 0,
    notifications: 0,
    deliveriesQueued: 0,
    resizedDrops: 0,
    delivery: emptyDeliveryStats(),
    cursorRaces: 0,
    cursor: null,
    durationMs: 0,
    more: false,
  };
}

/**
 * One fan-out pass WITHOUT the lease (the caller holds it): batches until the cursor is caught
 * up or NOTIFY_MAX_BATCHES_PER_RUN, then the open drops that gained a party size (runResizedBatch),
 * then due deliveries of every channel. Fills `stats` as it goes (so a failure
 * still reports what committed); `stats.more` says another pass has work right away.
 */
export async function runNotifyPass(
  opts: NotifyOptions,
  stats: NotifyStats = emptyNotifyStats(),
  pass: {
    /** Deliver only when this pass's fan-out queued deliveries; what falls due by time waits for another pass. */
    readonly deliverQueuedOnly?: boolean;
  } = {},
): Promise<NotifyStats> {
  const log = opts.logger;
  await withPgClient(opts.orm.em, async (db) => {
    for (let i = 0; i < NOTIFY_MAX_BATCHES_PER_RUN; i++) {
      const batch = await runBatch(db, opts, opts.batchSize ?? NOTIFY_BATCH_SIZE);
      stats.batches++;
      stats.drops += batch.drops;
      stats.matched += batch.matched;
      stats.notifications += batch.inserted;
      stats.deliveriesQueued += batch.deliveries;
      stats.cursor = encodeCursor(batch.cursor);
      if (batch.raced) stats.cursorRaces++;
      if (!batch.full) break;
      if (i === NOTIFY_MAX_BATCHES_PER_RUN - 1) stats.more = true; // stopped at the batch limit with a full last batch
    }
    // One index probe when, as nearly always, no open drop gained a size.
    const { rows } = await db.query<{ any: boolean }>(
      'select exists (select 1 from availability_state where resized) as any',
    );
    if (!rows[0]?.any) return;
    for (let i = 0; i < NOTIFY_MAX_BATCHES_PER_RUN; i++) {
      const batch = await runResizedBatch(db, opts, opts.batchSize ?? NOTIFY_BATCH_SIZE);
      stats.resizedDrops += batch.drops;
      stats.matched += batch.matched;
      stats.notifications += batch.inserted;
      stats.deliveriesQueued += batch.deliveries;
      if (!batch.full) return;
    }
    stats.more = true;
  });
  if (opts.deliver !== false && !(pass.deliverQueuedOnly && stats.deliveriesQueued === 0)) {
    stats.delivery = await withPgClient(opts.orm.em, (db) =>
      deliverDue(db, log, DELIVERY_CHANNELS, {
        ...opts.delivery,
        allowPrivate: opts.config.WEBHOOK_ALLOW_PRIVATE,
        env: channelEnv(opts.orm.em.fork(), opts.config),
      }),
    );
    // Released rows, or a claim that came back full: more is due now, not at the next sweep.
    if (stats.delivery.released > 0 || stats.delivery.fullClaims > 0) stats.more = true;
  }
  return stats;
}

/**
 * One notify run under the `notify` lease: a pass (runNotifyPass), skipped when
 * another holder has the lease. Writes one job_runs row. The long-lived worker
 * (runNotifyWorker) holds the lease itself and calls runNotifyPass.
 */
export async function runNotify(opts: NotifyOptions): Promise<NotifyStats> {
  const started = Date.now();
  const startedAt = new Date(started);
  const em = opts.orm.em.fork();
  const holder = opts.holder ?? `${hostname()}:${process.pid}`;
  const stats = emptyNotifyStats();
  const log = opts.logger.child({ job: 'notify' });
  try {
    const leased = await withLease(em, { name: NOTIFY_LEASE_NAME, holder, ttlMs: NOTIFY_LEASE_TTL_MS }, () =>
      runNotifyPass({ ...opts, logger: log }, stats),
    );
    if (!leased.ran) {
      stats.status = 'skipped';
      stats.heldBy = leased.heldBy;
    }
    stats.durationMs = Date.now() - started;
    if (opts.recordRun !== false) {
      await recordJobRun(em, { job: 'notify', startedAt, status: stats.status, stats: { ...stats } });
    }
    log.debug({ stats }, 'notify run');
    return stats;
  } catch (err) {
    stats.durationMs = Date.now() - started;
    if (opts.recordRun !== false) {
      await recordJobRun(em, {
        job: 'notify',
        startedAt,
        status: 'failed',
        stats: { ...stats },
        error: (err as Error).message,
      }).catch(() => undefined);
    }
    throw err;
  }
}
