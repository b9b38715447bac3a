import { AppError } from '@dropwatch/core';
import { MAX_WATCHES_PER_USER, normalizeVenueName } from '@dropwatch/discovery';
import type { EntityManager } from '@dropwatch/db';
import { authedProcedure, router } from '../trpc.js';
import {
  watchAddInput,
  watchAddOutput,
  watchListOutput,
  watchRemoveInput,
  watchRemoveOutput,
  type WatchDto,
} from './watches.schemas.js';

interface WatchRow {
  id: string;
  kind: 'include' | 'exclude';
  venue_id: string | null;
  venue_name: string | null;
  market: string | null;
  party_size: number | null;
  date_from: string | null;
  date_to: string | null;
  time_from: string | null;
  time_to: string | null;
  created_at: Date | string;
}

const WATCH_COLUMNS = `id::text, kind, venue_id, venue_name, market, party_size,
  to_char(date_from, 'YYYY-MM-DD') as date_from, to_char(date_to, 'YYYY-MM-DD') as date_to,
  time_from, time_to, created_at`;

const toWatchDto = (r: WatchRow): WatchDto => ({
  id: r.id,
  kind: r.kind,
  venueId: r.venue_id,
  venueName: r.venue_name,
  market: r.market,
  partySize: r.party_size,
  dateFrom: r.date_from,
  dateTo: r.date_to,
  timeFrom: r.time_from,
  timeTo: r.time_to,
  createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
});

/** The venue key of the unique (user_id, venue_key) constraint, as the generated column computes it. */
const venueKey = (venueId: string | null, venueName: string | null) => venueId ?? `name:${venueName ?? ''}`;

async function findByKey(em: EntityManager, userId: string, key: string): Promise<WatchRow | undefined> {
  const rows = await em.execute<WatchRow[]>(
    `select ${WATCH_COLUMNS} from watches where user_id = ? and venue_key = ?`,
    [userId, key],
  );
  return rows[0];
}

export const watchesRouter = router({
  /** The caller's watches, oldest first (at most MAX_WATCHES_PER_USER exist). -- uses watches_user_venue_key. */
  list: authedProcedure.output(watchListOutput).query(async ({ ctx }) => {
    const rows = await ctx.em.execute<WatchRow[]>(
      `select ${WATCH_COLUMNS} from watches where user_id = ? order by id limit ?`,
      [ctx.user.id, MAX_WATCHES_PER_USER],
    );
    return { items: rows.map(toWatchDto) };
  }),

  /**
   * Include or exclude a venue (by provider id or normalized name) with optional filters. A watch
   * of a venue the caller already watches is returned as it is (`created: false`).
   */
  add: authedProcedure
    .input(watchAddInput)
    .output(watchAddOutput)
    .mutation(async ({ ctx, input }) => {
      const venueName = input.venueName === undefined ? null : normalizeVenueName(input.venueName);
      if (venueName === '') throw new AppError('BAD_INPUT', 'venueName is empty once normalized');
      const venueId = input.venueId ?? null;
      const key = venueKey(venueId, venueName);
      return ctx.em.transactional(async (em) => {
        // Serializes one user's adds, so the count check and the insert cannot interleave.
        await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`dropwatch_watches:${ctx.user.id}`]);
        const existing = await findByKey(em, ctx.user.id, key);
        if (existing) return { watch: toWatchDto(existing), created: false };
        const [count] = await em.execute<{ n: number }[]>('select count(*)::int as n from watches where user_id = ?', [
          ctx.user.id,
        ]);
        if ((count?.n ?? 0) >= MAX_WATCHES_PER_USER) {
          throw new AppError('CONFLICT', `watch limit reached: at most ${MAX_WATCHES_PER_USER} watches per user`);
        }
        const [row] = await em.execute<WatchRow[]>(
          `insert into watches (user_id, kind, venue_id, venue_name, market, party_size, date_from, date_to, time_from, time_to)
           values (?, ?, ?, ?, ?, ?, ?::date, ?::date, ?, ?)
           returning ${WATCH_COLUMNS}`,
          [
            ctx.user.id,
            input.kind,
            venueId,
            venueId === null ? venueName : null,
            input.market ?? null,
            input.partySize ?? null,
            input.dateFrom ?? null,
            input.dateTo ?? null,
            input.timeFrom ?? null,
            input.timeTo ?? null,
          ],
        );
        if (!row) throw new Error('watch was not inserted');
        return { watch: toWatchDto(row), created: true };
      });
    }),

  /** Removes one of the caller's watches; any other id (another user's included) is NOT_FOUND. */
  remove: authedProcedure
    .input(watchRemoveInput)
    .output(watchRemoveOutput)
    .mutation(async ({ ctx, input }) => {
      const res = await ctx.em.execute<{ affectedRows: number }>(
        'delete from watches where id = ? and user_id = ?',
        [input.id, ctx.user.id],
        'run',
      );
      if (res.affectedRows !== 1) throw new AppError('NOT_FOUND', 'no such watch');
      return { removed: true };
    }),
});
