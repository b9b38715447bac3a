import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { useTestDatabase } from '@dropwatch/db/testing';
import { closeEmailTransports, runNotify, type NotifyOptions } from '../src/index.js';
import {
  decryptPush,
  makeSubscription,
  startHttpReceiver,
  startSmtpReceiver,
  verifyVapid,
  type HttpReceiver,
  type SmtpReceiver,
} from './channel-receivers.js';
import {
  addDestination,
  addWatch,
  connect,
  createUser,
  insertDrop,
  seedVenue,
  silentLogger,
  waitFor,
} from './notify-fixtures.js';

/** The cursor lags by the oldest open transaction of the shared cluster: generous waits. */
const VISIBLE_WITHIN_MS = 90_000;
vi.setConfig({ testTimeout: 200_000 });

const t = useTestDatabase();
let c: pg.Client;
let smtp: SmtpReceiver;
let telegram: HttpReceiver;
let telegramAnswer = 200;
const closers: (() => Promise<void>)[] = [];
let seq = 0;
const VAPID_SUBJECT = 'mailto:ops@example.test';

const notify = (extra: Partial<NotifyOptions> = {}) =>
  runNotify({
    orm: t.orm,
    config: {
      NOTIFY_COOLDOWN_MINUTES: 0,
      WEBHOOK_ALLOW_PRIVATE: true,
      TELEGRAM_API_URL: `${telegram.url}/tg`,
      SMTP_URL: smtp.url,
      SMTP_FROM: 'dropwatch <alerts@example.test>',
      VAPID_SUBJECT,
    },
    logger: silentLogger,
    delivery: { retryBaseMs: 20, maxAttempts: 3, timeoutMs: 3_000 },
    ...extra,
  });

interface Row {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
}

const deliveriesTo = async (destinationId: string) =>
  (
    await c.query<Row>(
      'select id::text, status, attempts, last_error, next_attempt_at from webhook_deliveries where destination_id = $1 order by id',
      [destinationId],
    )
  ).rows;

const notifyUntil = (destinationId: string, done: (rows: Row[]) => boolean, what: string) =>
  waitFor(
    async () => {
      await notify();
      const rows = await deliveriesTo(destinationId);
      return done(rows) ? rows : undefined;
    },
    VISIBLE_WITHIN_MS,
    what,
  );

/** A user watching a venue of their own (with a booking link), and a drop there. */
async function userWithDrop(channel: string, settings: Record<string, unknown>, secrets: Record<string, unknown> = {}) {
  const n = ++seq;
  const venue = `resy:${900 + n}`;
  await seedVenue(c, venue, `Chez Canal ${n}`);
  const bookingUrl = `https://book.example.test/venue/${n}?d=1`;
  await c.query('update venues set booking_url = $2, neighborhood = $3 where venue_id = $1', [
    venue,
    bookingUrl,
    'SoHo',
  ]);
  const user = await createUser(c, `${channel}-user-${n}`);
  await addWatch(c, user, { venueId: venue });
  const destination = await addDestination(c, user, channel, settings, secrets);
  const drop = await insertDrop(c, { venueId: venue, slotTime: '19:30', partySizes: [2, 4] });
  return { user, venue, bookingUrl, destination, drop, name: `Chez Canal ${n}` };
}

beforeAll(async () => {
  c = await connect(t.db.url);
  smtp = await startSmtpReceiver();
  telegram = await startHttpReceiver(() =>
    telegramAnswer === 200
      ? { status: 200, body: '{"ok":true,"result":{"message_id":1}}' }
      : { status: telegramAnswer, body: '{"ok":false,"description":"Forbidden: bot was blocked by the user"}' },
  );
  await notify();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
afterAll(async () => {
  closeEmailTransports();
  await smtp?.close();
  await telegram?.close();
  await c?.end();
});

describe('ntfy', () => {
  it('publishes title, message, click link, tags, priority and the delivery id as sequence id, with the access token', async () => {
    const ntfy = await startHttpReceiver();
    closers.push(() => ntfy.close());
    const d = await userWithDrop(
      'ntfy',
      {
        topicUrl: `${ntfy.url}/prefix/dropwatch-alerts`,
        priority: 5,
        tags: ['fork_and_knife', 'tada'],
        hasAccessToken: true,
      },
      { accessToken: 'tk_testtoken123' },
    );
    const [row] = await notifyUntil(d.destination, (r) => r[0]?.status === 'delivered', 'the ntfy message');
    expect(ntfy.hits).toHaveLength(1);
    const hit = ntfy.hits[0]!;
    expect(hit.path).toBe('/prefix');
    expect(hit.headers.authorization).toBe('Bearer tk_testtoken123');
    expect(JSON.parse(hit.body.toString())).toEqual({
      topic: 'dropwatch-alerts',
      title: `Table at ${d.name}`,
      message: expect.stringContaining('19:30') as unknown,
      click: d.bookingUrl,
      tags: ['fork_and_knife', 'tada'],
      priority: 5,
      sequence_id: `dropwatch-${row!.id}`,
    });
    const { rows } = await c.query('select last_status, failure_count from destinations where id = $1', [
      d.destination,
    ]);
    expect(rows[0]).toEqual({ last_status: 'delivered', failure_count: 0 });
  });
});

describe('telegram', () => {
  it('sends the message with a Book button to the chat through TELEGRAM_API_URL; 403 (bot blocked) disables the destination', async () => {
    telegramAnswer = 200;
    const token = '123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ';
    const d = await userWithDrop('telegram', { chatId: '-1001234567' }, { botToken: token });
    await notifyUntil(d.destination, (r) => r[0]?.status === 'delivered', 'the telegram message');
    const hit = telegram.hits.at(-1)!;
    expect(hit.path).toBe(`/tg/bot${token}/sendMessage`);
    const body = JSON.parse(hit.body.toString()) as {
      chat_id: string;
      text: string;
      parse_mode: string;
      reply_markup: { inline_keyboard: { text: string; url: string }[][] };
    };
    expect(body.chat_id).toBe('-1001234567');
    expect(body.parse_mode).toBe('HTML');
    expect(body.text).toContain(`<b>Table at ${d.name}</b>`);
    expect(body.text).toContain(d.bookingUrl.replace('&', '&amp;'));
    expect(body.reply_markup.inline_keyboard[0]![0]).toEqual({ text: 'Book', url: d.bookingUrl });

    telegramAnswer = 403;
    const blocked = await userWithDrop('telegram', { chatId: '42' }, { botToken: token });
    const [row] = await notifyUntil(blocked.destination, (r) => r[0]?.status === 'failed', 'the blocked chat');
    expect(row!.last_error).toMatch(/HTTP 403: Forbidden: bot was blocked/);
    expect(row!.last_error).not.toContain(token);
    const { rows } = await c.query<{ disabled_at: Date | null; disabled_reason: string }>(
      'select disabled_at, disabled_reason from destinations where id = $1',
      [blocked.destination],
    );
    expect(rows[0]!.disabled_at).toBeInstanceOf(Date);
    expect(rows[0]!.disabled_reason).not.toContain(token);
    telegramAnswer = 200;
  });
});

describe('email', () => {
  it('an SMTP server receives a plain-text and an HTML body, both with the booking link', async () => {
    const d = await userWithDrop('email', { to: 'diner@example.test' });
    const [row] = await notifyUntil(d.destination, (r) => r[0]?.status === 'delivered', 'the email');
    await waitFor(() => (smtp.mails.length > 0 ? true : undefined), 10_000, 'the parsed mail');
    const mail = smtp.mails.find((m) => m.subject === `Table at ${d.name}`)!;
    expect(mail).toBeDefined();
    expect(mail.from?.text).toContain('alerts@example.test');
    const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
    expect(to?.text).toBe('diner@example.test');
    expect(mail.text).toContain(`Book: ${d.bookingUrl}`);
    expect(mail.text).toContain('19:30 · party of 2 or 4 (SoHo)');
    expect(mail.html).toContain(`<a href="${d.bookingUrl}">Book this table</a>`);
    expect(mail.messageId).toBe(`<dropwatch-${row!.id}@dropwatch.invalid>`);
  });
});

describe('web push', () => {
  it('the push service gets a VAPID-signed request (ES256, aud = endpoint origin) whose aes128gcm payload decrypts to the drop', async () => {
    const push = await startHttpReceiver(() => ({ status: 201 }));
    closers.push(() => push.close());
    const sub = makeSubscription(`${push.url}/push/sub-1`);
    const d = await userWithDrop(
      'webpush',
      { endpointOrigin: push.url },
      { endpoint: sub.subscription.endpoint, ...sub.subscription.keys },
    );
    const [row] = await notifyUntil(d.destination, (r) => r[0]?.status === 'delivered', 'the push');
    const hit = push.hits[0]!;
    expect(hit.path).toBe('/push/sub-1');
    expect(hit.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(hit.headers.ttl)).toBeGreaterThan(0);
    const { claims, publicKey } = verifyVapid(hit.headers.authorization, push.url);
    expect(claims.sub).toBe(VAPID_SUBJECT);
    // No VAPID_* set: the pair was generated once and kept in the database.
    const { rows: keys } = await c.query<{ public_key: string }>(
      `select public_key from server_keys where name = 'vapid'`,
    );
    expect(keys[0]!.public_key).toBe(publicKey);
    const payload = JSON.parse(decryptPush(hit.body, sub)) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: row!.id, type: 'drop.opened', title: `Table at ${d.name}`, url: d.bookingUrl });
    // A subscription made with other keys cannot read it.
    expect(() => decryptPush(hit.body, makeSubscription(sub.subscription.endpoint))).toThrow();
  });

  it('404 or 410 from the push service removes the subscription', async () => {
    const push = await startHttpReceiver(() => ({ status: 410 }));
    closers.push(() => push.close());
    const sub = makeSubscription(`${push.url}/push/expired`);
    const d = await userWithDrop(
      'webpush',
      { endpointOrigin: push.url },
      { endpoint: sub.subscription.endpoint, ...sub.subscription.keys },
    );
    await waitFor(
      async () => {
        await notify();
        const { rows } = await c.query('select 1 from destinations where id = $1', [d.destination]);
        return rows.length === 0 ? true : undefined;
      },
      VISIBLE_WITHIN_MS,
      'the subscription to be removed',
    );
    expect(push.hits).toHaveLength(1);
    const { rows } = await c.query<{ status: string; destination_id: string | null }>(
      'select status, destination_id::text from webhook_deliveries where user_id = $1',
      [d.user],
    );
    expect(rows).toEqual([{ status: 'failed', destination_id: null }]);
  });
});

describe('routing and quiet hours', () => {
  it('a destination routed to another watch gets nothing; one in its quiet hours gets the row due when they end', async () => {
    const hook = await startHttpReceiver();
    closers.push(() => hook.close());
    const n = ++seq;
    const venue = `resy:${900 + n}`;
    await seedVenue(c, venue, `Routed ${n}`);
    const user = await createUser(c, `routed-${n}`);
    const watched = await addWatch(c, user, { venueId: venue });
    const other = await addWatch(c, user, { venueId: `resy:${900 + n}0` });
    const routedElsewhere = await addDestination(
      c,
      user,
      'ntfy',
      { topicUrl: `${hook.url}/t`, priority: 3, tags: [] },
      {},
      {
        watchIds: [other],
      },
    );
    const routedHere = await addDestination(
      c,
      user,
      'ntfy',
      { topicUrl: `${hook.url}/t`, priority: 3, tags: [] },
      {},
      {
        watchIds: [watched],
      },
    );
    // Quiet from an hour ago to an hour from now, in UTC.
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const quiet = await addDestination(
      c,
      user,
      'ntfy',
      { topicUrl: `${hook.url}/t`, priority: 3, tags: [] },
      {},
      {
        quietStart: hhmm(Date.now() - 3_600_000),
        quietEnd: hhmm(Date.now() + 3_600_000),
        quietTimeZone: 'Etc/UTC',
      },
    );
    await insertDrop(c, { venueId: venue });
    await notifyUntil(routedHere, (r) => r[0]?.status === 'delivered', 'the routed destination');
    expect(await deliveriesTo(routedElsewhere)).toEqual([]);
    const [held] = await deliveriesTo(quiet);
    expect(held).toMatchObject({ status: 'pending', attempts: 0 });
    expect(held!.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(held!.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(hook.hits).toHaveLength(1);
  });
});
