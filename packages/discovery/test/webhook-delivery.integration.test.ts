import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { freePort, useTestDatabase } from '@dropwatch/db/testing';
import { generateWebhookSecret, runNotify, verifyWebhook, type NotifyOptions } from '../src/index.js';
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

async function deliveries(userId: string) {
  const { rows } = await c.query<{ status: string; attempts: number; last_error: string | null; payload: { drop: { id: string } } }>(
    'select status, attempts, last_error, payload from webhook_deliveries where user_id = $1 order by id',
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
  return { user, secret, drop };
}

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

describe('webhook deliveries', () => {
  it('the receiver gets a JSON body whose signature verifies with the user secret', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const { user, secret, drop } = await userWithDrop(r.url);
    await waitFor(async () => {
      await notify();
      return r.received.length > 0 ? true : undefined;
    }, VISIBLE_WITHIN_MS, 'the webhook');
    const got = r.received[0]!;
    expect(verifyWebhook(secret, { signature: got.signature, timestamp: got.timestamp }, got.body, { toleranceSeconds: 300 })).toBe(true);
    expect(verifyWebhook(generateWebhookSecret(), { signature: got.signature, timestamp: got.timestamp }, got.body, { toleranceSeconds: 300 })).toBe(false);
    expect(verifyWebhook(secret, { signature: got.signature, timestamp: got.timestamp }, got.body.replace('}', ' }'), { toleranceSeconds: 300 })).toBe(false);
    const body = JSON.parse(got.body) as { type: string; notificationId: string; drop: { id: string; venue: { id: string } } };
    expect(body.type).toBe('drop');
    expect(body.drop.id).toBe(drop);
    expect(await deliveries(user)).toMatchObject([{ status: 'delivered', attempts: 1, last_error: null }]);
  });

  it('a receiver failing twice then succeeding gets it on the third attempt', async () => {
    const r = await startReceiver((n) => ({ status: n <= 2 ? 500 : 200 }));
    receivers.push(r);
    const { user } = await userWithDrop(r.url);
    await waitFor(async () => {
      await notify();
      const d = await deliveries(user);
      return d[0]?.status === 'delivered' ? true : undefined;
    }, VISIBLE_WITHIN_MS, 'the third attempt');
    expect(r.received).toHaveLength(3);
    expect(await deliveries(user)).toMatchObject([{ status: 'delivered', attempts: 3 }]);
    // Same body each time, each signed afresh.
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
  });

  it('a dead receiver ends as failed with its last error', async () => {
    const port = await freePort();
    const { user } = await userWithDrop(`http://127.0.0.1:${port}/hook`);
    await waitFor(async () => {
      await notify();
      const d = await deliveries(user);
      return d[0]?.status === 'failed' ? true : undefined;
    }, VISIBLE_WITHIN_MS, 'the delivery to fail');
    const [d] = await deliveries(user);
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
    await waitFor(async () => {
      await notify({ deliver: false });
      return (await deliveries(s.user)).length === 1 && (await deliveries(f.user)).length === 1 ? true : undefined;
    }, VISIBLE_WITHIN_MS, 'both deliveries queued');
    const started = Date.now();
    const run = notify();
    await waitFor(() => (fast.received.length > 0 ? true : undefined), 5_000, 'the fast receiver');
    const fastAfter = fast.received[0]!.at - started;
    expect(slow.received.length).toBe(1); // the slow one was called at the same time…
    expect(fastAfter).toBeLessThan(1_000); // …and the fast one did not wait for it
    const stats = await run;
    expect(stats.webhooks.delivered).toBeGreaterThanOrEqual(2);
    expect(await deliveries(s.user)).toMatchObject([{ status: 'delivered' }]);
  });
});

describe('webhook delivery budget', () => {
  it('a run stops starting POSTs after its budget and releases the rest for the next run', async () => {
    const slow = await startReceiver(() => ({ status: 200, delayMs: 300 }));
    receivers.push(slow);
    const users = [await userWithDrop(slow.url), await userWithDrop(slow.url), await userWithDrop(slow.url)];
    await waitFor(async () => {
      await notify({ deliver: false });
      const queued = await Promise.all(users.map((u) => deliveries(u.user)));
      return queued.every((q) => q.length === 1) ? true : undefined;
    }, VISIBLE_WITHIN_MS, 'three deliveries queued');
    const first = await notify({ delivery: { retryBaseMs: 20, maxAttempts: 3, timeoutMs: 2_000, concurrency: 1, budgetMs: 100 } });
    expect(first.webhooks.delivered).toBe(1);
    expect(first.webhooks.released).toBe(2);
    const second = await notify();
    expect(second.webhooks.delivered).toBe(2);
    expect(slow.received).toHaveLength(3);
  });
});
