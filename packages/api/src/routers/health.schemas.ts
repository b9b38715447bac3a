import { z } from 'zod';
import { marketInput } from './common.schemas.js';

export const statusOutput = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  reasons: z.array(z.string()),
  checkedAt: z.date(),
  /** The read replica (READ_DATABASE_URL) as this API process last measured it; null without one. */
  replica: z
    .object({
      /** Seconds its replay is behind the primary; null: unknown (unreachable, or nothing replayed yet). */
      lagSeconds: z.number().nullable(),
      /** True while the reads meant for it go to the primary (lag over READ_REPLICA_MAX_LAG_SECONDS, unreachable). */
      readsOnPrimary: z.boolean(),
    })
    .nullable(),
});

export const bucketsInput = z.object({ market: marketInput.optional() }).strict().default({});
export const bucketsOutput = z.object({
  buckets: z.array(
    z.object({
      bucketId: z.string(),
      market: z.string(),
      date: z.string(),
      timeSlot: z.string(),
      scannedAt: z.date().nullable(),
      slotCount: z.number().int(),
      /** Seconds between the bucket's last two polls: the poller polls busy buckets more often. */
      pollIntervalSeconds: z.number().nullable(),
      baselineComplete: z.boolean(),
      stale: z.boolean(),
      lastError: z.string().nullable(),
      lastErrorAt: z.date().nullable(),
    }),
  ),
});

export const lastScanOutput = z.object({
  lastScanAt: z.date().nullable(),
  totalSlots: z.number().int(),
  totalVenues: z.number().int(),
});

export const jobsOutput = z.object({
  jobs: z.array(
    z.object({
      job: z.string(),
      startedAt: z.date(),
      finishedAt: z.date().nullable(),
      status: z.string(),
      stats: z.record(z.string(), z.unknown()),
      error: z.string().nullable(),
    }),
  ),
});

export const tablesOutput = z.object({
  tables: z.array(
    z.object({
      table: z.string(),
      partitioned: z.boolean(),
      partitions: z.number().int(),
      rowEstimate: z.number(),
      bytes: z.number(),
    }),
  ),
});
