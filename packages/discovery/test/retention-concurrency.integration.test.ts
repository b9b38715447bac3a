import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { ensurePartitionsBetween } from '@dropwatch/db';
import { useTestDatabase } from '@dropwatch/db/testing';
import { listDayPartitions, runRetention } from '../src/index.js';
import {
  ago,
  connect,
  count,
  insertDrop,
  partitionName,
  tableExists,
  testConfig,
  utcDay,
  waitUntil,
} from './retention-fixtures.js';

const t = useTestDatabase();
let c: pg.Client;

beforeAll(async () => {
  c = await connect(t.db.url);
});
afterAll(async () => {
  await c.end();
});

/** Fills the day partitions `daysAgo` back with `rows` drops each. */
async function oldDrops(daysAgo: readonly number[], rows: number): Promise<string[]> {
  const now = new Date();
  const days = daysAgo.map((d) => utcDay(ago(now, d)));
  await ensurePartitionsBetween(t.orm.em.fork(), [...days].sort()[0]!, utcDay(now));
  for (const day of days) {
    await c.query(
      `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, opened_at, opened_minute)
       select 'nyc_' || $1 || '_20:30', md5(g::text), g, 'sim:old', 'nyc', $1::date, '20:30',
              $1::date + g * interval '1 second', date_trunc('minute', $1::date + g * interval '1 second')
         from generate_series(1, $2) g`,
      [day, rows],
    );
  }
  return days.map((d) => partitionName('drop_events', d));
}

describe('retention alongside other work', () => {
  it('drops partitions while a writer inserts drops and a reader reads: no error, no lost drop', async () => {
    const parts = await oldDrops([20, 21, 22], 2_000);
    const writer = await connect(t.db.url);
    const reader = await connect(t.db.url);
    const errors: unknown[] = [];
    let written = 0;
    let reads = 0;
    let stop = false;
    const writing = (async () => {
      while (!stop) {
        try {
          // A tick-like write: the drop and its venue in one short transaction.
          await writer.query('begin');
          await insertDrop(writer, { openedAt: new Date(), venueId: `sim:w${written % 7}` });
          await writer.query(
            `insert into venues (venue_id, provider, market, name) values ($1, 'sim', 'nyc', $1)
             on conflict (venue_id) do update set last_seen_at = now(), last_drop_at = now()`,
            [`sim:w${written % 7}`],
          );
          await writer.query('commit');
          written++;
        } catch (err) {
          errors.push(err);
          await writer.query('rollback').catch(() => undefined);
        }
      }
    })();
    const reading = (async () => {
      while (!stop) {
        try {
          await reader.query(
            `select id from drop_events where opened_at > now() - interval '10 minutes' order by opened_at desc limit 500`,
          );
          reads++;
        } catch (err) {
          errors.push(err);
        }
      }
    })();
    try {
      await waitUntil(() => written >= 20 && reads >= 5, 'the writer and reader to get going');
      const result = await runRetention({ orm: t.orm, config: testConfig() });
      const before = { written, reads };
      await waitUntil(() => written > before.written + 5 && reads > before.reads + 5, 'writes after the run');
      stop = true;
      await Promise.all([writing, reading]);

      expect(errors).toEqual([]);
      expect(result.status).toBe('ok');
      if (result.status !== 'ok') return;
      expect(result.partitions.dropped).toEqual(expect.arrayContaining(parts));
      expect(result.deleted.drop_events).toBe(6_000);
      for (const p of parts) expect(await tableExists(c, p)).toBe(false);
      expect(await count(c, `select count(*) from drop_events where venue_id like 'sim:w%'`)).toBe(written);
    } finally {
      stop = true;
      await Promise.all([writing, reading]);
      await writer.end();
      await reader.end();
    }
  });

  it('finishes a detach a crash left pending, with FINALIZE, then drops the partition', async () => {
    const [part] = await oldDrops([25], 100);
    const holder = await connect(t.db.url);
    const detacher = await connect(t.db.url);
    try {
      // A reader's open snapshot makes the detach's second phase wait; the lock timeout cuts it
      // there, which leaves the partition pending detach — as a crash or a kill would.
      await holder.query('begin isolation level repeatable read');
      await holder.query('select count(*) from drop_events');
      await detacher.query(`set lock_timeout = '200ms'`);
      await expect(
        detacher.query(`alter table drop_events detach partition ${part!} concurrently`),
      ).rejects.toMatchObject({ code: '55P03' });
      await holder.query('commit');
      const pending = (await listDayPartitions(c, 'drop_events')).find((p) => p.name === part);
      expect(pending?.state).toBe('pending_detach');
    } finally {
      await holder.end();
      await detacher.end();
    }

    const result = await runRetention({ orm: t.orm, config: testConfig() });
    if (result.status !== 'ok') throw new Error(JSON.stringify(result));
    expect(result.partitions.finalized).toEqual([part]);
    expect(result.partitions.dropped).toContain(part);
    expect(result.deleted.drop_events).toBe(100);
    expect(await tableExists(c, part!)).toBe(false);
    // Inserts into the parent work again for every kept day.
    await insertDrop(c, { openedAt: new Date(), venueId: 'sim:after' });
  });

  it('runs once when started twice at the same moment; the other caller is told who holds it', async () => {
    const config = testConfig();
    const [a, b] = await Promise.all([
      runRetention({ orm: t.orm, config, holder: 'caller-a' }),
      runRetention({ orm: t.orm, config, holder: 'caller-b' }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual(['already_running', 'ok']);
    const [winner, loser] = a.status === 'ok' ? ['caller-a', b] : ['caller-b', a];
    expect(loser).toEqual({ status: 'already_running', heldBy: winner });
    // The lease is free again afterwards.
    expect(await count(c, `select count(*) from job_leases where name = 'retention'`)).toBe(0);
  });

  it("waits for nobody: a live replica's lease refuses the run, an expired (crashed) one does not", async () => {
    const config = testConfig();
    await c.query(
      `insert into job_leases (name, holder, expires_at) values ('retention', 'replica-2', now() + interval '1 minute')`,
    );
    const runsBefore = await count(c, `select count(*) from job_runs where job = 'retention'`);
    expect(await runRetention({ orm: t.orm, config, holder: 'me' })).toEqual({
      status: 'already_running',
      heldBy: 'replica-2',
    });
    expect(await count(c, `select count(*) from job_runs where job = 'retention'`)).toBe(runsBefore);

    // replica-2 crashed: nobody renews its lease, and once it expires the next run proceeds.
    await c.query(`update job_leases set expires_at = now() - interval '1 second' where name = 'retention'`);
    const result = await runRetention({ orm: t.orm, config, holder: 'me' });
    expect(result.status).toBe('ok');
    expect(await count(c, `select count(*) from job_runs where job = 'retention'`)).toBe(runsBefore + 1);
  });

  it('a run that fails records a failed job_runs row, rethrows, and frees the lease', async () => {
    const cancelled = new AbortController();
    cancelled.abort();
    await expect(
      runRetention({ orm: t.orm, config: testConfig(), holder: 'doomed', signal: cancelled.signal }),
    ).rejects.toThrow();
    const { rows } = await c.query<{ status: string; error: string | null }>(
      `select status, error from job_runs where job = 'retention' order by id desc limit 1`,
    );
    expect(rows[0]?.status).toBe('failed');
    expect(rows[0]?.error).toMatch(/abort/i);
    expect(await count(c, `select count(*) from job_leases where name = 'retention'`)).toBe(0);
  });
});
