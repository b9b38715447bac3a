import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { freePort, useTestDatabase } from '@dropwatch/db/testing';
import type { PgClient } from '@dropwatch/db';
import {
  channelEnv,
  channelOf,
  deliverDue,
  generateWebhookSecret,
  runNotify,
  runNotifyPass,
  type NotifyOptions,
} from '../src/index.js';
import { DELIVERED_SQL } from '../src/delivery/destination-sql.js';
import { addWatch, connect, createUser, insertDrop, seedVenue, silentLogger, waitFor } from './notify-fixtures.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

/** The cursor lags by the oldest open transaction of the shared cluster: generous waits. */
const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

const t = useTestDatabase();
let c: pg.Client;
const receivers: Receiver[] = [];
let venueSeq = 0;

const notify = (extra: Partial<NotifyOptions> = {}) =>
  runNotify({
    orm: t.orm,
    config: { NOTIFY_COOLDOWN_MINUTES: 0, WEBHOOK_ALLOW_PRIVATE: true },
    logger: silentLogger,
    delivery: { retryBaseMs: 20, maxAttempts: 3, timeoutMs: 2_000 },
    ...extra,
  });

interface DeliveryRow {
  id: string;
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

async function deliveries(userId: string): Promise<DeliveryRow[]> {
  const { rows } = await c.query<DeliveryRow>(
    'select id::text, channel, status, attempts, last_error from webhook_deliveries where user_id = $1 order by id',
    [userId],
  );
  return rows;
}

/** A user with a webhook watching a venue of their own, and one drop there. */
async function userWithDrop(url: string) {
  const venue = `resy:${700 + ++venueSeq}`;
  await seedVenue(c, venue, `Hooked ${venueSeq}`);
  const secret = generateWebhookSecret();
  const user = await createUser(c, `hooked-${venueSeq}`, { url, secret });
  await addWatch(c, user, { venueId: venue });
  const drop = await insertDrop(c, { venueId: venue });
  return { user, secret, drop, venue };
}

/** Runs notify until the user's deliveries satisfy `done`. */
const notifyUntil = (
  user: string,
  done: (d: DeliveryRow[]) => boolean,
  what: string,
  extra: Partial<NotifyOptions> = {},
) =>
  waitFor(
    async () => {
      await notify(extra);
      const d = await deliveries(user);
      return done(d) ? d : undefined;
    },
    VISIBLE_WITHIN_MS,
    what,
  );

beforeAll(async () => {
  c = await connect(t.db.url);
  await notify();
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => {
  await c?.end();
});

describe('webhook deliveries (Standard Webhooks 1.0)', () => {
  it('the receiver verifies the body with the standardwebhooks library; webhook-id is the delivery id; the payload is drop.opened', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const { user, secret, drop, venue } = await userWithDrop(r.url);
    const [row] = await notifyUntil(user, (d) => d[0]?.status === 'delivered', 'the webhook');
    const got = r.received[0]!;
    const body = new Webhook(secret).verify(got.body, got.headers) as {
      type: string;
      timestamp: string;
      data: { notificationId: string; drop: { id: string; venue: { id: string } } };
    };
    expect(got.headers['webhook-id']).toBe(row!.id);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(body.type).toBe('drop.opened');
    expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(body.data.drop).toMatchObject({ id: drop, venue: { id: venue } });
    const { rows } = await c.query<{ id: string }>('select id::text from user_notifications where user_id = $1', [
      user,
    ]);
    expect(body.data.notificationId).toBe(rows[0]!.id);
    expect(() => new Webhook(generateWebhookSecret()).verify(got.body, got.headers)).toThrow();
    expect(() => new Webhook(secret).verify(got.body.replace('}', ' }'), got.headers)).toThrow();
    expect(row).toMatchObject({ channel: 'webhook', status: 'delivered', attempts: 1, last_error: null });
  });

  it('during a rotation both secrets sign: a receiver verifies with either; after the window only the new one signs', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const { user, secret: old } = await userWithDrop(r.url);
    const fresh = generateWebhookSecret();
    await c.query(
      `update destinations set secrets = jsonb_build_object('signingSecret', $2::text, 'previousSecret', $3::text,
         'previousUntil', to_char((now() + interval '1 hour') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
       where user_id = $1`,
      [user, fresh, old],
    );
    await notifyUntil(user, (d) => d[0]?.status === 'delivered', 'the webhook during rotation');
    const during = r.received[0]!;
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(fresh).verify(during.body, during.headers)).toBeTruthy();
    expect(new Webhook(old).verify(during.body, during.headers)).toBeTruthy();

    // The window is over: the old secret no longer verifies the next delivery.
    await c.query(
      `update destinations set secrets = secrets || jsonb_build_object('previousUntil',
         to_char((now() - interval '1 second') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
       where user_id = $1`,
      [user],
    );
    const venue = `resy:${700 + ++venueSeq}`;
    await seedVenue(c, venue, `Rotated ${venueSeq}`);
    await addWatch(c, user, { venueId: venue });
    await insertDrop(c, { venueId: venue });
    await notifyUntil(user, (d) => d.length === 2 && d[1]!.status === 'delivered', 'the webhook after rotation');
    const after = r.received[1]!;
    expect(after.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(new Webhook(fresh).verify(after.body, after.headers)).toBeTruthy();
    expect(() => new Webhook(old).verify(after.body, after.headers)).toThrow();
  });

  it('a receiver failing twice then succeeding gets it on the third attempt, same id and body, each verifiable', async () => {
    const r = await startReceiver((n) => ({ status: n <= 2 ? 500 : 200 }));
    receivers.push(r);
    const { user, secret } = await userWithDrop(r.url);
    await notifyUntil(user, (d) => d[0]?.status === 'delivered', 'the third attempt');
    expect(r.received).toHaveLength(3);
    expect(await deliveries(user)).toMatchObject([{ status: 'delivered', attempts: 3, last_error: null }]);
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
    expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
    for (const x of r.received) expect(new Webhook(secret).verify(x.body, x.headers)).toBeTruthy();
  });

  it('a pass woken by new drops delivers only if its fan-out queued some: a retry due by time waits for another pass', async () => {
    const r = await startReceiver((n) => ({ status: n === 1 ? 500 : 200 }));
    receivers.push(r);
    const { user } = await userWithDrop(r.url);
    await notifyUntil(user, (d) => d[0]?.attempts === 1, 'the first, failed attempt');
    await c.query("update webhook_deliveries set next_attempt_at = now() - interval '1 second' where user_id = $1", [
      user,
    ]);
    const passOptions = {
      orm: t.orm,
      config: { NOTIFY_COOLDOWN_MINUTES: 0, WEBHOOK_ALLOW_PRIVATE: true },
      logger: silentLogger,
      delivery: { retryBaseMs: 20, maxAttempts: 3, timeoutMs: 2_000 },
    };
    const woken = await runNotifyPass(passOptions, undefined, { deliverQueuedOnly: true });
    expect(woken.deliveriesQueued).toBe(0);
    expect(woken.delivery.claimed).toBe(0);
    expect(await deliveries(user)).toMatchObject([{ status: 'pending', attempts: 1 }]);
    expect(r.received).toHaveLength(1);
    // Any other pass (a sweep, a retry timer) sends it.
    expect((await runNotifyPass(passOptions)).delivery.delivered).toBe(1);
    expect(await deliveries(user)).toMatchObject([{ status: 'delivered', attempts: 2 }]);
  });

  it('a sender that dies between a send and its record: the row goes again once its claim lapses, same webhook-id and body, and is recorded once', async () => {
    const r = await startReceiver(() => ({ status: 200 }));
    receivers.push(r);
    const { user, secret } = await userWithDrop(r.url);
    await notifyUntil(user, (d) => d.length === 1, 'the delivery queued', { deliver: false });
    // The send reaches the receiver; the statement that records it never runs (the process died).
    const dying: PgClient = {
      query: ((text: string, values?: unknown[]) =>
        text === DELIVERED_SQL
          ? Promise.reject(new Error('killed after the send'))
          : c.query(text, values)) as PgClient['query'],
    };
    const deliverOnce = (db: PgClient) =>
      deliverDue(db, silentLogger, [channelOf('webhook')!], {
        allowPrivate: true,
        env: channelEnv(t.orm.em.fork(), {}),
      });
    await expect(deliverOnce(dying)).rejects.toThrow('killed after the send');
    expect(r.received).toHaveLength(1);
    expect(await deliveries(user)).toMatchObject([{ status: 'pending', attempts: 0 }]);
    // Still claimed: another sender skips it until the claim lapses.
    expect((await deliverOnce(c)).claimed).toBe(0);
    await c.query('update webhook_deliveries set next_attempt_at = now() where user_id = $1', [user]);
    expect((await deliverOnce(c)).delivered).toBe(1);
    expect(await deliveries(user)).toMatchObject([{ status: 'delivered', attempts: 1 }]);
    expect(r.received).toHaveLength(2);
    const [first, again] = r.received;
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(again!.body).toBe(first!.body);
    for (const x of r.received) expect(new Webhook(secret).verify(x.body, x.headers)).toBeTruthy();
  });

  it('410 Gone disables the webhook with its reason, cancels what is pending, and queues nothing more', async () => {
    const r = await startReceiver(() => ({ status: 410 }));
    receivers.push(r);
    const { user } = await userWithDrop(r.url);
    // A second pending delivery for the same user, queued before the 410 arrives.
    const venue = `resy:${700 + ++venueSeq}`;
    await seedVenue(c, venue, `Gone ${venueSeq}`);
    await addWatch(c, user, { venueId: venue });
    await insertDrop(c, { venueId: venue });
    await notifyUntil(user, (d) => d.length === 2, 'both deliveries queued', { deliver: false });
    await notify({ delivery: { retryBaseMs: 20, maxAttempts: 3, timeoutMs: 2_000, concurrency: 1 } });
    expect(r.received).toHaveLength(1); // the second was never sent
    const rows = await deliveries(user);
    expect(rows.map((d) => d.status)).toEqual(['failed', 'failed']);
    expect(rows[0]).toMatchObject({ attempts: 1, last_error: 'HTTP 410' });
    expect(rows[1]!.last_error).toMatch(/webhook gone: HTTP 410/);
    const { rows: u } = await c.query<{
      disabled_at: Date | null;
      disabled_reason: string | null;
      last_status: string;
      failure_count: number;
    }>('select disabled_at, disabled_reason, last_status, failure_count from destinations where user_id = $1', [user]);
    expect(u[0]!.disabled_at).toBeInstanceOf(Date);
    expect(u[0]!.disabled_reason).toMatch(/410.*gone/i);
    expect(u[0]).toMatchObject({ last_status: 'failed', failure_count: 1 });
    // A later drop makes a notification but no delivery.
    const later = `resy:${700 + ++venueSeq}`;
    await seedVenue(c, later, `Later ${venueSeq}`);
    await addWatch(c, user, { venueId: later });
    await insertDrop(c, { venueId: later });
    await waitFor(
      async () => {
        await notify();
        const { rows: n } = await c.query('select 1 from user_notifications where user_id = $1', [user]);
        return n.length === 3 ? true : undefined;
      },
      VISIBLE_WITHIN_MS,
      'the third notification',
    );
    expect(await deliveries(user)).toHaveLength(2);
    expect(r.received).toHaveLength(1);
  });

  it('a dead receiver ends as failed with its last error after the bounded attempts', async () => {
    const port = await freePort();
    const { user } = await userWithDrop(`http://127.0.0.1:${port}/hook`);
    const [d] = await notifyUntil(user, (rows) => rows[0]?.status === 'failed', 'the delivery to fail');
    expect(d).toMatchObject({ status: 'failed', attempts: 3 });
    expect(d!.last_error).toMatch(/ECONNREFUSED/);
  });

  it('a slow receiver does not delay other users', async () => {
    const slow = await startReceiver(() => ({ status: 200, delayMs: 1_500 }));
    const fast = await startReceiver();
    receivers.push(slow, fast);
    const s = await userWithDrop(slow.url);
    const f = await userWithDrop(fast.url);
    // Wait until both drops are fanned out (deliveries queued), without sending.
    await waitFor(
      async () => {
        await notify({ deliver: false });
        return (await deliveries(s.user)).length === 1 && (await deliveries(f.user)).length === 1 ? true : undefined;
      },
      VISIBLE_WITHIN_MS,
      'both deliveries queued',
    );
    const run = notify();
    await waitFor(() => (fast.received.length > 0 ? true : undefined), 5_000, 'the fast receiver');
    // The fast one was sent while the slow one was still holding its request open.
    expect(slow.received.length).toBe(1);
    expect((await deliveries(s.user))[0]!.status).toBe('pending');
    const stats = await run;
    expect(stats.delivery.delivered).toBeGreaterThanOrEqual(2);
    expect(await deliveries(s.user)).toMatchObject([{ status: 'delivered' }]);
  });
});

describe('delivery budget', () => {
  it('a run stops starting sends after its budget and releases the rest for the next run', async () => {
    const slow = await startReceiver(() => ({ status: 200, delayMs: 300 }));
    receivers.push(slow);
    const users = [await userWithDrop(slow.url), await userWithDrop(slow.url), await userWithDrop(slow.url)];
    await waitFor(
      async () => {
        await notify({ deliver: false });
        const queued = await Promise.all(users.map((u) => deliveries(u.user)));
        return queued.every((q) => q.length === 1) ? true : undefined;
      },
      VISIBLE_WITHIN_MS,
      'three deliveries queued',
    );
    const first = await notify({
      delivery: { retryBaseMs: 20, maxAttempts: 3, timeoutMs: 2_000, concurrency: 1, budgetMs: 100 },
    });
    expect(first.delivery.delivered).toBe(1);
    expect(first.delivery.released).toBe(2);
    const second = await notify();
    expect(second.delivery.delivered).toBe(2);
    expect(slow.received).toHaveLength(3);
  });
});
