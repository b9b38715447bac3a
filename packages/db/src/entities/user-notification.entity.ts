import { defineEntity, p } from '@mikro-orm/core';

/**
 * Partitioned by UTC day on the drop's own minute, so the unique (user, drop, minute) key
 * dedupes globally. The PARTITION BY clause and the partitions are the migration's (entities cannot
 * declare them). No foreign keys: a partitioned table's rows outlive neither side cleanly, and
 * retention drops whole partitions.
 */
export const UserNotification = defineEntity({
  name: 'UserNotification',
  tableName: 'user_notifications',
  properties: {
    dropOpenedMinute: p.datetime().primary(),
    id: p.bigint('string').primary().autoincrement().generated('identity'),
    userId: p.uuid(),
    dropEventId: p.bigint('string'),
    kind: p.text().default('drop'),
    payload: p.json<unknown>(),
    createdAt: p.datetime().defaultRaw('now()'),
    readAt: p.datetime().nullable(),
  },
  uniques: [{ name: 'user_notifications_dedupe_key', properties: ['userId', 'dropEventId', 'dropOpenedMinute'] }],
  indexes: [
    {
      name: 'user_notifications_user_created_idx',
      expression: 'create index user_notifications_user_created_idx on user_notifications (user_id, created_at desc)',
    },
    // notifications.onNew reads after an id, and markRead checks ownership, both by (user_id, id).
    { name: 'user_notifications_user_id_idx', properties: ['userId', 'id'] },
  ],
});
