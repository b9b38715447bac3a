import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { TRPCError } from '@trpc/server';
import { loadConfig } from '@dropwatch/core';
import { ensurePartitionsBetween } from '@dropwatch/db';
import { useTestDatabase } from '@dropwatch/db/testing';
import { createCaller, createContextInner, type AuthUser } from '@dropwatch/api';

const t = useTestDatabase();
const config = loadConfig({ PRUNE_BATCH_SIZE: '100', LOG_LEVEL: 'silent' });
const admin: AuthUser = { id: '00000000-0000-4000-8000-000000000001', name: 'root', role: 'admin' };
const member: AuthUser = { id: '00000000-0000-4000-8000-000000000002', name: 'alice', role: 'user' };
let sql: pg.Client;

const caller = (user: AuthUser | null) => createCaller(createContextInner({ em: t.orm.em.fork(), config, user }));
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
  return 'no error';
}

beforeAll(async () => {
  sql = new pg.Client({ connectionString: t.db.url });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
});

describe('prune procedures', () => {
  it('are for admins only: FORBIDDEN for a user, UNAUTHORIZED without a token', async () => {
    expect(await codeOf(caller(member).prune.preview())).toBe('FORBIDDEN');
    expect(await codeOf(caller(member).prune.now())).toBe('FORBIDDEN');
    expect(await codeOf(caller(null).prune.now())).toBe('UNAUTHORIZED');
    expect(await sql.query(`select 1 from job_runs where job = 'retention'`)).toMatchObject({ rowCount: 0 });
  });

  it('preview counts exactly what now then deletes', async () => {
    await ensurePartitionsBetween(t.orm.em.fork(), day(40), day(0));
    await sql.query(
      `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, opened_at, opened_minute)
       select 'nyc_2026-01-01_20:30', md5(g::text), g, 'sim:v' || (g % 3), 'nyc', d::date, '20:30', d, date_trunc('minute', d)
         from generate_series(1, 300) g, lateral (select ($1::date + (g % 25) * interval '1 day' + interval '1 hour') as d) x`,
      [day(35)],
    );
    await sql.query(
      `insert into job_runs (job, started_at, finished_at, status) select 'notify', now() - g * interval '1 day' + interval '1 hour', now(), 'ok' from generate_series(1, 30) g`,
    );
    await sql.query(
      `insert into venue_metrics (venue_id, day, drops) select 'sim:v' || g, current_date - 100 - g, 1 from generate_series(1, 150) g`,
    );

    const preview = await caller(admin).prune.preview();
    expect(preview.wouldDelete.drop_events).toBeGreaterThan(0);
    expect(preview.wouldDelete.job_runs).toBe(16); // started 15..30 days (less an hour) ago
    expect(preview.wouldDelete.venue_metrics).toBe(150);
    const done = await caller(admin).prune.now();
    if (done.status !== 'ok') throw new Error(`expected a run, got ${JSON.stringify(done)}`);
    expect(done.deleted).toEqual(preview.wouldDelete);
    expect(done.partitions.dropped.sort()).toEqual([...preview.partitionsToDrop].sort());
    expect(done.durationMs).toBeGreaterThanOrEqual(0);
    expect((await caller(admin).prune.preview()).wouldDelete).toMatchObject({
      drop_events: 0,
      job_runs: 0,
      venue_metrics: 0,
    });
  });

  it('answers already_running while the daily job holds the lease, without waiting or failing', async () => {
    await sql.query(
      `insert into job_leases (name, holder, expires_at) values ('retention', 'job@worker-1:42', now() + interval '1 minute')`,
    );
    try {
      expect(await caller(admin).prune.now()).toEqual({ status: 'already_running', heldBy: 'job@worker-1:42' });
    } finally {
      await sql.query(`delete from job_leases where name = 'retention'`);
    }
  });
});
