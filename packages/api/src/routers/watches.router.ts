import { authedProcedure, router } from '../trpc.js';
import { addWatch, listWatches, removeWatch } from '../watches/watch-store.js';
import {
  watchAddInput,
  watchAddOutput,
  watchListOutput,
  watchRemoveInput,
  watchRemoveOutput,
} from './watches.schemas.js';

export const watchesRouter = router({
  /** The caller's watches, oldest first (at most MAX_WATCHES_PER_USER exist). */
  list: authedProcedure.output(watchListOutput).query(async ({ ctx }) => {
    return { items: await listWatches(ctx.em, ctx.user.id) };
  }),

  /**
   * Include or exclude a venue (by provider id or normalized name) with optional filters. A watch
   * of a venue the caller already watches is returned as it is (`created: false`).
   */
  add: authedProcedure
    .input(watchAddInput)
    .output(watchAddOutput)
    .mutation(async ({ ctx, input }) => addWatch(ctx.em, ctx.user.id, input)),

  /** Removes one of the caller's watches; any other id (another user's included) is NOT_FOUND. */
  remove: authedProcedure
    .input(watchRemoveInput)
    .output(watchRemoveOutput)
    .mutation(async ({ ctx, input }) => {
      await removeWatch(ctx.em, ctx.user.id, input.id);
      return { removed: true };
    }),
});
