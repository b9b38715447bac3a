import type { EntityManager } from '@dropwatch/db';

export type JobRunStatus = 'ok' | 'failed' | 'skipped';

/** One row per job run, written when the run ends (job_runs is kept JOB_RUNS_RETENTION_DAYS). */
export async function recordJobRun(
  em: EntityManager,
  run: { job: string; startedAt: Date; status: JobRunStatus; stats: Record<string, unknown>; error?: string },
): Promise<string> {
  const rows = await em.execute<{ id: string }[]>(
    `insert into job_runs (job, started_at, finished_at, status, stats, error)
     values (?, ?, now(), ?, ?::jsonb, ?) returning id::text`,
    [run.job, run.startedAt, run.status, JSON.stringify(run.stats), run.error?.slice(0, 2000) ?? null],
  );
  return rows[0]!.id;
}
