import { defineEntity, p } from '@mikro-orm/core';

/** Replaces the old baseline/prev JSON arrays: one row per slot a bucket knows. */
export const BucketSlot = defineEntity({
  name: 'BucketSlot',
  tableName: 'bucket_slots',
  properties: {
    bucketId: p.string().primary(),
    /** First 64 bits of the slot fingerprint. */
    slotKey: p.bigint('string').primary(),
    venueId: p.string(),
    inBaseline: p.boolean().default(false),
    inPrev: p.boolean().default(false),
    firstSeenAt: p.datetime().defaultRaw('now()'),
  },
});
