import { defineEntity, p } from '@mikro-orm/core';

/** Where an in-process consumer of drop_events has got to, as a (tx_id, id) cursor. */
export const ConsumerCursor = defineEntity({
  name: 'ConsumerCursor',
  tableName: 'consumer_cursors',
  properties: {
    name: p.text().primary(),
    txId: p.string().columnType('xid8').defaultRaw("'0'::xid8"),
    id: p.bigint('string').defaultRaw('0'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
});
