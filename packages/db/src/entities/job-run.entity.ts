import { defineEntity, p } from '@mikro-orm/core';

export const JobRun = defineEntity({
  name: 'JobRun',
  tableName: 'job_runs',
  properties: {
    id: p.bigint('string').primary().autoincrement().generated('identity'),
    job: p.text(),
    startedAt: p.datetime().defaultRaw('now()'),
    finishedAt: p.datetime().nullable(),
    status: p.enum(['running', 'ok', 'failed', 'skipped'] as const),
    stats: p.json<Record<string, unknown>>().defaultRaw("'{}'"),
    error: p.text().nullable(),
  },
  indexes: [
    {
      name: 'job_runs_job_started_idx',
      expression: 'create index job_runs_job_started_idx on job_runs (job, started_at desc)',
    },
    { name: 'job_runs_started_at_idx', properties: ['startedAt'] },
  ],
});
