import { JobRun, raw, type EntityManager } from '@dropwatch/db';

export type JobRunStatus = 'ok' | 'failed' | 'skipped';

/**
 * One row per job run, written when the run ends (job_runs is kept JOB_RUNS_RETENTION_DAYS).
 * A plain insert through the JobRun entity rather than create + flush: the run's EntityManager may
 * hold the job's own entities, which recording the run must not flush.
 */
export async function recordJobRun(
  em: EntityManager,
  run: { job: string; startedAt: Date; status: JobRunStatus; stats: Record<string, unknown>; error?: string },
): Promise<string> {
  const id = await em.insert(JobRun, {
    job: run.job,
    startedAt: run.startedAt,
    // The database's clock, like the lease times.
    finishedAt: raw('now()'),
    status: run.status,
    stats: run.stats,
    error: run.error?.slice(0, 2000) ?? null,
  });
  return String(id);
}
