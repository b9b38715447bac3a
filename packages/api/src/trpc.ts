import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError } from 'zod';
import { AppError, type AppErrorCode } from '@dropwatch/core';
import type { Context } from './context.js';

export interface Meta {
  /** Short description, shown in generated docs. */
  readonly description?: string;
}

const TRPC_CODE: Record<AppErrorCode, TRPCError['code']> = {
  BAD_INPUT: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  BUSY: 'TOO_MANY_REQUESTS',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

/** The zod issues of a BAD_REQUEST, flattened (declared here so client types need no zod). */
export interface ZodErrorShape {
  readonly formErrors: string[];
  readonly fieldErrors: Record<string, string[] | undefined>;
}

/** SSE keep-alive: a ping comment this often, and clients reconnect after twice that of silence. */
export const SSE_PING_MS = 10_000;

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    sse: {
      ping: { enabled: true, intervalMs: SSE_PING_MS },
      client: { reconnectAfterInactivityMs: SSE_PING_MS * 2 },
    },
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      const zodError: ZodErrorShape | null =
        cause instanceof ZodError ? cause.flatten() : null;
      const appCode: AppErrorCode | null = cause instanceof AppError ? cause.code : null;
      return {
        ...shape,
        // A server fault says nothing of its internals (the log has them).
        message: shape.data.code === 'INTERNAL_SERVER_ERROR' ? 'internal error' : shape.message,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          zodError,
          appCode,
        },
      };
    },
  });

/** The one place AppError becomes a tRPC error. */
const mapAppErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODE[cause.code], message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

export const publicProcedure = t.procedure.use(mapAppErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a valid bearer token is required' });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'admin only' });
  return next({ ctx });
});
