import { defineEntity, p } from '@mikro-orm/core';

export const DiscoveryBucket = defineEntity({
  name: 'DiscoveryBucket',
  tableName: 'discovery_buckets',
  properties: {
    bucketId: p.string().primary(),
    market: p.string(),
    date: p.date(),
    timeSlot: p.string(),
    /** Successful non-empty polls folded into the baseline so far. */
    baselinePolls: p.integer().default(0),
    baselineComplete: p.boolean().default(false),
    scannedAt: p.datetime().nullable(),
    slotCount: p.integer().default(0),
    pollCount: p.integer().default(0),
    /** Consecutive suspect (empty or collapsed) snapshots not yet accepted. */
    suspectPolls: p.integer().default(0),
    lastError: p.text().nullable(),
    lastErrorAt: p.datetime().nullable(),
    /** Seconds between the bucket's last two polls (the poller polls buckets at different rates). */
    pollIntervalSeconds: p.double().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ properties: ['market', 'date'] }],
});
