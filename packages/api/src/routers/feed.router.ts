import { tracked } from '@trpc/server';
import { encodeCursor, readNewDrops, startCursor, toDropDto, withPgClient } from '@dropwatch/db';
import { dropStream, futureCursor, liveFeed, rankBoard } from '../feed/feed-service.js';
import { queryBoard, queryOpenDrops } from '../feed/feed-queries.js';
import { publicProcedure, router } from '../trpc.js';
import {
  boardInput,
  dropsOutput,
  justOpenedInput,
  liveInput,
  liveOutput,
  newDropsInput,
  newDropsOutput,
  onDropInput,
  stillOpenInput,
} from './feed.schemas.js';

export const feedRouter = router({
  /** The hot read: the market's cached feed with filters applied (ETag/304 over HTTP). */
  live: publicProcedure
    .meta({ description: 'Cached feed of a market: just opened, still open, board' })
    .input(liveInput)
    .output(liveOutput)
    .query(({ ctx, input }) => liveFeed(ctx, input)),

  /** Open drops opened within the last `withinMinutes`, newest first. */
  justOpened: publicProcedure
    .input(justOpenedInput)
    .output(dropsOutput)
    .query(async ({ ctx, input }) => {
      const rows = await withPgClient(ctx.readEm, (db) =>
        queryOpenDrops(db, 'justOpened', input, input.withinMinutes, input.limit),
      );
      return { drops: rows.map(toDropDto) };
    }),

  /** Open drops older than the just-opened window, newest first; never more than STILL_OPEN_EVENTS_LIMIT. */
  stillOpen: publicProcedure
    .input(stillOpenInput)
    .output(dropsOutput)
    .query(async ({ ctx, input }) => {
      const limit = Math.min(input.limit, ctx.config.STILL_OPEN_EVENTS_LIMIT);
      const rows = await withPgClient(ctx.readEm, (db) =>
        queryOpenDrops(db, 'stillOpen', input, input.withinMinutes, limit),
      );
      return { drops: rows.map(toDropDto) };
    }),

  /** Every drop exactly once, in (tx_id, id) order, across out-of-order commits. */
  newDrops: publicProcedure
    .input(newDropsInput)
    .output(newDropsOutput)
    .query(async ({ ctx, input }) => {
      const page = await withPgClient(ctx.em, async (db) => {
        const from = input.cursor ?? (await startCursor(db, input.withinMinutes));
        return readNewDrops(db, from, input.market, input.limit);
      });
      if (page.fromFuture) throw futureCursor('cursor');
      return { drops: page.drops, cursor: encodeCursor(page.cursor) };
    }),

  /** SSE: each new drop as it commits; `tracked` ids are cursors, so reconnects resume exactly. */
  onDrop: publicProcedure.input(onDropInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const { id, drop } of dropStream(ctx, {
      market: input.market,
      from: input.lastEventId ?? null,
      signal,
    })) {
      yield tracked(id, drop);
    }
  }),

  /** Open drops ranked: rarest venue first, then freshest, then venue name. */
  board: publicProcedure
    .input(boardInput)
    .output(dropsOutput)
    .query(async ({ ctx, input }) => {
      const rows = await withPgClient(ctx.readEm, (db) => queryBoard(db, input, input.limit));
      return { drops: rankBoard(rows.map(toDropDto)) };
    }),
});
