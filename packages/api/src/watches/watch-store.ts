import { AppError } from '@dropwatch/core';
import { MAX_WATCHES_PER_USER, normalizeVenueName } from '@dropwatch/discovery';
import { Watch, type EntityManager, type WatchRow } from '@dropwatch/db';
import type { WatchAddInput, WatchDto } from '../routers/watches.schemas.js';

/*
 * A user's watches are a small aggregate (at most MAX_WATCHES_PER_USER), read and written once per
 * request: not a hot path, so they go through the Watch entity (notify's matching, which is one,
 * reads them with its own SQL).
 */

/** The watch fields the API shows, and the venue key that makes a watch unique per user. */
const WATCH_FIELDS = [
  'id',
  'kind',
  'venueId',
  'venueName',
  'venueKey',
  'market',
  'partySize',
  'dateFrom',
  'dateTo',
  'timeFrom',
  'timeTo',
  'createdAt',
] as const;

type WatchFields = Pick<WatchRow, (typeof WATCH_FIELDS)[number]>;

export function toWatchDto(w: WatchFields): WatchDto {
  return {
    id: w.id,
    kind: w.kind,
    venueId: w.venueId ?? null,
    venueName: w.venueName ?? null,
    market: w.market ?? null,
    partySize: w.partySize ?? null,
    dateFrom: w.dateFrom ?? null,
    dateTo: w.dateTo ?? null,
    timeFrom: w.timeFrom ?? null,
    timeTo: w.timeTo ?? null,
    createdAt: w.createdAt,
  };
}

/**
 * The user's watches, oldest first, read through the entity's query builder: rows mapped to the
 * entity's properties without becoming managed entities. Nothing here changes them, so the
 * identity map and change tracking would cost a list of up to 50 rows a good part of its time
 * and give nothing back.
 */
async function userWatches(em: EntityManager, userId: string): Promise<WatchFields[]> {
  return em
    .createQueryBuilder(Watch)
    .select([...WATCH_FIELDS])
    .where({ userId })
    .orderBy({ id: 'asc' })
    .limit(MAX_WATCHES_PER_USER)
    .execute<WatchFields[]>('all', true);
}

/** The user's watch of one venue key, if any. */
async function userWatch(em: EntityManager, userId: string, venueKey: string): Promise<WatchFields | null> {
  const [row] = await em
    .createQueryBuilder(Watch)
    .select([...WATCH_FIELDS])
    .where({ userId, venueKey })
    .limit(1)
    .execute<WatchFields[]>('all', true);
  return row ?? null;
}

/** The caller's watches, oldest first. */
export async function listWatches(em: EntityManager, userId: string): Promise<WatchDto[]> {
  return (await userWatches(em, userId)).map(toWatchDto);
}

/** The venue key of the unique (user_id, venue_key) constraint, as the generated column computes it. */
const venueKeyOf = (venueId: string | null, venueName: string | null) => venueId ?? `name:${venueName ?? ''}`;

/**
 * Adds a watch, or returns the caller's watch of the same venue as it is (`created: false`).
 * Refuses past MAX_WATCHES_PER_USER.
 */
export async function addWatch(
  em: EntityManager,
  userId: string,
  input: WatchAddInput,
): Promise<{ watch: WatchDto; created: boolean }> {
  const venueName = input.venueName === undefined ? null : normalizeVenueName(input.venueName);
  if (venueName === '') throw new AppError('BAD_INPUT', 'venueName is empty once normalized');
  const venueId = input.venueId ?? null;
  const venueKey = venueKeyOf(venueId, venueName);
  return em.transactional(async (tx) => {
    // Serializes one user's adds, so the limit check and the insert cannot interleave.
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`dropwatch_watches:${userId}`]);
    // One read of the whole aggregate answers both questions: is this venue watched, and how many
    // watches are there (the read's limit is the watch limit, so a full read means the limit).
    const watches = await userWatches(tx, userId);
    const full = watches.length >= MAX_WATCHES_PER_USER;
    // A user past the limit (it was higher when they added) may watch the venue beyond the read.
    const existing =
      watches.find((w) => w.venueKey === venueKey) ?? (full ? await userWatch(tx, userId, venueKey) : null);
    if (existing) return { watch: toWatchDto(existing), created: false };
    if (full) {
      throw new AppError('CONFLICT', `watch limit reached: at most ${MAX_WATCHES_PER_USER} watches per user`);
    }
    const watch = tx.create(Watch, {
      userId,
      kind: input.kind,
      venueId,
      venueName: venueId === null ? venueName : null,
      market: input.market ?? null,
      partySize: input.partySize ?? null,
      dateFrom: input.dateFrom ?? null,
      dateTo: input.dateTo ?? null,
      timeFrom: input.timeFrom ?? null,
      timeTo: input.timeTo ?? null,
    });
    await tx.flush();
    return { watch: toWatchDto(watch), created: true };
  });
}

/** Removes one of the caller's watches; any other id (another user's included) is NOT_FOUND. */
export async function removeWatch(em: EntityManager, userId: string, id: string): Promise<void> {
  const removed = await em.nativeDelete(Watch, { id, userId });
  if (removed !== 1) throw new AppError('NOT_FOUND', 'no such watch');
}
