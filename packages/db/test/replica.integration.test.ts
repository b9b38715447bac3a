import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorBelowXmin, queryReplicaLag, readNewDrops, START_CURSOR } from '../src/index.js';
import { migrate } from '../src/migrate.js';
import { replicaMissing, startPrimaryAndReplica, waitFor, type ReplicaPairHandle } from '../src/testing/index.js';

/**
 * What the read model's snapshot functions mean on a real streaming hot standby (a primary and a
 * `pg_basebackup -R` replica started by the harness, once for this file): why the exactly-once
 * cursor reads stay on the primary, and what the lag measure reports.
 */
describe('on a streaming hot standby', () => {
  let pair: ReplicaPairHandle;
  const database = `dw_rep_${randomBytes(4).toString('hex')}`;
  let primary: pg.Client;
  let replica: pg.Client;

  const connect = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  };
  const primaryXid = async (c: pg.Client) =>
    BigInt((await c.query<{ x: string }>('select pg_current_xact_id()::text as x')).rows[0]!.x);
  const snapshot = async (c: pg.Client) => {
    const { rows } = await c.query<{ xmin: string; xmax: string; xip: string[] }>(
      `select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax,
              array(select pg_snapshot_xip(s)::text) as xip
       from pg_current_snapshot() s`,
    );
    const r = rows[0]!;
    return { xmin: BigInt(r.xmin), xmax: BigInt(r.xmax), xip: r.xip.map(BigInt) };
  };
  const insertDrop = (c: pg.Client, slotKey: number) =>
    c.query<{ id: string; tx_id: string }>(
      `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes,
                                opened_at, opened_minute)
       values ('nyc_2026-12-01_20:00', md5($1::text), $1::bigint, 'resy:1', 'nyc', current_date, '20:30', '{2}',
               now(), date_trunc('minute', now()))
       returning id::text, tx_id::text`,
      [slotKey],
    );

  beforeAll(async () => {
    // Runs everywhere, never skipped: without the Debian server binaries this fails naming them.
    const missing = replicaMissing();
    if (missing !== undefined) throw new Error(missing);
    pair = await startPrimaryAndReplica({ fast: true });
    const admin = await connect(pair.primary.url('postgres'));
    await admin.query(`create database ${database}`);
    await admin.end();
    await migrate(pair.primary.url(database), 1);
    await pair.caughtUp();
    primary = await connect(pair.primary.url(database));
    replica = await connect(pair.replica.url(database));
  }, 60_000);
  afterAll(async () => {
    await primary?.end();
    await replica?.end();
    await pair?.stop();
  });

  it('is a standby: transaction ids cannot be handed out there, the snapshot functions answer', async () => {
    expect((await replica.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(true);
    await expect(replica.query('select pg_current_xact_id()')).rejects.toThrow(/during recovery/);
    await expect(replica.query('select txid_current()')).rejects.toThrow(/during recovery/);
    const s = await snapshot(replica);
    expect(s.xmin).toBeGreaterThan(0n);
    expect(s.xmax).toBeGreaterThanOrEqual(s.xmin);
  });

  it("the standby's snapshot xmin is the primary's replayed xmin; its xip list is empty, so only xmin may be trusted", async () => {
    const open = await connect(pair.primary.url(database));
    const visible = (c: pg.Client, xid: bigint) =>
      c
        .query<{ v: boolean }>('select pg_visible_in_snapshot($1::xid8, pg_current_snapshot()) as v', [xid.toString()])
        .then((r) => r.rows[0]!.v);
    try {
      await open.query('begin');
      const xid = await primaryXid(open);
      // An xid appears on the standby once WAL names it: write something in that transaction.
      await insertDrop(open, 900);
      await insertDrop(primary, 899); // a younger transaction commits: xmax moves past the open one
      await pair.caughtUp();
      const onPrimary = await snapshot(primary);
      const during = await snapshot(replica);
      expect(onPrimary.xmin).toBe(xid);
      expect(onPrimary.xip).toContain(xid);
      expect(during.xmin).toBe(xid);
      expect(during.xmax).toBeGreaterThan(xid);
      // PostgreSQL keeps a standby snapshot's running xids where pg_current_snapshot() does not
      // look (subxip): the list is empty and pg_visible_in_snapshot() calls the open one visible.
      expect(during.xip).toEqual([]);
      expect(await visible(primary, xid)).toBe(false);
      expect(await visible(replica, xid)).toBe(true);
      await open.query('commit');
      await pair.caughtUp();
      expect((await snapshot(replica)).xmin).toBeGreaterThan(xid);
    } finally {
      await open.end();
    }
  });

  it('the cursor read on the standby passes over nothing: a later-committed older transaction is waited for', async () => {
    const start = cursorBelowXmin((await snapshot(replica)).xmin);
    const older = await connect(pair.primary.url(database));
    try {
      await older.query('begin');
      const [a] = (await insertDrop(older, 901)).rows;
      const [b] = (await insertDrop(primary, 902)).rows; // autocommit: a younger transaction commits first
      await pair.caughtUp();
      const held = await readNewDrops(replica, start, 'nyc', 100);
      expect(held.rows.map((r) => r.id)).not.toContain(b!.id);
      await older.query('commit');
      await pair.caughtUp();
      const page = await readNewDrops(replica, held.cursor, 'nyc', 100);
      expect(page.rows.map((r) => r.id)).toEqual([a!.id, b!.id]);
      expect(BigInt(a!.tx_id)).toBeLessThan(BigInt(b!.tx_id));
      const again = await readNewDrops(replica, page.cursor, 'nyc', 100);
      expect(again.rows).toEqual([]);
      expect(again.fromFuture).toBe(false);
    } finally {
      await older.end();
    }
  });

  it('while replay lags, a cursor the primary issued is ahead of the standby (fromFuture) and the lag shows', async () => {
    expect(await queryReplicaLag(primary)).toEqual({ standby: false, lagSeconds: null });
    await pair.caughtUp();
    expect(await queryReplicaLag(replica)).toEqual({ standby: true, lagSeconds: 0 });
    const control = await connect(pair.replica.url('postgres'));
    try {
      await control.query('select pg_wal_replay_pause()');
      await waitFor(
        async () =>
          (await control.query("select pg_get_wal_replay_pause_state() = 'paused' as p")).rows[0].p ? true : undefined,
        10_000,
        'replay paused',
      );
      // Three committed transactions the standby receives but does not replay.
      for (const key of [903, 904, 905]) await insertDrop(primary, key);
      const [target] = (await primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows;
      await waitFor(
        async () =>
          (await control.query('select pg_last_wal_receive_lsn() >= $1::pg_lsn as ok', [target!.lsn])).rows[0].ok
            ? true
            : undefined,
        10_000,
        'WAL received by the standby',
      );
      const lag = await queryReplicaLag(replica);
      expect(lag.standby).toBe(true);
      expect(lag.lagSeconds).toBeGreaterThan(0);

      const issued = await readNewDrops(primary, START_CURSOR, 'nyc', 1000);
      const onStandby = await readNewDrops(replica, issued.cursor, 'nyc', 1000);
      expect(onStandby.fromFuture).toBe(true);
      expect(onStandby.rows).toEqual([]);

      await control.query('select pg_wal_replay_resume()');
      await pair.caughtUp();
      expect(await queryReplicaLag(replica)).toEqual({ standby: true, lagSeconds: 0 });
      expect((await readNewDrops(replica, issued.cursor, 'nyc', 1000)).fromFuture).toBe(false);
    } finally {
      await control.query('select pg_wal_replay_resume()').catch(() => undefined);
      await control.end();
    }
  });
});
