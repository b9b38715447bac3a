import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@dropwatch/db/testing';
import { queryLastJobs } from '../src/health/health-queries.js';

const t = useTestDatabase({ poolMax: 2 });

describe('health.jobs: the last run of each job', () => {
  it('gives the newest run of every job name, by name, with its stats as an object', async () => {
    const em = t.orm.em.fork();
    expect(await queryLastJobs(em)).toEqual([]);
    await em.execute(
      `insert into job_runs (job, started_at, finished_at, status, stats, error) values
         ('retention', now() - interval '2 days', now() - interval '2 days', 'ok', '{"n": 1}', null),
         ('retention', now() - interval '1 day', null, 'failed', '{"n": 2}', 'boom'),
         ('discovery', now() - interval '3 seconds', now(), 'ok', '{"polls": 7}', null),
         ('discovery', now() - interval '1 hour', now(), 'skipped', '{}', null),
         ('notify', now() - interval '5 minutes', now(), 'ok', '{}', null)`,
    );
    const jobs = await queryLastJobs(t.orm.em.fork());
    expect(jobs.map((j) => [j.job, j.status, j.stats, j.error])).toEqual([
      ['discovery', 'ok', { polls: 7 }, null],
      ['notify', 'ok', {}, null],
      ['retention', 'failed', { n: 2 }, 'boom'],
    ]);
    expect(jobs[0]!.started_at).toBeInstanceOf(Date);
    expect(jobs[2]!.finished_at).toBeNull();
  });
});
