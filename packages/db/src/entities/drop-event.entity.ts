import { defineEntity, p } from '@mikro-orm/core';

/**
 * A slot that newly became bookable. Partitioned by UTC day on opened_minute (DDL in the
 * migration); every unique key contains opened_minute, as PostgreSQL requires.
 */
export const DropEvent = defineEntity({
  name: 'DropEvent',
  tableName: 'drop_events',
  properties: {
    openedMinute: p.datetime().primary(),
    id: p.bigint('string').primary().autoincrement(),
    /** Writing transaction id (xid8): the commit-safe cursor orders by (tx_id, id). */
    txId: p.string().columnType('xid8').defaultRaw('pg_current_xact_id()'),
    bucketId: p.string(),
    slotId: p.string(),
    slotKey: p.bigint('string'),
    venueId: p.string(),
    market: p.string(),
    slotDate: p.date(),
    slotTime: p.string(),
    partySizes: p
      .array<number>(
        (v) => Number(v),
        (v) => String(v),
      )
      .columnType('int[]'),
    bookingUrl: p.text().nullable(),
    openedAt: p.datetime().defaultRaw('now()'),
    closedAt: p.datetime().nullable(),
    durationSeconds: p.integer().nullable(),
  },
});
