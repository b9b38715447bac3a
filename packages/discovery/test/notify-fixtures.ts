import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { slotKey } from '@dropwatch/core';

export const silentLogger = pino({ level: 'silent' });

export async function connect(url: string, applicationName = 'notify-test'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  return client;
}

/** Today's UTC date plus `days`, as YYYY-MM-DD. */
export const dayFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** A user; with `webhook`, also a webhook destination signed with that secret. */
export async function createUser(
  c: pg.Client,
  name: string,
  webhook?: { url: string; secret: string },
): Promise<string> {
  const { rows } = await c.query<{ id: string }>('insert into users (name) values ($1) returning id', [name]);
  const id = rows[0]!.id;
  if (webhook) await addDestination(c, id, 'webhook', { url: webhook.url }, { signingSecret: webhook.secret });
  return id;
}

export interface DestinationSeed {
  quietStart?: string;
  quietEnd?: string;
  quietTimeZone?: string;
  watchIds?: string[];
}

/** A destination row as destinations.add stores it (settings and secrets already checked). */
export async function addDestination(
  c: pg.Client,
  userId: string,
  channel: string,
  settings: Record<string, unknown>,
  secrets: Record<string, unknown> = {},
  extra: DestinationSeed = {},
): Promise<string> {
  const { rows } = await c.query<{ id: string }>(
    `insert into destinations (user_id, channel, settings, secrets, quiet_start, quiet_end, quiet_time_zone, watch_ids)
     values ($1, $2, $3, $4, $5, $6, $7, $8::bigint[]) returning id::text`,
    [
      userId,
      channel,
      JSON.stringify(settings),
      JSON.stringify(secrets),
      extra.quietStart ?? null,
      extra.quietEnd ?? null,
      extra.quietTimeZone ?? null,
      extra.watchIds ?? null,
    ],
  );
  return rows[0]!.id;
}

export interface WatchSeed {
  kind?: 'include' | 'exclude';
  venueId?: string;
  venueName?: string;
  market?: string;
  partySize?: number;
  dateFrom?: string;
  dateTo?: string;
  timeFrom?: string;
  timeTo?: string;
}

export async function addWatch(c: pg.Client, userId: string, w: WatchSeed): Promise<string> {
  const { rows } = await c.query<{ id: string }>(
    `insert into watches (user_id, kind, venue_id, venue_name, market, party_size, date_from, date_to, time_from, time_to)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id::text`,
    [
      userId,
      w.kind ?? 'include',
      w.venueId ?? null,
      w.venueName ?? null,
      w.market ?? null,
      w.partySize ?? null,
      w.dateFrom ?? null,
      w.dateTo ?? null,
      w.timeFrom ?? null,
      w.timeTo ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function seedVenue(c: pg.Client, venueId: string, name: string, market = 'nyc'): Promise<void> {
  await c.query(
    `insert into venues (venue_id, provider, market, name) values ($1, 'resy', $2, $3) on conflict (venue_id) do nothing`,
    [venueId, market, name],
  );
}

export interface DropSeed {
  venueId: string;
  market?: string;
  slotDate?: string;
  slotTime?: string;
  partySizes?: number[];
  openedAt?: Date;
}

/** One drop event (committed by the caller's connection). */
export async function insertDrop(c: pg.Client, d: DropSeed): Promise<string> {
  const slotId = randomBytes(16).toString('hex');
  const market = d.market ?? 'nyc';
  const slotDate = d.slotDate ?? dayFromToday(1);
  const { rows } = await c.query<{ id: string }>(
    `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes, opened_at, opened_minute)
     values ($1, $2, $3, $4, $5, $6::date, $7, $8::int[], $9, date_trunc('minute', $9::timestamptz))
     returning id::text`,
    [
      `${market}_${slotDate}_20:30`,
      slotId,
      slotKey(slotId).toString(),
      d.venueId,
      market,
      slotDate,
      d.slotTime ?? '20:30',
      `{${(d.partySizes ?? [2]).join(',')}}`,
      d.openedAt ?? new Date(),
    ],
  );
  return rows[0]!.id;
}

export async function notificationsOf(
  c: pg.Client,
  userId: string,
): Promise<{ drop_event_id: string; venue_id: string }[]> {
  const { rows } = await c.query<{ drop_event_id: string; venue_id: string }>(
    `select drop_event_id::text, payload->'venue'->>'id' as venue_id from user_notifications where user_id = $1 order by id`,
    [userId],
  );
  return rows;
}

export { waitFor } from '@dropwatch/db/testing';
