import { initTRPC, TRPCError } from '@trpc/server';
import superjson, { type SuperJSONResult } from 'superjson';
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

/** One input issue of a BAD_REQUEST (declared here so client types need no zod). */
export interface ZodIssueShape {
  /** Where in the input: ['limit'], ['ids', 3]; empty for the input as a whole. */
  readonly path: readonly (string | number)[];
  /** zod's issue code: too_big, invalid_type, unrecognized_keys, custom, … */
  readonly code: string;
  readonly message: string;
}

/** The input issues of a BAD_REQUEST. */
export interface ZodErrorShape {
  readonly issues: readonly ZodIssueShape[];
}

/** Issues listed in error.data at most (an array of 500 bad ids would list 500). */
export const MAX_REPORTED_ISSUES = 20;
/** Issues named in the one-line message at most, and its length at most. */
const MESSAGE_ISSUES = 3;
const MESSAGE_MAX_CHARS = 300;

const pathText = (path: readonly PropertyKey[]) => (path.length === 0 ? 'input' : path.map(String).join('.'));

/** `limit: Too big: expected number to be <=500; market: Invalid option: …` — one line, bounded. */
export function issuesSentence(error: ZodError): string {
  const shown = error.issues.slice(0, MESSAGE_ISSUES).map((i) => `${pathText(i.path)}: ${i.message}`);
  const more = error.issues.length - shown.length;
  const text = shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
  const line = text.replace(/\s+/g, ' ');
  return line.length > MESSAGE_MAX_CHARS ? `${line.slice(0, MESSAGE_MAX_CHARS - 1)}…` : line;
}

const issuesOf = (error: ZodError): ZodErrorShape => ({
  issues: error.issues.slice(0, MAX_REPORTED_ISSUES).map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    code: i.code,
    message: i.message,
  })),
});

export const MISSING_ENVELOPE =
  'input must be superjson-encoded: wrap it as {"json": <input>} (e.g. ?input={"json":{"limit":5}})';
const ENVELOPE_KEYS = new Set(['json', 'meta']);

/**
 * superjson reads only `json` and `meta`, so plain JSON such as {"limit":5} used to deserialize
 * to undefined and run with the defaults. Anything but an envelope is refused instead ({} is
 * the envelope of no input, which the client sends for procedures without one).
 */
const inputTransformer = {
  serialize: (value: unknown) => superjson.serialize(value),
  deserialize: (value: unknown): unknown => {
    if (
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      Object.keys(value).some((k) => !ENVELOPE_KEYS.has(k))
    ) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: MISSING_ENVELOPE });
    }
    return superjson.deserialize(value as SuperJSONResult);
  },
};

/** SSE keep-alive: a ping comment this often, and clients reconnect after twice that of silence. */
export const SSE_PING_MS = 10_000;

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: { input: inputTransformer, output: superjson },
    sse: {
      ping: { enabled: true, intervalMs: SSE_PING_MS },
      client: { reconnectAfterInactivityMs: SSE_PING_MS * 2 },
    },
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      // Only bad input is the caller's to see: a ZodError behind a server fault is an output
      // that failed its own schema, and its issues describe our data, not the request.
      const inputError = shape.data.code === 'BAD_REQUEST' && cause instanceof ZodError ? cause : null;
      const zodError: ZodErrorShape | null = inputError ? issuesOf(inputError) : null;
      const appCode: AppErrorCode | null = cause instanceof AppError ? cause.code : null;
      const message =
        // A server fault says nothing of its internals (the log has them).
        shape.data.code === 'INTERNAL_SERVER_ERROR'
          ? 'internal error'
          : inputError
            ? issuesSentence(inputError)
            : shape.message;
      return {
        ...shape,
        message,
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
  if (!ctx.user)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: ctx.authProblem ?? 'a valid bearer token is required' });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'admin only' });
  return next({ ctx });
});
