import type { EntityManager } from '@dropwatch/db';
import { z } from 'zod';
import { recordJobRun, type JobRunStatus } from './job-runs.js';

/** job_runs.job of the discovery runs: one row per poller housekeeping pass (or reference tick). */
export const DISCOVERY_JOB = 'discovery';

/**
 * The part of a discovery run's `job_runs.stats` that readers rely on: written by the poller (and
 * the reference tick) through recordDiscoveryRun, read by the server's /metrics through
 * readDiscoveryRunStats. Writers add more fields (the poller's lane counts, the tick's timings);
 * those are for people reading health.jobs, not a contract.
 */
export const discoveryRunStats = z.object({
  /** Wall time of the run (the pass, or the tick). */
  durationMs: z.number().nonnegative(),
  drops: z.number().nonnegative(),
  closes: z.number().nonnegative(),
  /** Bucket polls that failed. */
  failed: z.number().nonnegative(),
  /** Failed provider calls by ProviderErrorCode. */
  providerErrors: z.record(z.string(), z.number()),
  /** Provider requests sent (the poller counts them; the reference tick does not). */
  requests: z.number().nonnegative().optional(),
});
export type DiscoveryRunStats = z.infer<typeof discoveryRunStats>;

export function recordDiscoveryRun(
  em: EntityManager,
  run: {
    startedAt: Date;
    status: JobRunStatus;
    stats: DiscoveryRunStats & Record<string, unknown>;
    error?: string;
  },
): Promise<string> {
  return recordJobRun(em, { job: DISCOVERY_JOB, ...run });
}

/**
 * The contract's fields of a stored stats value (jsonb as parsed by pg, or its text), each kept
 * only when it has the contract's type: a row written before a field existed, or by a failed
 * run, yields the fields it has.
 */
export function readDiscoveryRunStats(value: unknown): Partial<DiscoveryRunStats> {
  const stats: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (stats === null || typeof stats !== 'object' || Array.isArray(stats)) return {};
  const out: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(discoveryRunStats.shape)) {
    const parsed = schema.safeParse((stats as Record<string, unknown>)[field]);
    if (parsed.success && parsed.data !== undefined) out[field] = parsed.data;
  }
  return out;
}
