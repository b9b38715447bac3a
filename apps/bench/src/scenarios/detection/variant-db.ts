import pg from 'pg';
import { createOrm, withDatabase, type MikroORM } from '@dropwatch/db';
import { migrate } from '@dropwatch/db/migrate';
import { adminQuery } from '@dropwatch/db/testing';
import type { DropRow } from './score.js';

export interface VariantDatabase {
  readonly orm: MikroORM;
  /** The bench's own connection: seeding, progress and scoring reads. */
  readonly sql: pg.Client;
  close(): Promise<void>;
}

/** A fresh migrated database for one variant, with its own ORM (dropped again by close()). */
export async function openVariantDatabase(adminUrl: string, name: string): Promise<VariantDatabase> {
  await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
  await adminQuery(adminUrl, `create database "${name}"`);
  const databaseUrl = withDatabase(adminUrl, name);
  await migrate(databaseUrl, 3);
  const orm = await createOrm({ databaseUrl, poolMax: 10, applicationName: `bench-${name}` });
  const sql = new pg.Client({ connectionString: databaseUrl, application_name: `bench-${name}-probe` });
  await sql.connect();
  return {
    orm,
    sql,
    async close() {
      await sql.end().catch(() => undefined);
      await orm.close(true);
      await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
    },
  };
}

/** One user watching each venue for party size 2 on [dateFrom, dateTo]. */
export async function seedWatches(
  sql: pg.Client,
  venueIds: readonly string[],
  dateFrom: string,
  dateTo: string,
): Promise<void> {
  const { rows } = await sql.query<{ id: string }>(
    `insert into users (name, role) values ('bench-watcher', 'user') returning id`,
  );
  await sql.query(
    `insert into watches (user_id, kind, venue_id, market, party_size, date_from, date_to)
     select $1, 'include', v, 'nyc', 2, $3::date, $4::date from unnest($2::text[]) v`,
    [rows[0]!.id, venueIds, dateFrom, dateTo],
  );
}

export interface BucketProgress {
  readonly buckets: number;
  readonly calibrating: number;
}

export async function bucketProgress(sql: pg.Client): Promise<BucketProgress> {
  const { rows } = await sql.query<{ n: string; pending: string }>(
    'select count(*) as n, count(*) filter (where not baseline_complete) as pending from discovery_buckets',
  );
  return { buckets: Number(rows[0]?.n ?? 0), calibrating: Number(rows[0]?.pending ?? 0) };
}

/** Drops opened or closed since `since` (ms). */
export async function readDrops(sql: pg.Client, since: number): Promise<DropRow[]> {
  const { rows } = await sql.query<{
    bucket_id: string;
    party_sizes: number[];
    venue_id: string;
    slot_date: string;
    slot_time: string;
    opened_at: Date;
    closed_at: Date | null;
  }>(
    `select bucket_id, party_sizes, venue_id, slot_date::text as slot_date, slot_time, opened_at, closed_at from drop_events
     where opened_at >= $1 or closed_at >= $1`,
    [new Date(since)],
  );
  return rows.map((r) => ({
    bucketId: r.bucket_id,
    partySizes: r.party_sizes,
    venueId: r.venue_id,
    slotDate: r.slot_date,
    slotTime: r.slot_time,
    openedAt: r.opened_at.getTime(),
    closedAt: r.closed_at?.getTime() ?? null,
  }));
}

/** Baseline venues read for the scorer at most (28 buckets × a few hundred venues, many times over). */
const BASELINE_VENUES_LIMIT = 200_000;

/**
 * `${venueId}|${date}|${anchor}` of every venue with a baseline slot in its bucket: the diff never
 * records a drop there (a venue the baseline saw bookable is taken for one with regular tables).
 */
export async function readBaselineVenues(sql: pg.Client): Promise<Set<string>> {
  const { rows } = await sql.query<{ key: string }>(
    `select distinct s.venue_id || '|' || b.date::text || '|' || b.time_slot as key
     from bucket_slots s join discovery_buckets b on b.bucket_id = s.bucket_id
     where s.in_baseline
     limit $1`,
    [BASELINE_VENUES_LIMIT],
  );
  return new Set(rows.map((r) => r.key));
}
