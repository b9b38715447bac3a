import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { EventSource } from 'eventsource';
import { loadConfig, slotKey } from '@dropwatch/core';
import { createDropwatchClient, type DropwatchClient } from '@dropwatch/client';
import { createTestDatabase, type TestDatabase } from '@dropwatch/db/testing';
import { startApp, type App } from '../src/app.js';
import { createLogger, type Logger } from '../src/logger.js';

/** The admin token the test servers start with (DROPWATCH_ADMIN_TOKEN). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';

export interface ApiHarness {
  readonly db: TestDatabase;
  readonly app: App;
  readonly sql: pg.Pool;
  client(token?: string): DropwatchClient;
  stop(): Promise<void>;
}

/** A real server (startApp, role api: no jobs touch the seeded rows) on 127.0.0.1:0. */
export async function startApiHarness(
  env: Record<string, string> = {},
  opts: { logger?: Logger } = {},
): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    LOG_LEVEL: 'silent',
    DROPWATCH_ROLE: 'api',
    DROPWATCH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ...env,
  });
  const app = await startApp({
    config,
    logger: opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    baseDir: process.cwd(),
  });
  const sql = new pg.Pool({ connectionString: db.url, max: 4 });
  return {
    db,
    app,
    sql,
    client: (token) => createDropwatchClient({ url: app.url, ...(token ? { token } : {}), EventSource }),
    async stop() {
      await sql.end();
      await app.stop();
      await db.drop();
    },
  };
}

export { waitFor } from '@dropwatch/db/testing';

type Queryable = Pick<pg.Pool, 'query'> | pg.Client | pg.PoolClient;

export async function seedBucket(
  sql: Queryable,
  b: { market: string; date: string; timeSlot: string; scannedAt?: Date | null },
): Promise<string> {
  const bucketId = `${b.market}_${b.date}_${b.timeSlot}`;
  await sql.query(
    `insert into discovery_buckets (bucket_id, market, date, time_slot, scanned_at, slot_count, baseline_complete)
     values ($1, $2, $3, $4, $5, 10, true) on conflict (bucket_id) do nothing`,
    [bucketId, b.market, b.date, b.timeSlot, b.scannedAt === undefined ? new Date() : b.scannedAt],
  );
  return bucketId;
}

export async function seedVenue(
  sql: Queryable,
  v: { venueId: string; market: string; name: string; dropsInWindow?: number },
): Promise<void> {
  await sql.query(
    `insert into venues (venue_id, provider, market, name, neighborhood, booking_url, image_url)
     values ($1, 'resy', $2, $3, 'Soho', 'https://example.test/book', 'https://example.test/img.jpg')
     on conflict (venue_id) do nothing`,
    [v.venueId, v.market, v.name],
  );
  if (v.dropsInWindow) {
    await sql.query(
      `insert into venue_metrics (venue_id, day, drops) values ($1, current_date, $2)
       on conflict (venue_id, day) do update set drops = excluded.drops`,
      [v.venueId, v.dropsInWindow],
    );
  }
}

export interface SeededDrop {
  readonly id: string;
  readonly txId: string;
}

/** One drop event, open (with its availability_state row) unless `open: false`. */
export async function seedDrop(
  sql: Queryable,
  d: {
    bucketId: string;
    venueId: string;
    market: string;
    slotDate: string;
    slotTime?: string;
    partySizes?: number[];
    openedAt?: Date;
    open?: boolean;
  },
): Promise<SeededDrop> {
  const slotId = randomBytes(16).toString('hex');
  const openedAt = d.openedAt ?? new Date();
  const { rows } = await sql.query<{ id: string; tx_id: string; opened_minute: Date }>(
    `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes,
                              opened_at, opened_minute, closed_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8::int[], $9, date_trunc('minute', $9::timestamptz), $10)
     returning id::text, tx_id::text, opened_minute`,
    [
      d.bucketId,
      slotId,
      slotKey(slotId).toString(),
      d.venueId,
      d.market,
      d.slotDate,
      d.slotTime ?? '20:30',
      `{${(d.partySizes ?? [2]).join(',')}}`,
      openedAt,
      d.open === false ? new Date() : null,
    ],
  );
  const row = rows[0]!;
  if (d.open !== false) {
    await sql.query(
      `insert into availability_state (bucket_id, slot_key, drop_event_id, drop_opened_minute, venue_id, market, slot_date, opened_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [d.bucketId, slotKey(slotId).toString(), row.id, row.opened_minute, d.venueId, d.market, d.slotDate, openedAt],
    );
  }
  return { id: row.id, txId: row.tx_id };
}

/**
 * The NOTIFY the poller sends with every drop it commits (sent here after the commit, from any
 * session): live readers and the API's cached feed.newDrops answers wake on it.
 */
export async function announceDrops(sql: Queryable): Promise<void> {
  await sql.query(`select pg_notify('dropwatch_drops', '{}')`);
}

export const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

/** Today's UTC date plus `days`, as YYYY-MM-DD. */
export const dayFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** The bound the docs state for briefly kept answers (not the server's constant: a test of a longer bound must fail). */
export const BRIEFLY_KEPT_MS = 1_000;

export interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** As it came over the wire (not decoded). */
  readonly body: Buffer;
}

/** A GET over node:http, not fetch: fetch decodes br and hides the bytes sent. */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
