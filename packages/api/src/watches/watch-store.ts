import { AppError } from '@dropwatch/core';
import { MAX_WATCHES_PER_USER, normalizeVenueName } from '@dropwatch/discovery';
import { Watch, type EntityManager, type WatchRow } from '@dropwatch/db';
import type { WatchAddInput, WatchDto } from '../routers/watches.schemas.js';
import { EntityStatement } from './entity-statement.js';

/*
 * A user's watches are a small aggregate (at most MAX_WATCHES_PER_USER), read and written once per
 * request: not a hot path, so they go through the Watch entity (notify's matching, which is one,
 * reads them with its own SQL).
 */

/** The watch fields the API shows, and the venue key that makes a watch unique per user. */
type WatchFields = Pick<
  WatchRow,
  | 'id'
  | 'kind'
  | 'venueId'
  | 'venueName'
  | 'venueKey'
  | 'market'
  | 'partySize'
  | 'dateFrom'
  | 'dateTo'
  | 'timeFrom'
  | 'timeTo'
  | 'createdAt'
>;

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

/*
 * Reads and the insert select and return whole rows (`*`): the API shows all of a watch's columns
 * but its user id, and the query builder spends more CPU resolving a list of a dozen properties
 * than the database spends sending the one column more. Each statement is written by the entity's
 * query builder once and reused (see EntityStatement), and its rows come back mapped to the
 * entity's properties without becoming managed entities: nothing here changes them, so the
 * identity map and change tracking would cost a list of up to 50 rows a good part of its time and
 * give nothing back.
 */

const watchesOf = (ordered: boolean) =>
  new EntityStatement<{ userId: string }, WatchFields>(
    Watch.meta.className,
    ['userId'],
    (em, { userId }) => {
      const qb = em.createQueryBuilder(Watch).select('*').where({ userId }).limit(MAX_WATCHES_PER_USER);
      return ordered ? qb.orderBy({ id: 'asc' }) : qb;
    },
    ordered ? 'read' : 'write',
  );
/** Up to MAX_WATCHES_PER_USER of the user's watches, oldest first. */
const listStatement = watchesOf(true);
/** Up to MAX_WATCHES_PER_USER of the user's watches, in no order (add's read, in its transaction). */
const aggregateStatement = watchesOf(false);

/** The user's watch of one venue key, if any. */
const byVenueStatement = new EntityStatement<{ userId: string; venueKey: string }, WatchFields>(
  Watch.meta.className,
  ['userId', 'venueKey'],
  (em, { userId, venueKey }) => em.createQueryBuilder(Watch).select('*').where({ userId, venueKey }).limit(1),
  'write',
);

type InsertParams = {
  userId: string;
  kind: WatchFields['kind'];
  venueId: string | null;
  venueName: string | null;
  market: string | null;
  partySize: number | null;
  dateFrom: string | null;
  dateTo: string | null;
  timeFrom: string | null;
  timeTo: string | null;
};
const INSERT_PARAMS = [
  'userId',
  'kind',
  'venueId',
  'venueName',
  'market',
  'partySize',
  'dateFrom',
  'dateTo',
  'timeFrom',
  'timeTo',
] as const satisfies readonly (keyof InsertParams)[];

/** One new watch, returned whole. */
const insertStatement = new EntityStatement<InsertParams, WatchFields>(
  Watch.meta.className,
  INSERT_PARAMS,
  (em, row) => em.createQueryBuilder(Watch).insert(row).returning('*'),
  'write',
);

/** The caller's watches, oldest first. */
export async function listWatches(em: EntityManager, userId: string): Promise<WatchDto[]> {
  return (await listStatement.run(em, { userId })).map(toWatchDto);
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
    // watches are there (the read's limit is the watch limit, so a full read means the limit). Its
    // order does not matter: a read short of the limit has every watch, and a full one is followed
    // by the lookup of the venue below.
    const watches = await aggregateStatement.run(tx, { userId });
    const full = watches.length >= MAX_WATCHES_PER_USER;
    // A user past the limit (it was higher when they added) may watch the venue beyond the read.
    const existing =
      watches.find((w) => w.venueKey === venueKey) ??
      (full ? ((await byVenueStatement.run(tx, { userId, venueKey }))[0] ?? null) : null);
    if (existing) return { watch: toWatchDto(existing), created: false };
    if (full) {
      throw new AppError('CONFLICT', `watch limit reached: at most ${MAX_WATCHES_PER_USER} watches per user`);
    }
    const [watch] = await insertStatement.run(tx, {
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
    if (!watch) throw new Error('watch was not inserted');
    return { watch: toWatchDto(watch), created: true };
  });
}

/** Removes one of the caller's watches; any other id (another user's included) is NOT_FOUND. */
export async function removeWatch(em: EntityManager, userId: string, id: string): Promise<void> {
  const removed = await em.nativeDelete(Watch, { id, userId });
  if (removed !== 1) throw new AppError('NOT_FOUND', 'no such watch');
}
