import { defineEntity, p } from '@mikro-orm/core';

/** Outbox of webhook POSTs; bounded by retention. */
export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    userId: p.uuid(),
    notificationId: p.bigint('string'),
    url: p.text(),
    payload: p.json<unknown>(),
    status: p.enum(['pending', 'delivered', 'failed'] as const).default('pending'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().defaultRaw('now()'),
    lastError: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    deliveredAt: p.datetime().nullable(),
  },
});
