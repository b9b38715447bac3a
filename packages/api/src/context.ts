import type { Config } from '@dropwatch/core';
import type { EntityManager } from '@dropwatch/db';
import { FeedCacheReader } from './feed/feed-cache.js';
import type { DropSignal } from './live/drop-signal.js';
import type { ReplicaStatus } from './replica/replica-reads.js';

export interface AuthUser {
  readonly id: string;
  readonly name: string;
  readonly role: 'user' | 'admin';
}

export interface Context {
  readonly em: EntityManager;
  /**
   * For the reads that tolerate replica lag (docs/architecture.md, "Reading from a streaming
   * replica"): a fork on READ_DATABASE_URL while the replica is within READ_REPLICA_MAX_LAG_SECONDS,
   * else `em` itself.
   */
  readonly readEm: EntityManager;
  /** The read replica's lag and whether its reads go to the primary; null without READ_DATABASE_URL. */
  readonly replica: ReplicaStatus | null;
  readonly config: Config;
  readonly user: AuthUser | null;
  /** Wakes live subscribers on `NOTIFY dropwatch_drops`; absent for internal callers (they poll). */
  readonly drops: DropSignal | null;
  /** Process-wide parsed feed_cache payloads (reused while the row's version holds). */
  readonly feedCache: FeedCacheReader;
  /** Wakes notifications.onNew on `NOTIFY dropwatch_notifications`; absent → subscribers poll. */
  readonly notifications?: DropSignal | null;
  /** Why the request's credentials were refused, when the default message would not say. */
  readonly authProblem?: string;
}

/** Pure: tests and internal callers build a context without HTTP. */
export function createContextInner(opts: {
  em: EntityManager;
  readEm?: EntityManager;
  replica?: ReplicaStatus | null;
  config: Config;
  user?: AuthUser | null;
  drops?: DropSignal | null;
  feedCache?: FeedCacheReader;
  notifications?: DropSignal | null;
}): Context {
  return {
    em: opts.em,
    readEm: opts.readEm ?? opts.em,
    replica: opts.replica ?? null,
    config: opts.config,
    user: opts.user ?? null,
    drops: opts.drops ?? null,
    feedCache: opts.feedCache ?? new FeedCacheReader(),
    notifications: opts.notifications ?? opts.drops?.notifications ?? null,
  };
}
