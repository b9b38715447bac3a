import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { useTestDatabase } from '@dropwatch/db/testing';
import { DROPS_CHANNEL, NOTIFICATIONS_CHANNEL } from '@dropwatch/db';
import {
  generateWebhookSecret,
  NOTIFY_LISTEN_APPLICATION_NAME,
  runNotifyWorker,
  type NotifyStats,
  type NotifyWakeReason,
  type NotifyWorkerOptions,
  type NotifyWorkerStats,
} from '../src/index.js';
import {
  addWatch,
  connect,
  createUser,
  insertDrop,
  notificationsOf,
  seedVenue,
  silentLogger,
  waitFor,
  type DropSeed,
} from './notify-fixtures.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

/**
 * The exactly-once cursor lags by the oldest open transaction of the whole cluster:
 * on a shared server another session's long transaction holds drops back, so deadlines are generous.
 */
const VISIBLE_WITHIN_MS = 90_000;
/** So long that only LISTEN (or a reconnect, or the lease) can wake the worker within a test. */
const NO_SWEEP_MS = 600_000;
vi.setConfig({ testTimeout: 200_000 });

const t = useTestDatabase();
let c: pg.Client;
let receiver: Receiver;
let workers = 0;

interface Pass {
  readonly stats: NotifyStats;
  readonly reason: NotifyWakeReason;
  readonly error: Error | undefined;
}

interface RunningWorker {
  readonly passes: Pass[];
  readonly wakes: { reason: NotifyWakeReason; outcome: string }[];
  readonly holder: string;
  stop(): Promise<NotifyWorkerStats>;
}

function startWorker(extra: Partial<NotifyWorkerOptions> = {}): RunningWorker {
  const abort = new AbortController();
  const passes: Pass[] = [];
  const wakes: { reason: NotifyWakeReason; outcome: string }[] = [];
  const holder = `notify-worker-test-${++workers}`;
  const done = runNotifyWorker({
    orm: t.orm,
    config: { NOTIFY_COOLDOWN_MINUTES: 0, WEBHOOK_ALLOW_PRIVATE: true },
    logger: silentLogger,
    databaseUrl: t.db.url,
    signal: abort.signal,
    holder,
    sweepMs: NO_SWEEP_MS,
    onPass: (stats, reason, error) => passes.push({ stats, reason, error }),
    onWake: (reason, outcome) => wakes.push({ reason, outcome }),
    ...extra,
  });
  // A failure surfaces in stop(); keep it from being reported as unhandled meanwhile.
  done.catch(() => undefined);
  return {
    passes,
    wakes,
    holder,
    stop: () => {
      abort.abort();
      return done;
    },
  };
}

/** What the discovery poller does: the drop and its NOTIFY in one transaction (delivered at COMMIT). */
async function commitDrop(d: DropSeed): Promise<string> {
  await c.query('begin');
  try {
    const id = await insertDrop(c, d);
    await c.query('select pg_notify($1, $2)', [DROPS_CHANNEL, '']);
    await c.query('commit');
    return id;
  } catch (err) {
    await c.query('rollback');
    throw err;
  }
}

const notified = (userId: string, count: number) =>
  waitFor(
    async () => {
      const rows = await notificationsOf(c, userId);
      return rows.length >= count ? rows : undefined;
    },
    VISIBLE_WITHIN_MS,
    `${count} notification(s) of user ${userId}`,
  );

const listenBackends = async () =>
  (
    await c.query<{ pid: number }>(
      'select pid from pg_stat_activity where application_name = $1 and datname = current_database()',
      [NOTIFY_LISTEN_APPLICATION_NAME],
    )
  ).rows.map((r) => r.pid);

beforeAll(async () => {
  c = await connect(t.db.url);
  receiver = await startReceiver();
  for (const id of ['1', '2', '3', '4', '5']) await seedVenue(c, `resy:w${id}`, `Worker venue ${id}`);
});
afterAll(async () => {
  await c?.end();
  await receiver?.close();
});

describe('runNotifyWorker (long-lived, woken by LISTEN)', () => {
  it('a drop committed after it started becomes a notification, a NOTIFY to onNew and a webhook, with no sweep', async () => {
    const secret = generateWebhookSecret();
    const user = await createUser(c, 'live-watcher', { url: receiver.url, secret });
    await addWatch(c, user, { venueId: 'resy:w1' });
    const onNew = await connect(t.db.url, 'notify-test-onnew');
    const notifications: string[] = [];
    onNew.on('notification', (m) => notifications.push(m.channel));
    await onNew.query(`listen ${NOTIFICATIONS_CHANNEL}`);
    const w = startWorker();
    try {
      await waitFor(() => (w.passes.length > 0 ? true : undefined), 30_000, 'the first pass (cursor created)');
      const drop = await commitDrop({ venueId: 'resy:w1' });
      expect((await notified(user, 1)).map((n) => n.drop_event_id)).toEqual([drop]);
      const hit = await waitFor(
        () => receiver.received.find((r) => r.body.includes(`"id":"${drop}"`)),
        VISIBLE_WITHIN_MS,
        'the webhook',
      );
      expect(JSON.parse(hit.body)).toMatchObject({ type: 'drop.opened', data: { drop: { id: drop } } });
      await waitFor(
        () => (notifications.includes(NOTIFICATIONS_CHANNEL) ? true : undefined),
        30_000,
        'NOTIFY dropwatch_notifications',
      );
      // Nothing but the LISTEN connection (and the first pass) woke it.
      expect(new Set(w.passes.map((p) => p.reason))).toSatisfy((reasons: Set<string>) =>
        [...reasons].every((r) => ['start', 'notify', 'visible'].includes(r)),
      );
      expect(w.passes.every((p) => p.error === undefined)).toBe(true);
    } finally {
      await w.stop();
      await onNew.end();
    }
  });

  it('drops committed during a pass coalesce into one more pass; every one is notified', async () => {
    const user = await createUser(c, 'burst-watcher');
    await addWatch(c, user, { venueId: 'resy:w2' });
    let entered = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = startWorker({
      // The first batch that notifies this user waits here, inside its transaction, until released.
      beforeCommit: async (db) => {
        if (entered) return;
        const { rows } = await db.query('select 1 from user_notifications where user_id = $1', [user]);
        if (rows.length === 0) return;
        entered = true;
        await gate;
      },
    });
    try {
      await waitFor(() => (w.passes.length > 0 ? true : undefined), 30_000, 'the first pass');
      await commitDrop({ venueId: 'resy:w2', slotTime: '18:00' });
      await waitFor(() => (entered ? true : undefined), VISIBLE_WITHIN_MS, 'a pass to hold the first drop');
      const wakesBefore = w.wakes.length;
      const burst = 10;
      for (let i = 0; i < burst; i++)
        await commitDrop({ venueId: 'resy:w2', slotTime: `19:${String(i).padStart(2, '0')}` });
      const during = await waitFor(
        () => {
          const since = w.wakes.slice(wakesBefore);
          return since.filter((x) => x.reason === 'notify').length >= burst ? since : undefined;
        },
        30_000,
        'the burst of NOTIFYs to reach the worker',
      );
      // One pass queued behind the running one; everything else joined it.
      expect(during.filter((x) => x.outcome === 'queued')).toHaveLength(1);
      expect(during.filter((x) => x.outcome !== 'queued').every((x) => x.outcome === 'coalesced')).toBe(true);
      const passesBefore = w.passes.length;
      release();
      expect(await notified(user, burst + 1)).toHaveLength(burst + 1);
      await w.stop();
      // The held pass, the one coalesced pass, and at most one woken when the held-back drops
      // became visible to the cursor: never one pass per NOTIFY.
      expect(w.passes.length - passesBefore).toBeLessThanOrEqual(3);
    } finally {
      release();
      await w.stop();
    }
  });

  it('re-opens its LISTEN connection after the backend is terminated; a later drop still arrives', async () => {
    const user = await createUser(c, 'reconnect-watcher');
    await addWatch(c, user, { venueId: 'resy:w3' });
    const w = startWorker();
    try {
      await waitFor(() => (w.passes.length > 0 ? true : undefined), 30_000, 'the first pass');
      const [before] = await listenBackends();
      expect(before).toBeDefined();
      await c.query('select pg_terminate_backend($1)', [before]);
      // A pass runs after the reconnect (a NOTIFY may have been missed while it was down).
      await waitFor(
        () => (w.passes.some((p) => p.reason === 'reconnect') ? true : undefined),
        30_000,
        'a pass after the reconnect',
      );
      const after = await listenBackends();
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before);
      const drop = await commitDrop({ venueId: 'resy:w3' });
      expect((await notified(user, 1)).map((n) => n.drop_event_id)).toEqual([drop]);
      const totals = await w.stop();
      expect(totals.listenReconnects).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it("passes by a feed rebuild's NOTIFY (each of its drops was announced by its own transaction)", async () => {
    const w = startWorker();
    try {
      await waitFor(() => (w.passes.length > 0 ? true : undefined), 30_000, 'the first pass');
      const rebuild = JSON.stringify({ drops: 1, closes: 0, versions: { nyc: 2 } });
      await c.query('select pg_notify($1, $2)', [DROPS_CHANNEL, rebuild]);
      await c.query('select pg_notify($1, $2)', [DROPS_CHANNEL, '{"bucket":"nyc_2030-01-01_20:00","drops":1}']);
      // One connection delivers in order: once the second has woken it, the first was passed by.
      await waitFor(() => (w.wakes.some((x) => x.reason === 'notify') ? true : undefined), 30_000, 'the NOTIFY');
      expect(w.wakes.filter((x) => x.reason === 'notify')).toHaveLength(1);
    } finally {
      await w.stop();
    }
  });

  it('holds the lease for its life: a second worker stands by, and takes over when the first stops or its lease expires', async () => {
    const user = await createUser(c, 'lease-watcher');
    await addWatch(c, user, { venueId: 'resy:w4' });
    const a = startWorker();
    let b: RunningWorker | undefined;
    try {
      await waitFor(() => (a.passes.length > 0 ? true : undefined), 30_000, 'worker a to take the lease and run');
      b = startWorker();
      const first = await commitDrop({ venueId: 'resy:w4', slotTime: '18:00' });
      await notified(user, 1);
      expect(b.passes).toHaveLength(0);
      expect(b.wakes.every((x) => x.outcome === 'ignored')).toBe(true);
      const lease = await c.query<{ holder: string }>(`select holder from job_leases where name = 'notify'`);
      expect(lease.rows).toEqual([{ holder: a.holder }]);

      await a.stop(); // releases the lease: b takes it at its next check
      const second = await commitDrop({ venueId: 'resy:w4', slotTime: '18:30' });
      expect((await notified(user, 2)).map((n) => n.drop_event_id)).toEqual([first, second]);
      // The notification commits before the pass ends (its delivery phase comes after).
      await waitFor(() => (b!.passes.length > 0 ? true : undefined), 30_000, 'worker b to finish its pass');
      const stats = await b.stop();
      expect(stats.leaseAcquired).toBe(1);
      // Released on stop.
      expect((await c.query(`select 1 from job_leases where name = 'notify'`)).rows).toEqual([]);

      // A holder that died without releasing: its lease runs out, then a standby takes over.
      await c.query(
        `insert into job_leases (name, holder, expires_at) values ('notify', 'crashed-replica', now() + interval '2 seconds')`,
      );
      const d = startWorker();
      try {
        const third = await commitDrop({ venueId: 'resy:w4', slotTime: '19:00' });
        expect((await notified(user, 3)).map((n) => n.drop_event_id)).toEqual([first, second, third]);
        const held = await c.query<{ holder: string }>(`select holder from job_leases where name = 'notify'`);
        expect(held.rows).toEqual([{ holder: d.holder }]);
      } finally {
        await d.stop();
      }
    } finally {
      await a.stop();
      await b?.stop();
    }
  });

  it('on abort it finishes, closes its LISTEN connection and releases the lease', async () => {
    const w = startWorker();
    await waitFor(() => (w.passes.length > 0 ? true : undefined), 30_000, 'the first pass');
    expect(await listenBackends()).toHaveLength(1);
    const totals = await w.stop();
    expect(totals.passes).toBeGreaterThan(0);
    expect(totals.failedPasses).toBe(0);
    await waitFor(
      async () => ((await listenBackends()).length === 0 ? true : undefined),
      10_000,
      'the LISTEN backend to go',
    );
    expect((await c.query(`select 1 from job_leases where name = 'notify'`)).rows).toEqual([]);
  });
});
