import { defineEntity, p } from '@mikro-orm/core';

/** One row per currently open dropped slot. No FK into the partitioned drop_events. */
export const AvailabilityState = defineEntity({
  name: 'AvailabilityState',
  tableName: 'availability_state',
  properties: {
    bucketId: p.string().primary(),
    slotKey: p.bigint('string').primary(),
    dropEventId: p.bigint('string'),
    dropOpenedMinute: p.datetime(),
    venueId: p.string(),
    market: p.string(),
    slotDate: p.date(),
    openedAt: p.datetime(),
    lastSeenAt: p.datetime().defaultRaw('now()'),
  },
});
