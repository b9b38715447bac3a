import type { Config } from '@dropwatch/core';
import type { MikroORM } from '@dropwatch/db';
import type { Context } from '../context.js';
import { FeedCacheReader } from '../feed/feed-cache.js';
import type { DropSignal } from '../live/drop-signal.js';
import type { ReplicaReads } from '../replica/replica-reads.js';
import { bearerToken, resolveToken } from './api-tokens.js';
import { redeemStreamTicket } from './stream-tickets.js';

export interface RequestContextDeps {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly drops: DropSignal | null;
  readonly feedCache?: FeedCacheReader;
  /** READ_DATABASE_URL's reads; absent: every read goes to `orm`. */
  readonly replica?: ReplicaReads | null;
}

/**
 * The HTTP adapters' createContext: forks `orm.em` per request (its own identity map) and
 * resolves the bearer token. A request without a token is anonymous; an unknown or revoked
 * token also leaves `user` null, so public procedures still answer and authed ones say
 * UNAUTHORIZED. A subscription request may carry a stream ticket instead of the token (a
 * browser's EventSource sends no headers); the ticket is redeemed, once, only when no bearer
 * token came, and a refused one says why in `authProblem`.
 */
/** What an authed subscription with a refused ticket answers (UNAUTHORIZED). */
export const STREAM_TICKET_REFUSED =
  'the stream ticket is unknown, expired or already used: ask auth.streamTicket for a new one';

export function createRequestContextFactory(deps: RequestContextDeps) {
  const feedCache = deps.feedCache ?? new FeedCacheReader();
  return async (authorization: string | undefined | null, streamTicket?: string | null): Promise<Context> => {
    const em = deps.orm.em.fork();
    const token = bearerToken(authorization);
    let user = token ? await resolveToken(em, token) : null;
    let authProblem: string | undefined;
    if (!token && streamTicket) {
      user = await redeemStreamTicket(em, streamTicket);
      if (!user) authProblem = STREAM_TICKET_REFUSED;
    }
    return {
      em,
      readEm: deps.replica?.em() ?? em,
      replica: deps.replica?.status() ?? null,
      config: deps.config,
      user,
      drops: deps.drops,
      feedCache,
      notifications: deps.drops?.notifications ?? null,
      ...(authProblem ? { authProblem } : {}),
    };
  };
}
