import { defineEntity, p } from '@mikro-orm/core';

export const JobRun = defineEntity({
  name: 'JobRun',
  tableName: 'job_runs',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    job: p.string(),
    startedAt: p.datetime().defaultRaw('now()'),
    finishedAt: p.datetime().nullable(),
    status: p.enum(['running', 'ok', 'failed', 'skipped'] as const),
    stats: p.json<Record<string, unknown>>(),
    error: p.text().nullable(),
  },
});
