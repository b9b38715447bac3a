import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { useTestDatabase } from '@dropwatch/db/testing';
import { runNotify, type NotifyOptions } from '../src/index.js';
import {
  addWatch,
  connect,
  createUser,
  dayFromToday,
  insertDrop,
  notificationsOf,
  seedVenue,
  silentLogger,
  waitFor,
} from './notify-fixtures.js';

/**
 * The exactly-once cursor lags by the oldest open transaction of the whole cluster:
 * on a shared server another session's long transaction holds drops back, so waits are generous.
 */
const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

const t = useTestDatabase();
let c: pg.Client;

const config = (cooldown = 30) => ({ NOTIFY_COOLDOWN_MINUTES: cooldown, WEBHOOK_ALLOW_PRIVATE: true });
const notify = (extra: Partial<NotifyOptions> = {}) =>
  runNotify({ orm: t.orm, config: config(), logger: silentLogger, ...extra });

/** Runs notify until the drops are behind its cursor (another session's open transaction may hold them back). */
async function notifyUntilRead(dropIds: string[], extra: Partial<NotifyOptions> = {}): Promise<void> {
  const last = dropIds.map(BigInt).reduce((a, b) => (a > b ? a : b));
  await waitFor(
    async () => {
      await notify(extra);
      const { rows } = await c.query<{ done: boolean }>(
        `select exists (select 1 from consumer_cursors cc join drop_events d on d.id = $1
                      where cc.name = 'notify' and (cc.tx_id, cc.id) >= (d.tx_id, d.id)) as done`,
        [last.toString()],
      );
      return rows[0]?.done ? true : undefined;
    },
    VISIBLE_WITHIN_MS,
    'the notify cursor to pass the drops',
  );
}

beforeAll(async () => {
  c = await connect(t.db.url);
  await seedVenue(c, 'resy:1', 'Café Boulud');
  await seedVenue(c, 'resy:2', 'Other Place');
  await seedVenue(c, 'resy:9', 'Flappy');
  await seedVenue(c, 'resy:3', 'Crashy');
  await notify(); // creates the cursor
});
afterAll(async () => {
  await c?.end();
});

describe('notify fan-out', () => {
  it('notifies watchers (by id and by normalized name), not others; excludes win; filters hold', async () => {
    const byId = await createUser(c, 'by-id');
    const byName = await createUser(c, 'by-name');
    const nobody = await createUser(c, 'nobody');
    const otherVenue = await createUser(c, 'other-venue');
    const excluded = await createUser(c, 'excluded');
    const party4 = await createUser(c, 'party4');
    const dates = await createUser(c, 'dates');
    const times = await createUser(c, 'times');
    const laOnly = await createUser(c, 'la-only');
    await addWatch(c, byId, { venueId: 'resy:1' });
    await addWatch(c, byName, { venueName: 'cafe boulud' });
    await addWatch(c, otherVenue, { venueId: 'resy:2' });
    await addWatch(c, excluded, { venueName: 'cafe boulud' });
    await addWatch(c, excluded, { kind: 'exclude', venueId: 'resy:1' });
    await addWatch(c, party4, { venueId: 'resy:1', partySize: 4 });
    await addWatch(c, dates, { venueId: 'resy:1', dateFrom: dayFromToday(3), dateTo: dayFromToday(5) });
    await addWatch(c, times, { venueId: 'resy:1', timeFrom: '21:00', timeTo: '22:30' });
    await addWatch(c, laOnly, { venueId: 'resy:1', market: 'la' });

    const d1 = await insertDrop(c, {
      venueId: 'resy:1',
      slotDate: dayFromToday(1),
      slotTime: '20:30',
      partySizes: [2],
    });
    await notifyUntilRead([d1]);
    expect((await notificationsOf(c, byId)).map((n) => n.drop_event_id)).toEqual([d1]);
    expect((await notificationsOf(c, byName)).map((n) => n.drop_event_id)).toEqual([d1]);
    for (const u of [nobody, otherVenue, excluded, party4, dates, times, laOnly])
      expect(await notificationsOf(c, u)).toEqual([]);

    // A drop that fits each filter reaches it (a different venue day and time, party of 4).
    await c.query('delete from user_notifications'); // cooldown off the table for this check
    const d2 = await insertDrop(c, {
      venueId: 'resy:1',
      slotDate: dayFromToday(4),
      slotTime: '21:30',
      partySizes: [2, 4],
    });
    await notifyUntilRead([d2]);
    for (const u of [party4, dates, times])
      expect((await notificationsOf(c, u)).map((n) => n.drop_event_id)).toEqual([d2]);
    expect(await notificationsOf(c, excluded)).toEqual([]);
    expect(await notificationsOf(c, laOnly)).toEqual([]);
    expect(await notificationsOf(c, nobody)).toEqual([]);
  });

  it('an open drop that gained a party size reaches the watches of that size once; the others are not told again', async () => {
    await seedVenue(c, 'resy:5', 'Sized');
    const two = await createUser(c, 'sized-2');
    const four = await createUser(c, 'sized-4');
    await addWatch(c, two, { venueId: 'resy:5', partySize: 2 });
    await addWatch(c, four, { venueId: 'resy:5', partySize: 4 });
    const drop = await insertDrop(c, { venueId: 'resy:5', partySizes: [2] });
    await notifyUntilRead([drop]);
    expect((await notificationsOf(c, two)).map((n) => n.drop_event_id)).toEqual([drop]);
    expect(await notificationsOf(c, four)).toEqual([]);

    // A later poll sees the table at party size 4 too (what the bucket diff writes).
    const { rows } = await c.query<{ bucket_id: string; slot_key: string; opened_minute: Date }>(
      'select bucket_id, slot_key::text, opened_minute from drop_events where id = $1',
      [drop],
    );
    const d = rows[0]!;
    await c.query(
      `insert into discovery_buckets (bucket_id, market, date, time_slot) values ($1, 'nyc', $2::date, '20:30')
       on conflict do nothing`,
      [d.bucket_id, dayFromToday(1)],
    );
    await c.query(`update drop_events set party_sizes = '{2,4}' where id = $1`, [drop]);
    await c.query(
      `insert into availability_state (bucket_id, slot_key, drop_event_id, drop_opened_minute, venue_id, market,
                                       slot_date, opened_at, party_mask, resized)
       values ($1, $2, $3, $4, 'resy:5', 'nyc', $5::date, now(), $6, true)`,
      [d.bucket_id, d.slot_key, drop, d.opened_minute, dayFromToday(1), (1 << 2) | (1 << 4)],
    );
    const stats = await notify();
    expect(stats.resizedDrops).toBe(1);
    expect((await notificationsOf(c, four)).map((n) => n.drop_event_id)).toEqual([drop]);
    expect((await notificationsOf(c, two)).map((n) => n.drop_event_id)).toEqual([drop]);
    expect(await c.query('select resized from availability_state where drop_event_id = $1', [drop])).toMatchObject({
      rows: [{ resized: false }],
    });
    expect((await notify()).resizedDrops).toBe(0);
    await c.query('delete from availability_state where drop_event_id = $1', [drop]);
  });

  it('cooldown: a venue dropping three times in ten minutes notifies once', async () => {
    const u = await createUser(c, 'flap-watcher');
    await addWatch(c, u, { venueId: 'resy:9' });
    const a = await insertDrop(c, { venueId: 'resy:9', slotTime: '19:00' });
    await notifyUntilRead([a]);
    const b = await insertDrop(c, { venueId: 'resy:9', slotTime: '19:15' });
    const d = await insertDrop(c, { venueId: 'resy:9', slotTime: '19:30' });
    await notifyUntilRead([b, d]);
    expect((await notificationsOf(c, u)).map((n) => n.drop_event_id)).toEqual([a]);
  });

  it('a batch rolled back after its inserts (thrown, or backend terminated before COMMIT) is redone exactly once', async () => {
    const u1 = await createUser(c, 'crash-1');
    const u2 = await createUser(c, 'crash-2');
    await addWatch(c, u1, { venueId: 'resy:3' });
    await addWatch(c, u2, { venueId: 'resy:3' });
    const cursorBefore = await c.query<{ c: string }>(
      `select tx_id::text || ':' || id::text as c from consumer_cursors where name = 'notify'`,
    );
    const drop = await insertDrop(c, { venueId: 'resy:3' });
    // Wait until the drop is readable (no older transaction open in the cluster), then crash.
    await waitFor(
      async () => {
        const { rows } = await c.query<{ ok: boolean }>(
          'select tx_id < pg_snapshot_xmin(pg_current_snapshot()) as ok from drop_events where id = $1',
          [drop],
        );
        return rows[0]?.ok ? true : undefined;
      },
      VISIBLE_WITHIN_MS,
      'the drop to be visible to the cursor',
    );

    let insertedBeforeCrash = 0;
    await expect(
      notify({
        beforeCommit: async (db) => {
          const { rows } = await db.query<{ n: string }>(
            'select count(*) as n from user_notifications where drop_event_id = $1',
            [drop],
          );
          insertedBeforeCrash = Number(rows[0]!.n);
          throw new Error('crash between insert and commit');
        },
      }),
    ).rejects.toThrow('crash between insert and commit');
    expect(insertedBeforeCrash).toBe(2);
    expect(await notificationsOf(c, u1)).toEqual([]);
    const cursorAfter = await c.query<{ c: string }>(
      `select tx_id::text || ':' || id::text as c from consumer_cursors where name = 'notify'`,
    );
    expect(cursorAfter.rows).toEqual(cursorBefore.rows);

    // The connection itself dies before COMMIT.
    const killer = await connect(t.db.url, 'notify-killer');
    try {
      await expect(
        notify({
          beforeCommit: async (db) => {
            const { rows } = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
            await killer.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
            await db.query('select 1');
          },
        }),
      ).rejects.toThrow();
    } finally {
      await killer.end();
    }
    expect(await notificationsOf(c, u1)).toEqual([]);

    // A clean rerun: every notification exactly once; another rerun adds nothing.
    await notifyUntilRead([drop]);
    await notify();
    expect((await notificationsOf(c, u1)).map((n) => n.drop_event_id)).toEqual([drop]);
    expect((await notificationsOf(c, u2)).map((n) => n.drop_event_id)).toEqual([drop]);
    const runs = await c.query<{ status: string }>(
      `select status from job_runs where job = 'notify' order by id desc limit 3`,
    );
    expect(runs.rows.map((r) => r.status)).toContain('failed');
    expect(runs.rows[0]!.status).toBe('ok');
  });

  it('a second runner while the lease is held is skipped', async () => {
    await c.query(
      `insert into job_leases (name, holder, expires_at) values ('notify', 'someone-else', now() + interval '1 minute')`,
    );
    try {
      const stats = await notify();
      expect(stats.status).toBe('skipped');
      expect(stats.heldBy).toBe('someone-else');
    } finally {
      await c.query(`delete from job_leases where name = 'notify'`);
    }
  });
});
