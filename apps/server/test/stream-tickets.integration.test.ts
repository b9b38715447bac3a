import http from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import superjson, { type SuperJSONResult } from 'superjson';
import type { Unsubscribable } from '@trpc/server/observable';
import { hashToken, issueToken, STREAM_TICKET_REFUSED, STREAM_TICKETS_PER_USER } from '@dropwatch/api';
import { createDropwatchClient, TRPCClientError, type EventSourceConstructorLike } from '@dropwatch/client';
import { loadConfig } from '@dropwatch/core';
import { runRetention } from '@dropwatch/discovery';
import { createLogger } from '../src/logger.js';
import { startApiHarness, waitFor, type ApiHarness } from './api-fixtures.js';

/** The first SSE frames of a request (until `until` matches), as text. */
function sseFrames(url: string, until: RegExp): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    // Bounded: a stream that never says what is awaited ends the wait with what it did say.
    const deadline = setTimeout(() => {
      req.destroy();
      resolve({ status: 0, text });
    }, 10_000);
    const req = http.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (until.test(text)) {
          clearTimeout(deadline);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (err) => (text ? resolve({ status: 0, text }) : reject(err)));
  });
}

/** What the SDK's subscription link puts in the URL: the input and the connection params. */
const onNewUrl = (base: string, params: Record<string, string> | null) =>
  `${base}/trpc/notifications.onNew?input=${encodeURIComponent(JSON.stringify(superjson.serialize({})))}` +
  (params ? `&connectionParams=${encodeURIComponent(JSON.stringify(params))}` : '');

const CONNECTED = /event: connected/;
const ERROR = /event: serialized-error\ndata: (.*)\n/;

describe('stream tickets: browser auth for subscriptions over HTTP', () => {
  let h: ApiHarness;
  let token: string;
  let userId: string;
  const logs = new PassThrough();
  let logText = '';
  const subs: Unsubscribable[] = [];

  beforeAll(async () => {
    logs.on('data', (c: Buffer) => (logText += c.toString('utf8')));
    // Everything the server logs at its most verbose level is kept, to look for secrets in it.
    h = await startApiHarness({ LOG_LEVEL: 'trace' }, { logger: createLogger('trace', logs) });
    const issued = await issueToken(h.app.orm.em.fork(), { userName: 'ticket-user', role: 'user' });
    token = issued.token;
    userId = issued.userId;
  });
  afterAll(async () => {
    for (const s of subs) s.unsubscribe();
    await h?.stop();
  });

  const newTicket = async () => (await h.client(token).auth.streamTicket.mutate()).ticket;
  const refusal = (text: string) => {
    const m = ERROR.exec(text);
    expect(m, `a serialized error in ${text.slice(0, 300)}`).toBeTruthy();
    return superjson.deserialize<{ message: string; data: { code: string } }>(JSON.parse(m![1]!) as SuperJSONResult);
  };

  it('a ticket opens one subscription, once: the same ticket again is refused with a readable UNAUTHORIZED', async () => {
    const { ticket, expiresAt } = await h.client(token).auth.streamTicket.mutate();
    expect(ticket).toMatch(/^dwt_[\w-]{43}$/);
    const ttl = expiresAt.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(61_000);
    // Stored hashed: the table never holds the ticket itself.
    const stored = await h.sql.query<{ ticket_hash: string }>(
      'select ticket_hash from stream_tickets where user_id = $1',
      [userId],
    );
    expect(stored.rows.map((r) => r.ticket_hash)).toContain(hashToken(ticket));
    expect(stored.rows.some((r) => r.ticket_hash.includes(ticket))).toBe(false);

    const first = await sseFrames(onNewUrl(h.app.url, { ticket }), CONNECTED);
    expect(first.text).toMatch(CONNECTED);
    // Redeemed by that request (the SDK test below shows such a stream delivering).
    const used = await h.sql.query<{ used_at: Date | null }>(
      'select used_at from stream_tickets where ticket_hash = $1',
      [hashToken(ticket)],
    );
    expect(used.rows[0]!.used_at).toBeInstanceOf(Date);

    const again = await sseFrames(onNewUrl(h.app.url, { ticket }), ERROR);
    const err = refusal(again.text);
    expect(err.data.code).toBe('UNAUTHORIZED');
    expect(err.message).toBe(STREAM_TICKET_REFUSED);
  });

  it('refuses an expired ticket, a made-up one, and none at all', async () => {
    const ticket = await newTicket();
    await h.sql.query(`update stream_tickets set expires_at = now() - interval '1 second' where ticket_hash = $1`, [
      hashToken(ticket),
    ]);
    const expired = await sseFrames(onNewUrl(h.app.url, { ticket }), ERROR);
    expect(refusal(expired.text).message).toBe(STREAM_TICKET_REFUSED);

    const foreign = await sseFrames(onNewUrl(h.app.url, { ticket: `dwt_${'A'.repeat(43)}` }), ERROR);
    expect(refusal(foreign.text).data.code).toBe('UNAUTHORIZED');
    // An API token is not a ticket.
    const tokenAsTicket = await sseFrames(onNewUrl(h.app.url, { ticket: token }), ERROR);
    expect(refusal(tokenAsTicket.text).data.code).toBe('UNAUTHORIZED');

    const none = await sseFrames(onNewUrl(h.app.url, null), ERROR);
    expect(refusal(none.text).data.code).toBe('UNAUTHORIZED');
  });

  it('a ticket authenticates subscriptions only, and streamTicket needs the bearer token', async () => {
    const ticket = await newTicket();
    const res = await fetch(
      `${h.app.url}/trpc/watches.list?connectionParams=${encodeURIComponent(JSON.stringify({ ticket }))}`,
    );
    expect(res.status).toBe(401);
    // …and was not spent by that request.
    const unused = await h.sql.query<{ used_at: Date | null }>(
      'select used_at from stream_tickets where ticket_hash = $1',
      [hashToken(ticket)],
    );
    expect(unused.rows[0]!.used_at).toBeNull();

    const anonymous = await h
      .client()
      .auth.streamTicket.mutate()
      .catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(TRPCClientError);
    expect(((anonymous as TRPCClientError<never>).data as { code?: string } | undefined)?.code).toBe('UNAUTHORIZED');
  });

  it('the SDK sends a ticket, never the token, in the SSE URL, and a notification arrives live', async () => {
    const urls: string[] = [];
    const Recording = class extends EventSource {
      constructor(url: string | URL, init?: ConstructorParameters<typeof EventSource>[1]) {
        urls.push(String(url));
        super(url, init);
      }
    } as unknown as EventSourceConstructorLike;
    const client = createDropwatchClient({ url: h.app.url, token, EventSource: Recording });
    const got: string[] = [];
    const errors: unknown[] = [];
    let started = false;
    subs.push(
      client.notifications.onNew.subscribe(
        {},
        {
          onStarted: () => (started = true),
          onData: (e) => got.push(e.data.drop.venue.name),
          onError: (e) => errors.push(e),
        },
      ),
    );
    await waitFor(() => (started ? true : undefined), 20_000, 'the subscription to start');
    await insertNotification(h, userId, 'Ticketed Bistro');
    await waitFor(() => (got.length > 0 ? true : undefined), 20_000, 'the notification over SSE');
    expect(got).toEqual(['Ticketed Bistro']);
    expect(errors).toEqual([]);
    expect(urls).toHaveLength(1);
    expect(urls[0]).not.toContain(token);
    expect(urls[0]).not.toContain(encodeURIComponent(token));
    expect(decodeURIComponent(urls[0]!)).toMatch(/"ticket":"dwt_/);
  });

  it('a user holds a bounded number of live tickets (TOO_MANY_REQUESTS beyond), and retention removes expired ones', async () => {
    const other = await issueToken(h.app.orm.em.fork(), { userName: 'ticket-hoarder', role: 'user' });
    const c = h.client(other.token);
    for (let i = 0; i < STREAM_TICKETS_PER_USER; i++) await c.auth.streamTicket.mutate();
    const over = await c.auth.streamTicket.mutate().catch((e: unknown) => e);
    expect(((over as TRPCClientError<never>).data as { code?: string } | undefined)?.code).toBe('TOO_MANY_REQUESTS');
    expect((over as Error).message).toContain('stream tickets');

    await h.sql.query(`update stream_tickets set expires_at = now() - interval '1 minute' where user_id = $1`, [
      other.userId,
    ]);
    const live = await newTicket();
    const result = await runRetention({ orm: h.app.orm, config: loadConfig({}) });
    expect(result.status).toBe('ok');
    if (result.status === 'ok') expect(result.deleted.stream_tickets).toBeGreaterThanOrEqual(STREAM_TICKETS_PER_USER);
    const left = await h.sql.query<{ n: number }>('select count(*)::int as n from stream_tickets where user_id = $1', [
      other.userId,
    ]);
    expect(left.rows[0]!.n).toBe(0);
    const kept = await h.sql.query('select 1 from stream_tickets where ticket_hash = $1', [hashToken(live)]);
    expect(kept.rowCount).toBe(1);
  });

  it('neither the token nor any ticket appears in the server log', async () => {
    const tickets = await h.sql.query<{ ticket_hash: string }>('select ticket_hash from stream_tickets');
    expect(tickets.rowCount).toBeGreaterThan(0);
    expect(logText.length).toBeGreaterThan(0);
    expect(logText).not.toContain(token);
    expect(logText).not.toMatch(/dwt_[\w-]{20,}/);
    expect(logText).not.toContain('connectionParams');
  });
});

async function insertNotification(h: ApiHarness, userId: string, venueName: string): Promise<void> {
  const now = new Date();
  const drop = {
    id: '1',
    market: 'nyc',
    bucketId: 'nyc_2026-12-01_20:30',
    venue: { id: 'resy:1', name: venueName, neighborhood: null, bookingUrl: null, imageUrl: null },
    slotDate: '2026-12-01',
    slotTime: '20:30',
    partySizes: [2],
    openedAt: now.toISOString(),
    closedAt: null,
    rarity: 10,
  };
  await h.sql.query(
    `insert into user_notifications (user_id, drop_event_id, drop_opened_minute, payload) values ($1, 1, date_trunc('minute', now()), $2)`,
    [userId, JSON.stringify(drop)],
  );
  await h.sql.query(`select pg_notify('dropwatch_notifications', '{}')`);
}
