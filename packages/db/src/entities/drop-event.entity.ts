import { defineEntity, p } from '@mikro-orm/core';

/**
 * A slot that newly became bookable. Partitioned by UTC day on opened_minute (the PARTITION BY
 * clause and the partitions themselves are the migration's: entities cannot declare them); every
 * unique key contains opened_minute, as PostgreSQL requires.
 */
export const DropEvent = defineEntity({
  name: 'DropEvent',
  tableName: 'drop_events',
  properties: {
    openedMinute: p.datetime().primary().defaultRaw("date_trunc('minute'::text, now())"),
    id: p.bigint('string').primary().autoincrement().generated('identity'),
    /** Writing transaction id (xid8): the commit-safe cursor orders by (tx_id, id). */
    txId: p.string().columnType('xid8').defaultRaw('pg_current_xact_id()'),
    bucketId: p.text(),
    slotId: p.text(),
    slotKey: p.bigint('string'),
    venueId: p.text(),
    market: p.text(),
    slotDate: p.date(),
    slotTime: p.text(),
    partySizes: p
      .array<number>(
        (v) => Number(v),
        (v) => String(v),
      )
      .columnType('int[]')
      .defaultRaw("'{}'"),
    bookingUrl: p.text().nullable(),
    openedAt: p.datetime().defaultRaw('now()'),
    closedAt: p.datetime().nullable(),
    durationSeconds: p.integer().nullable(),
  },
  uniques: [{ name: 'drop_events_dedupe_key', properties: ['bucketId', 'slotKey', 'openedMinute'] }],
  indexes: [
    {
      name: 'drop_events_opened_at_idx',
      expression: 'create index drop_events_opened_at_idx on drop_events (opened_at desc)',
    },
    { name: 'drop_events_tx_id_idx', properties: ['txId', 'id'] },
    { name: 'drop_events_bucket_opened_idx', properties: ['bucketId', 'openedAt'] },
    { name: 'drop_events_venue_opened_idx', properties: ['venueId', 'openedAt'] },
  ],
  // The partition key is derived, so a row always lands in the partition of its own minute.
  checks: [
    { name: 'drop_events_opened_minute_check', expression: "opened_minute = date_trunc('minute'::text, opened_at)" },
  ],
});
