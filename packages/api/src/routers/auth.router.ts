import { z } from 'zod';
import { issueStreamTicket } from '../auth/stream-tickets.js';
import { authedProcedure, router } from '../trpc.js';

const streamTicketOutput = z.object({
  /** Pass as the `ticket` connection parameter of one subscription request; never logged. */
  ticket: z.string(),
  expiresAt: z.date(),
});

export const authRouter = router({
  /**
   * A short-lived, single-use ticket for one subscription request (bearer-authenticated). A
   * browser's EventSource cannot send Authorization, and a long-lived token must not travel in
   * a URL: the SDK asks for a ticket before each (re)connection and sends that instead.
   */
  streamTicket: authedProcedure
    .output(streamTicketOutput)
    .mutation(({ ctx }) => issueStreamTicket(ctx.em, ctx.user.id)),
});
