export * from './context.js';
export * from './router.js';
export {
  adminProcedure,
  authedProcedure,
  publicProcedure,
  router,
  MISSING_ENVELOPE,
  type Meta,
  type ZodErrorShape,
  type ZodIssueShape,
} from './trpc.js';
export { FeedCacheReader } from './feed/feed-cache.js';
export * as feedSql from './feed/feed-queries.js';
export { bucketsSql } from './health/health-queries.js';
export { ReplicaReads, type ReplicaReadsOptions, type ReplicaStatus } from './replica/replica-reads.js';
export { LocalDropSignal, PgDropListener, type DropSignal } from './live/drop-signal.js';
export {
  bearerToken,
  generateToken,
  hasAdmin,
  hashToken,
  issueToken,
  resolveToken,
  revokeToken,
  revokeUserTokens,
  type CreatedToken,
} from './auth/api-tokens.js';
export { issueStreamTicket, redeemStreamTicket, type StreamTicket } from './auth/stream-tickets.js';
export { createRequestContextFactory, STREAM_TICKET_REFUSED, type RequestContextDeps } from './auth/request-context.js';
export * from './limits.js';
