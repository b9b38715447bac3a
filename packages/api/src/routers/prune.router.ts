import { z } from 'zod';
import { defaultRetentionHolder, previewRetention, runRetention } from '@dropwatch/discovery';
import { adminProcedure, router } from '../trpc.js';

const count = z.number().int().nonnegative();

/** Rows per table retention removes (drop_events/user_notifications: rows of whole day partitions). */
const tableCounts = z.object({
  drop_events: count,
  user_notifications: count,
  venue_metrics: count,
  venues: count,
  job_runs: count,
  webhook_deliveries: count,
  stream_tickets: count,
  destinations: count,
  discovery_buckets: count,
  bucket_slots: count,
  availability_state: count,
});

const cutoffs = z.object({
  now: z.date(),
  dropEvents: z.date(),
  /** The oldest UTC day whose drop_events partition is kept (the cutoff's own day). */
  dropEventsKeepFromDay: z.string(),
  notifications: z.date(),
  notificationsKeepFromDay: z.string(),
  venueMetricsBeforeDay: z.string(),
  jobRuns: z.date(),
  venues: z.date(),
  partitionsFromDay: z.string(),
  partitionsToDay: z.string(),
});

const previewOutput = z.object({
  cutoffs,
  wouldDelete: tableCounts,
  dropsToClose: count,
  partitionsToDrop: z.array(z.string()),
});

const nowOutput = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    jobRunId: z.string(),
    startedAt: z.date(),
    durationMs: z.number().nonnegative(),
    deleted: tableCounts,
    dropsClosed: count,
    partitions: z.object({ created: count, dropped: z.array(z.string()), finalized: z.array(z.string()) }),
    lockRetries: count,
    cutoffs,
  }),
  /** The daily job or another replica is running retention right now: nothing was done. */
  z.object({ status: z.literal('already_running'), heldBy: z.string().nullable() }),
]);

export const pruneRouter = router({
  /** What retention would delete now, per table, without deleting anything. */
  preview: adminProcedure
    .output(previewOutput)
    .query(({ ctx }) =>
      previewRetention({ em: ctx.em, config: ctx.config, directDatabaseUrl: ctx.config.DIRECT_DATABASE_URL }),
    ),
  /** Runs retention now — the job's code under the job's lease — and returns what it removed. */
  now: adminProcedure.output(nowOutput).mutation(({ ctx }) =>
    runRetention({
      em: ctx.em,
      config: ctx.config,
      directDatabaseUrl: ctx.config.DIRECT_DATABASE_URL,
      holder: defaultRetentionHolder(`prune.now:${ctx.user.name}`),
    }),
  ),
});
