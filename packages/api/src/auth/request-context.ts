import type { Config } from '@dropwatch/core';
import type { MikroORM } from '@dropwatch/db';
import type { Context } from '../context.js';
import { FeedCacheReader } from '../feed/feed-cache.js';
import type { DropSignal } from '../live/drop-signal.js';
import { bearerToken, resolveToken } from './api-tokens.js';

export interface RequestContextDeps {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly drops: DropSignal | null;
  readonly feedCache?: FeedCacheReader;
}

/**
 * The HTTP adapters' createContext: forks `orm.em` per request (its own identity map) and
 * resolves the bearer token. A request without a token is anonymous; an unknown or revoked
 * token also leaves `user` null, so public procedures still answer and authed ones say
 * UNAUTHORIZED.
 */
export function createRequestContextFactory(deps: RequestContextDeps) {
  const feedCache = deps.feedCache ?? new FeedCacheReader();
  return async (authorization: string | undefined | null): Promise<Context> => {
    const em = deps.orm.em.fork();
    const token = bearerToken(authorization);
    const user = token ? await resolveToken(em, token) : null;
    return { em, config: deps.config, user, drops: deps.drops, feedCache, notifications: deps.drops?.notifications ?? null };
  };
}
