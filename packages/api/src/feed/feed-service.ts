import { AppError, compareForBoard } from '@dropwatch/core';
import type { Context } from '../context.js';
import { JUST_OPENED_MINUTES, ON_DROP_FALLBACK_POLL_MS, ON_DROP_PAGE } from '../limits.js';
import {
  encodeCursor,
  readNewDrops,
  startCursor,
  toDropDto,
  withPgClient,
  type DropCursor,
  type DropDto,
} from '@dropwatch/db';
import { queryBoard, queryOpenDrops, type FeedFilters } from './feed-queries.js';

/** The board's order, applied again in JS with the core comparator (rarity rounds in JS). */
export function rankBoard(drops: DropDto[]): DropDto[] {
  return drops
    .map((d) => ({ d, key: { rarity: d.rarity, openedAt: d.openedAt, venueName: d.venue.name } }))
    .sort((a, b) => compareForBoard(a.key, b.key))
    .map((x) => x.d);
}

function matches(drop: DropDto, f: FeedFilters): boolean {
  if (f.market && drop.market !== f.market) return false;
  if (f.dates && f.dates.length > 0 && !f.dates.includes(drop.slotDate)) return false;
  if (f.partySizes && f.partySizes.length > 0 && !drop.partySizes.some((p) => f.partySizes?.includes(p))) return false;
  return true;
}

/** A cursor no server of this database issued (see NewDropsResult.fromFuture). */
export function futureCursor(field: 'cursor' | 'lastEventId'): AppError {
  return new AppError(
    'BAD_INPUT',
    `${field}: ahead of every drop this server has recorded (made up, or from another database); start again without it`,
  );
}

/**
 * feed.live of a market this server does not poll would look like a quiet market: an empty
 * feed that never fills. Refused instead, naming the markets that are polled.
 */
function assertPolled(ctx: Context, market: string): void {
  const polled = ctx.config.DISCOVERY_MARKETS;
  if (!polled.includes(market as (typeof polled)[number])) {
    throw new AppError(
      'BAD_INPUT',
      `market: ${market} is not polled by this server (DISCOVERY_MARKETS: ${polled.join(', ')})`,
    );
  }
}

export interface LiveFeed {
  market: string;
  justOpened: DropDto[];
  stillOpen: DropDto[];
  board: DropDto[];
  lastScanAt: Date | null;
  nextScanAt: Date | null;
  builtAt: Date;
  version: number;
}

/**
 * feed.live: the market's feed_cache row with the filters applied to its segments (O(1) in
 * table size). With no cache row yet (a fresh install before the first tick), the same three
 * segments are read live, each bounded by the request's limit.
 */
export async function liveFeed(ctx: Context, f: FeedFilters & { limit: number }): Promise<LiveFeed> {
  const market = f.market ?? ctx.config.DISCOVERY_MARKETS[0] ?? 'nyc';
  assertPolled(ctx, market);
  const filters = { ...f, market };
  const { entry, lastScanAt } = await withPgClient(ctx.em, (db) => ctx.feedCache.read(db, market));
  const nextScanAt = lastScanAt ? new Date(lastScanAt.getTime() + ctx.config.DISCOVERY_TICK_SECONDS * 1000) : null;
  if (entry) {
    const pick = (list: DropDto[]) => {
      const out: DropDto[] = [];
      for (const d of list) {
        if (out.length >= f.limit) break;
        if (matches(d, filters)) out.push(d);
      }
      return out;
    };
    return {
      market,
      justOpened: pick(entry.segments.justOpened),
      stillOpen: pick(entry.segments.stillOpen),
      board: pick(entry.segments.board),
      lastScanAt,
      nextScanAt,
      builtAt: entry.builtAt,
      version: entry.version,
    };
  }
  const within = JUST_OPENED_MINUTES.default;
  // Three connections, so the segments are read side by side.
  const [justOpened, stillOpen, board] = await Promise.all([
    withPgClient(ctx.em, (db) =>
      queryOpenDrops(db, 'justOpened', filters, within, Math.min(f.limit, ctx.config.FEED_JUST_OPENED_CAP)),
    ),
    withPgClient(ctx.em, (db) =>
      queryOpenDrops(db, 'stillOpen', filters, within, Math.min(f.limit, ctx.config.FEED_STILL_OPEN_CAP)),
    ),
    withPgClient(ctx.em, (db) => queryBoard(db, filters, f.limit)),
  ]);
  return {
    market,
    justOpened: justOpened.map(toDropDto),
    stillOpen: stillOpen.map(toDropDto),
    board: rankBoard(board.map(toDropDto)),
    lastScanAt,
    nextScanAt,
    builtAt: new Date(),
    version: 0,
  };
}

export interface TrackedDrop {
  readonly id: string;
  readonly drop: DropDto;
}

/**
 * feed.onDrop's loop: read pages with the exactly-once query until caught up, then sleep until
 * a NOTIFY (or the fallback poll) and read again. Each drop carries its own cursor as its id, so
 * a client that reconnects with the last id it saw resumes exactly after it.
 */
export async function* dropStream(
  ctx: Context,
  opts: { market: string | undefined; from: DropCursor | null; signal: AbortSignal | undefined },
): AsyncGenerator<TrackedDrop, void, unknown> {
  // A connection per statement: the stream must not hold one while it sleeps.
  let cursor = opts.from ?? (await withPgClient(ctx.em, (db) => startCursor(db, undefined)));
  while (!opts.signal?.aborted) {
    // Register before reading, so a NOTIFY that lands during the read is not lost. (The LISTEN
    // side fires again once drops held back by an older open transaction become visible.)
    const woke = ctx.drops
      ? ctx.drops.wait(ON_DROP_FALLBACK_POLL_MS, opts.signal)
      : new Promise<void>((r) => setTimeout(r, ON_DROP_FALLBACK_POLL_MS));
    let full = true;
    while (full && !opts.signal?.aborted) {
      const from = cursor;
      const page = await withPgClient(ctx.em, (db) => readNewDrops(db, from, opts.market, ON_DROP_PAGE));
      if (page.fromFuture) throw futureCursor('lastEventId');
      for (const [i, drop] of page.drops.entries()) {
        const row = page.rows[i];
        if (!row) continue;
        yield { id: encodeCursor({ txId: BigInt(row.tx_id), id: BigInt(row.id) }), drop };
      }
      cursor = page.cursor;
      full = page.rows.length === ON_DROP_PAGE;
    }
    await woke;
  }
}
