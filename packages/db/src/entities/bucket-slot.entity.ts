import { defineEntity, p } from '@mikro-orm/core';
import { DiscoveryBucket } from './discovery-bucket.entity.js';

/** Replaces the old baseline/prev JSON arrays: one row per slot a bucket knows. */
export const BucketSlot = defineEntity({
  name: 'BucketSlot',
  tableName: 'bucket_slots',
  properties: {
    bucketId: p
      .manyToOne(DiscoveryBucket)
      .primary()
      .mapToPk()
      .fieldName('bucket_id')
      .foreignKeyName('bucket_slots_bucket_id_fkey')
      .deleteRule('cascade')
      .updateRule('no action'),
    /** First 64 bits of the slot fingerprint. */
    slotKey: p.bigint('string').primary(),
    venueId: p.text(),
    inBaseline: p.boolean().default(false),
    inPrev: p.boolean().default(false),
    firstSeenAt: p.datetime().defaultRaw('now()'),
  },
});
