import { defineEntity, p } from '@mikro-orm/core';
import { DiscoveryBucket } from './discovery-bucket.entity.js';

/** One row per currently open dropped slot. No FK into the partitioned drop_events. */
export const AvailabilityState = defineEntity({
  name: 'AvailabilityState',
  tableName: 'availability_state',
  properties: {
    bucketId: p
      .manyToOne(DiscoveryBucket)
      .primary()
      .mapToPk()
      .fieldName('bucket_id')
      .foreignKeyName('availability_state_bucket_id_fkey')
      .deleteRule('cascade')
      .updateRule('no action'),
    slotKey: p.bigint('string').primary(),
    dropEventId: p.bigint('string'),
    dropOpenedMinute: p.datetime(),
    venueId: p.text(),
    market: p.text(),
    slotDate: p.date(),
    openedAt: p.datetime(),
    lastSeenAt: p.datetime().defaultRaw('now()'),
    /** Bit n set for party size n: every size a poll has seen the open slot at. */
    partyMask: p.integer().default(0),
    /** Gained a party size since the notify job last fanned the drop out (it does so again). */
    resized: p.boolean().default(false),
  },
  indexes: [
    {
      name: 'availability_state_resized_idx',
      expression: 'create index availability_state_resized_idx on availability_state (drop_event_id) where resized',
    },
    {
      name: 'availability_state_market_opened_idx',
      expression: 'create index availability_state_market_opened_idx on availability_state (market, opened_at desc)',
    },
  ],
});
