import { AppError } from '@dropwatch/core';
import { MAX_WATCHES_PER_USER, normalizeVenueName } from '@dropwatch/discovery';
import { Watch, type EntityManager, type WatchRow } from '@dropwatch/db';
import type { WatchAddInput, WatchDto } from '../routers/watches.schemas.js';

/**
 * Watches are the user's own small list (at most MAX_WATCHES_PER_USER), read and written once per
 * request: not a hot path, so they go through the Watch entity. Notify's matching reads them with
 * its own SQL.
 */

export function toWatchDto(w: WatchRow): WatchDto {
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

/** The caller's watches, oldest first. */
export async function listWatches(em: EntityManager, userId: string): Promise<WatchDto[]> {
  const rows = await em.find(Watch, { userId }, { orderBy: { id: 'asc' }, limit: MAX_WATCHES_PER_USER });
  return rows.map(toWatchDto);
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
    // Serializes one user's adds, so the count check and the insert cannot interleave.
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`dropwatch_watches:${userId}`]);
    const existing = await tx.findOne(Watch, { userId, venueKey });
    if (existing) return { watch: toWatchDto(existing), created: false };
    const count = await tx.count(Watch, { userId });
    if (count >= MAX_WATCHES_PER_USER) {
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
