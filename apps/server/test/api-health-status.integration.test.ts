import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dayFromToday, seedBucket, startApiHarness, TEST_ADMIN_TOKEN, type ApiHarness } from './api-fixtures.js';

/**
 * health.status over HTTP when the provider is unreachable: every poll fails (last_error set,
 * scanned_at still moves) and nothing is stale, so only these new checks can tell.
 * Defaults: cooldown 5 s, tick 20 s → degraded after 40 s without a good poll, down after 480 s.
 * Asked with a token: an anonymous answer is kept up to a second, and each test reads right after
 * its change.
 */
describe('health.status tells the truth when polls fail', () => {
  let h: ApiHarness;
  const ids: string[] = [];
  beforeAll(async () => {
    h = await startApiHarness();
    for (const slot of ['19:00', '20:00', '21:00', '22:00'])
      ids.push(await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(0), timeSlot: slot }));
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(async () => {
    await h.sql.query(`update discovery_buckets set scanned_at = now(), last_error = null, last_error_at = null`);
    await h.sql.query(`delete from job_runs`);
    await h.sql.query(
      `insert into job_runs (job, started_at, finished_at, status, stats) values ('discovery', now(), now(), 'ok', '{}')`,
    );
  });

  const failPolls = (n: number, secondsAgo = 0) =>
    h.sql.query(
      `update discovery_buckets set last_error = 'upstream: connect ECONNREFUSED', last_error_at = now() - make_interval(secs => $2),
         scanned_at = now() - make_interval(secs => $2) where bucket_id = any($1)`,
      [ids.slice(0, n), secondsAgo],
    );

  it('ok while polls succeed', async () => {
    expect(await h.client(TEST_ADMIN_TOKEN).health.status.query()).toMatchObject({ status: 'ok', reasons: [] });
  });

  it('ok when a minority of buckets failed their last poll', async () => {
    await failPolls(1);
    expect((await h.client(TEST_ADMIN_TOKEN).health.status.query()).status).toBe('ok');
  });

  it('degraded when most buckets failed their last poll', async () => {
    await failPolls(3);
    const s = await h.client(TEST_ADMIN_TOKEN).health.status.query();
    expect(s.status).toBe('degraded');
    expect(s.reasons).toContain('provider: 3 of 4 buckets failed their last poll');
  });

  it('degraded when no bucket had a successful poll for a few cooldowns, down when for longer', async () => {
    // Two buckets fail on every poll (scanned_at moves), two last succeeded 100 s ago.
    await h.sql.query(`update discovery_buckets set scanned_at = now() - interval '100 seconds'`);
    await failPolls(2);
    const quiet = await h.client(TEST_ADMIN_TOKEN).health.status.query();
    expect(quiet.status).toBe('degraded');
    expect(quiet.reasons.join(' ')).toMatch(/discovery: no successful poll for 10\ds/);

    await h.sql.query(
      `update discovery_buckets set scanned_at = now() - interval '600 seconds' where last_error is null`,
    );
    const down = await h.client(TEST_ADMIN_TOKEN).health.status.query();
    expect(down.status).toBe('down');
    expect(down.reasons.join(' ')).toMatch(/discovery: no successful poll for 60\ds/);
  });

  it('degraded (not ok) while every poll fails', async () => {
    await failPolls(4);
    const s = await h.client(TEST_ADMIN_TOKEN).health.status.query();
    expect(s.status).toBe('degraded');
    expect(s.reasons).toEqual(['provider: 4 of 4 buckets failed their last poll']);
  });

  it('degraded when no bucket was polled at all for a few cooldowns, down after the stale horizon', async () => {
    await h.sql.query(`update discovery_buckets set scanned_at = now() - interval '100 seconds'`);
    const quiet = await h.client(TEST_ADMIN_TOKEN).health.status.query();
    expect(quiet).toMatchObject({
      status: 'degraded',
      reasons: [expect.stringMatching(/^discovery: no bucket polled for 10\ds$/)],
    });
    await h.sql.query(`update discovery_buckets set scanned_at = now() - interval '900 seconds'`);
    expect((await h.client(TEST_ADMIN_TOKEN).health.status.query()).status).toBe('down');
  });
});
