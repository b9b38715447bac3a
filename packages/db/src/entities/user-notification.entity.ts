import { defineEntity, p } from '@mikro-orm/core';

/**
 * Partitioned by UTC day on the drop's own minute, so the unique (user, drop, minute) key
 * dedupes globally.
 */
export const UserNotification = defineEntity({
  name: 'UserNotification',
  tableName: 'user_notifications',
  properties: {
    dropOpenedMinute: p.datetime().primary(),
    id: p.bigint('string').primary().autoincrement(),
    userId: p.uuid(),
    dropEventId: p.bigint('string'),
    kind: p.string().default('drop'),
    payload: p.json<unknown>(),
    createdAt: p.datetime().defaultRaw('now()'),
    readAt: p.datetime().nullable(),
  },
});
