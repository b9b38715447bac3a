import type { Config } from '@dropwatch/core';
import {
  tickStatements,
  SQL_CALIBRATE,
  SQL_EMPTY_CALIBRATION_POLL,
  SQL_RESIZE_DROPS,
  SQL_SUSPECT_POLL,
} from './bucket-sql.js';
import type { VenueInfo } from '../providers/provider.js';
import { SUSPECT_MIN_PREV, SUSPECT_SHRINK_RATIO } from '../suspect-rules.js';
import { DROPS_CHANNEL, FEED_CHANGES_CHANNEL, type PgClient } from '@dropwatch/db';
import { isPrimeTime, type PreparedSlot, type PreparedSnapshot } from './prepared-snapshot.js';
import { writeVenues, type VenueCache } from './venue-writes.js';

/** PostgreSQL errors worth one more try of the whole bucket transaction. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

export interface BucketToApply {
  readonly bucketId: string;
  readonly market: string;
  /**
   * scanned_at as the due query returned it (passed back verbatim and compared in SQL): if it
   * moved, another engine applied this poll.
   */
  readonly pickedScannedAt: Date | string | null;
  /**
   * When the snapshot's fetch began (default: the apply's `now`). Drops opened since, by the fast
   * lane, are not closed by it: it could not have seen them.
   */
  readonly fetchedFrom?: Date | undefined;
}

export type ApplyStatus = 'applied' | 'calibrating' | 'suspect' | 'locked' | 'stale';

export interface ApplyOutcome {
  readonly status: ApplyStatus;
  readonly drops: readonly { id: string; venueId: string }[];
  readonly closes: number;
  readonly reopened: number;
  /** Open drops that gained a party size (the notify job fans them out again). */
  readonly resized: number;
  readonly rowsWritten: number;
  /** Transactions retried after a deadlock or serialization failure. */
  readonly retries: number;
}

export interface ApplyContext {
  readonly config: Config;
  readonly venueCache: VenueCache;
  /** Test seam: runs inside the transaction just before COMMIT (fault injection). */
  readonly beforeCommit?: ((bucketId: string, client: PgClient) => Promise<void>) | undefined;
}

/**
 * Steps 3–6 for one bucket, in one short transaction on `client` (no network call inside):
 * advisory lock (skip if held), calibration or suspect guard or the diff, venues.
 * Retried once on a deadlock or serialization failure.
 */
export async function applySnapshot(
  client: PgClient,
  ctx: ApplyContext,
  bucket: BucketToApply,
  snap: PreparedSnapshot,
  now: Date,
): Promise<ApplyOutcome> {
  for (let attempt = 0; ; attempt++) {
    await client.query('begin');
    try {
      const result = await applyInTransaction(client, ctx, bucket, snap, now);
      if (result.status === 'locked' || result.status === 'stale') {
        await client.query('rollback');
        return { ...result, retries: attempt };
      }
      // Delivered at commit: the notify worker and the API's live feeds wake on it at once (a
      // resized drop is fanned out again, and the feeds show its new sizes).
      if (result.drops.length > 0 || result.resized > 0)
        await notifyDrops(client, bucket.bucketId, result.drops.length);
      else if (result.closes > 0 || result.reopened > 0 || ctx.venueCache.changesAny(result.venuesWritten)) {
        // Nothing new, but drops already served read differently now (closedAt, venue fields):
        // the API's feed.newDrops answer cache must not outlive this commit.
        await notifyFeedChanged(client, bucket.bucketId);
      }
      await ctx.beforeCommit?.(bucket.bucketId, client);
      await client.query('commit');
      ctx.venueCache.remember(result.venuesWritten, now);
      return { ...result, retries: attempt };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      const code = (err as { code?: unknown }).code;
      if (attempt === 0 && typeof code === 'string' && RETRYABLE_SQLSTATES.has(code)) continue;
      throw err;
    }
  }
}

/** NOTIFY dropwatch_drops from inside a bucket transaction (sent when it commits). */
export async function notifyDrops(client: PgClient, bucketId: string, drops: number): Promise<void> {
  await client.query('select pg_notify($1, $2)', [DROPS_CHANNEL, JSON.stringify({ bucket: bucketId, drops })]);
}

/** NOTIFY dropwatch_feed_changes (sent at commit): recorded drops or their venues changed. */
export async function notifyFeedChanged(client: PgClient, source: string): Promise<void> {
  await client.query('select pg_notify($1, $2)', [FEED_CHANGES_CHANNEL, source]);
}

type TxResult = Omit<ApplyOutcome, 'retries'> & { venuesWritten: readonly VenueInfo[] };

const nothing = (status: ApplyStatus): TxResult => ({
  status,
  drops: [],
  closes: 0,
  reopened: 0,
  resized: 0,
  rowsWritten: 0,
  venuesWritten: [],
});

async function applyInTransaction(
  client: PgClient,
  ctx: ApplyContext,
  bucket: BucketToApply,
  snap: PreparedSnapshot,
  now: Date,
): Promise<TxResult> {
  const { config } = ctx;
  const { rows } = await client.query<{
    locked: boolean;
    baseline_polls: number;
    suspect_polls: number;
    slot_count: number;
    unchanged: boolean | null;
  }>(tickStatements(config).lockAndReadBucket([bucket.bucketId, bucket.pickedScannedAt]));
  const row = rows[0];
  if (!row?.locked) return nothing('locked');
  if (!row.unchanged) return nothing('stale');

  const keys = snap.slots.map((s) => s.key);
  const venueIds = snap.slots.map((s) => s.venueId);
  const n = snap.slots.length;

  if (row.baseline_polls < config.DISCOVERY_BASELINE_POLLS) {
    // A baseline needs every party size: a partial snapshot waits for the complete next poll.
    if (snap.partial) return nothing('calibrating');
    if (n === 0) {
      await client.query(SQL_EMPTY_CALIBRATION_POLL, [bucket.bucketId, now]);
      return { ...nothing('calibrating'), rowsWritten: 1 };
    }
    const cal = await client.query<{ slot_rows: string }>(SQL_CALIBRATE, [
      bucket.bucketId,
      keys,
      venueIds,
      now,
      config.BUCKET_SLOT_CAP,
      config.DISCOVERY_BASELINE_POLLS,
    ]);
    const venues = ctx.venueCache.pick(snap.venues.values(), new Set(), now, config.VENUE_TOUCH_MINUTES);
    const venueRows = await writeVenues(client, bucket.market, venues, new Set(), now, config);
    return {
      ...nothing('calibrating'),
      rowsWritten: Number(cal.rows[0]?.slot_rows ?? 0) + 1 + venueRows,
      venuesWritten: venues,
    };
  }

  // A partial snapshot closes nothing, so an empty or shrunken one has nothing to be suspected of.
  const suspect =
    !snap.partial && (n === 0 || (row.slot_count >= SUSPECT_MIN_PREV && n < row.slot_count * SUSPECT_SHRINK_RATIO));
  if (suspect && row.suspect_polls === 0) {
    await client.query(SQL_SUSPECT_POLL, [bucket.bucketId, now]);
    return { ...nothing('suspect'), rowsWritten: 1 };
  }

  const ordinals = venueOrdinals(venueIds);
  const diff = await client.query<{
    kind: string;
    slot_key: string | null;
    event_id: string | null;
    minute: Date | string | null;
    n: string;
  }>(
    tickStatements(config).diffSlots([
      bucket.bucketId,
      int8Literal(keys),
      intLiteral(ordinals.ords),
      ordinals.venues,
      now,
      config.BUCKET_SLOT_CAP,
      bucket.fetchedFrom ?? now,
      snap.partial,
      intLiteral(snap.slots.map((s) => sizesMask(s.partySizes))),
    ]),
  );
  let rowsWritten = 0;
  const candidates: string[] = [];
  const closingIds: string[] = [];
  const closingMinutes: (Date | string)[] = [];
  const widened: WidenedDrop[] = [];
  for (const r of diff.rows) {
    if (r.kind === 'candidate' && r.slot_key !== null) candidates.push(r.slot_key);
    else if (r.kind === 'closing' && r.event_id !== null && r.minute !== null) {
      closingIds.push(r.event_id);
      closingMinutes.push(r.minute);
    } else if (r.kind === 'widened' && r.event_id !== null && r.minute !== null) {
      widened.push({ id: r.event_id, minute: r.minute, mask: Number(r.n) });
    } else if (r.kind === 'written') rowsWritten += Number(r.n);
  }
  const resized = await resizeDrops(client, widened, now);
  rowsWritten += resized;

  const drops: { id: string; venueId: string }[] = [];
  let closes = 0;
  let reopened = 0;
  if (candidates.length > 0 || closingIds.length > 0) {
    const cand = candidates.map((k) => snap.byKey.get(k)!);
    const res = await client.query<ApplyDropsRow>(
      applyDropsQuery(config, bucket, now, cand, closingIds, closingMinutes),
    );
    for (const r of res.rows) {
      if (r.kind === 'drop' && r.id !== null && r.venue_id !== null) drops.push({ id: r.id, venueId: r.venue_id });
      else if (r.kind === 'written') rowsWritten += Number(r.n);
      else if (r.kind === 'closed') closes = Number(r.n);
      else if (r.kind === 'reopened') reopened = Number(r.n);
    }
  }

  const dropped = new Set(drops.map((d) => d.venueId));
  const venues = ctx.venueCache.pick(snap.venues.values(), dropped, now, config.VENUE_TOUCH_MINUTES);
  rowsWritten += await writeVenues(client, bucket.market, venues, dropped, now, config);
  return { status: 'applied', drops, closes, reopened, resized, rowsWritten, venuesWritten: venues };
}

/** An open drop seen at a party size it was not recorded with: its id, partition minute and every size seen (mask). */
export interface WidenedDrop {
  readonly id: string;
  readonly minute: Date | string;
  readonly mask: number;
}

/** Gives the widened drops the party sizes of their masks (SQL_RESIZE_DROPS); returns how many changed. */
export async function resizeDrops(client: PgClient, widened: readonly WidenedDrop[], now: Date): Promise<number> {
  if (widened.length === 0) return 0;
  const minutes = widened.map((w) => w.minute);
  const res = await client.query(SQL_RESIZE_DROPS, [
    widened.map((w) => w.id),
    minutes,
    widened.map((w) => w.mask),
    ...minuteBounds(minutes, now),
  ]);
  return res.rowCount ?? 0;
}

/** Bit n set for each party size n (1–20). */
export function sizesMask(partySizes: readonly number[]): number {
  let mask = 0;
  for (const n of partySizes) mask |= 1 << n;
  return mask;
}

export interface ApplyDropsRow {
  readonly kind: string;
  readonly id: string | null;
  readonly venue_id: string | null;
  readonly n: string;
}

/** The drop statement (phase 2 of the diff) for these candidates and closing drops. */
export function applyDropsQuery(
  config: Config,
  bucket: { readonly bucketId: string; readonly market: string },
  now: Date,
  cand: readonly PreparedSlot[],
  closingIds: readonly string[],
  closingMinutes: readonly (Date | string)[],
) {
  return tickStatements(config).applyDrops([
    bucket.bucketId,
    bucket.market,
    now,
    config.DROP_DEDUPE_MINUTES,
    cand.map((c) => c.key),
    cand.map((c) => c.slotId),
    cand.map((c) => c.venueId),
    cand.map((c) => c.slotDate),
    cand.map((c) => c.slotTime),
    cand.map((c) => c.partySizes.join(',')),
    cand.map((c) => c.bookingUrl),
    cand.map((c) => isPrimeTime(c.slotTime)),
    closingIds,
    closingMinutes,
    ...minuteBounds(closingMinutes, now),
    cand.map((c) => sizesMask(c.partySizes)),
  ]);
}

/**
 * Array parameters of the hot statement, written as literals here: the driver's generic
 * array serializer (quoting every element) measured 2–3× slower at 5 000 elements.
 */
function int8Literal(keys: readonly string[]): string {
  return `{${keys.join(',')}}`;
}
const intLiteral = (values: readonly number[]): string => `{${values.join(',')}}`;

/** Each slot's venue as a 1-based ordinal into the distinct venue list (ships ~400 ids, not 5 000). */
function venueOrdinals(venueIds: readonly string[]): { ords: number[]; venues: string[] } {
  const index = new Map<string, number>();
  const venues: string[] = [];
  const ords = venueIds.map((id) => {
    let i = index.get(id);
    if (i === undefined) {
      venues.push(id);
      i = venues.length;
      index.set(id, i);
    }
    return i;
  });
  return { ords, venues };
}

/** Least and greatest opened_minute of the drops to close (now/now when none), for pruning. */
function minuteBounds(minutes: readonly (Date | string)[], now: Date): [Date, Date] {
  if (minutes.length === 0) return [now, now];
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of minutes) {
    const t = new Date(m).getTime();
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return [new Date(lo), new Date(hi)];
}
