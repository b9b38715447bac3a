import { waitFor } from '@dropwatch/db/testing';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '@dropwatch/core';

export const DAY_MS = 86_400_000;
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);
export const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);
export const ago = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);
export const partitionName = (table: string, day: string) => `${table}_p${day.replaceAll('-', '')}`;

/** Defaults, with small batches so the batching loop runs more than once. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ PRUNE_BATCH_SIZE: '100', ...env });
}

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'retention-test' });
  await client.connect();
  return client;
}

const randomKey = () => BigInt.asIntN(64, BigInt(`0x${randomBytes(8).toString('hex')}`)).toString();

export interface DropRef {
  readonly id: string;
  readonly openedMinute: Date;
}

export async function insertDrop(
  c: pg.Client,
  o: { openedAt: Date; venueId: string; bucketId?: string; market?: string; slotDate?: string },
): Promise<DropRef> {
  const { rows } = await c.query<{ id: string; opened_minute: Date }>(
    `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, opened_at, opened_minute)
     values ($1, $2, $3, $4, $5, $6::date, '20:30', $7, date_trunc('minute', $7::timestamptz))
     returning id::text, opened_minute`,
    [
      o.bucketId ?? 'nyc_2026-01-01_20:30',
      randomBytes(16).toString('hex'),
      randomKey(),
      o.venueId,
      o.market ?? 'nyc',
      o.slotDate ?? utcDay(o.openedAt),
      o.openedAt,
    ],
  );
  return { id: rows[0]!.id, openedMinute: rows[0]!.opened_minute };
}

export async function insertNotification(c: pg.Client, dropMinute: Date): Promise<void> {
  await c.query(
    `insert into user_notifications (user_id, drop_event_id, drop_opened_minute, payload)
     values (gen_random_uuid(), (random() * 1e9)::bigint, date_trunc('minute', $1::timestamptz), '{}')`,
    [dropMinute],
  );
}

export async function insertVenue(c: pg.Client, venueId: string, lastSeenAt: Date): Promise<void> {
  await c.query(
    `insert into venues (venue_id, provider, market, name, first_seen_at, last_seen_at) values ($1, 'sim', 'nyc', $1, $2, $2)`,
    [venueId, lastSeenAt],
  );
}

/** The first column of the first row, as a number (count(*), a counter). */
export async function count(c: pg.Client, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await c.query<Record<string, unknown>>(sql, params);
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}

export async function tableExists(c: pg.Client, name: string): Promise<boolean> {
  const { rows } = await c.query<{ oid: string | null }>('select to_regclass($1)::text as oid', [name]);
  return rows[0]?.oid != null;
}

/** Waits until `check` holds (the shared waitFor, for a boolean condition). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(async () => ((await check()) ? true : undefined), timeoutMs, what);
}
