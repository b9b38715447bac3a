import { defineEntity, p } from '@mikro-orm/core';

/**
 * The outbox of every delivery channel (the name predates the channels): one row per
 * (notification, destination), written in the notification's transaction; its id is the idempotency
 * key (a webhook's `webhook-id`). Bounded by retention.
 */
export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    userId: p.uuid(),
    notificationId: p.bigint('string'),
    /** Which delivery channel sends it (a registered channel's name). */
    channel: p.text().default('webhook'),
    /** The destination it goes to (null once that destination is deleted). Unique per notification. */
    destinationId: p.bigint('string').nullable(),
    payload: p.json<unknown>(),
    status: p.enum(['pending', 'delivered', 'failed'] as const).default('pending'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().defaultRaw('now()'),
    lastError: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    deliveredAt: p.datetime().nullable(),
  },
});
