import { defineEntity, p } from '@mikro-orm/core';

export const FeedCache = defineEntity({
  name: 'FeedCache',
  tableName: 'feed_cache',
  properties: {
    key: p.text().primary(),
    payload: p.json<unknown>(),
    builtAt: p.datetime().defaultRaw('now()'),
    cursor: p.text().nullable(),
    /** Bumped on each rebuild; part of the HTTP response cache key and ETag. */
    version: p.bigint('number').default(0),
  },
});
