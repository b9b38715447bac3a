import { defineEntity, p } from '@mikro-orm/core';

export const DiscoveryBucket = defineEntity({
  name: 'DiscoveryBucket',
  tableName: 'discovery_buckets',
  properties: {
    bucketId: p.text().primary(),
    market: p.text(),
    date: p.date(),
    timeSlot: p.text(),
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
  indexes: [
    { name: 'discovery_buckets_market_date_idx', properties: ['market', 'date'] },
    // Never-polled buckets first: the scheduler's staleness order.
    {
      name: 'discovery_buckets_scanned_at_idx',
      expression: 'create index discovery_buckets_scanned_at_idx on discovery_buckets (scanned_at nulls first)',
    },
  ],
});
