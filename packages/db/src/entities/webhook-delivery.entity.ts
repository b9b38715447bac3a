import { defineEntity, p } from '@mikro-orm/core';
import { Destination } from './destination.entity.js';

/**
 * The outbox of every delivery channel (the name predates the channels): one row per
 * (notification, destination), written in the notification's transaction; its id is the idempotency
 * key (a webhook's `webhook-id`). Bounded by retention.
 */
export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: {
    id: p.bigint('string').primary().autoincrement().generated('identity'),
    userId: p.uuid(),
    notificationId: p.bigint('string'),
    /** Which delivery channel sends it (a registered channel's name). */
    channel: p.text().default('webhook'),
    /** The destination it goes to (null once that destination is deleted). Unique per notification. */
    destinationId: p
      .manyToOne(Destination)
      .mapToPk()
      .nullable()
      .fieldName('destination_id')
      .foreignKeyName('webhook_deliveries_destination_id_fkey')
      .deleteRule('set null')
      .updateRule('no action'),
    payload: p.json<unknown>(),
    status: p.enum(['pending', 'delivered', 'failed'] as const).default('pending'),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().defaultRaw('now()'),
    lastError: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    deliveredAt: p.datetime().nullable(),
  },
  uniques: [
    // A unique index, not a constraint (the pair can never be queued twice; destination_id may be null).
    {
      name: 'webhook_deliveries_notification_destination_key',
      expression:
        'create unique index webhook_deliveries_notification_destination_key on webhook_deliveries (notification_id, destination_id)',
    },
  ],
  indexes: [
    // Each channel claims its own due rows.
    {
      name: 'webhook_deliveries_channel_due_idx',
      expression:
        "create index webhook_deliveries_channel_due_idx on webhook_deliveries (channel, next_attempt_at) where status = 'pending'",
    },
    { name: 'webhook_deliveries_created_at_idx', properties: ['createdAt'] },
    // A destination's pending rows are cancelled when it goes.
    {
      name: 'webhook_deliveries_destination_idx',
      expression:
        "create index webhook_deliveries_destination_idx on webhook_deliveries (destination_id) where status = 'pending'",
    },
  ],
});
