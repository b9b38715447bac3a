import type { EntityManager } from '@mikro-orm/postgresql';

/** Days before today whose partitions are also kept present (late writers near midnight). */
const PARTITION_LOOKBACK_DAYS = 1;

export const PARTITIONED_TABLES = ['drop_events', 'user_notifications'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/**
 * Creates the missing UTC-day partitions of drop_events and user_notifications from yesterday
 * to today + premakeDays. Returns how many were made. Runs dropwatch_ensure_partitions() from
 * the migration, which serializes concurrent callers.
 */
export async function ensurePartitions(em: EntityManager, premakeDays: number, now = new Date()): Promise<number> {
  const rows = await em.execute<{ made: number }[]>(
    `select dropwatch_ensure_partitions((?::timestamptz at time zone 'UTC')::date - ?::int,
                                        (?::timestamptz at time zone 'UTC')::date + ?::int) as made`,
    [now.toISOString(), PARTITION_LOOKBACK_DAYS, now.toISOString(), premakeDays],
  );
  return Number(rows[0]?.made ?? 0);
}

/** Creates partitions for an explicit UTC date range (tests and back-fills). */
export async function ensurePartitionsBetween(em: EntityManager, from: string, to: string): Promise<number> {
  const rows = await em
    
    .execute<{ made: number }[]>('select dropwatch_ensure_partitions(?::date, ?::date) as made', [from, to]);
  return Number(rows[0]?.made ?? 0);
}

/**
 * Caches "partitions exist up to day X" per process, so the hot path (each discovery tick) does
 * not ask the database when nothing is missing.
 */
export class PartitionGuard {
  private readyThrough: string | undefined;

  constructor(private readonly premakeDays: number) {}

  async ensure(em: EntityManager, now = new Date()): Promise<number> {
    const needThrough = new Date(now.getTime() + this.premakeDays * 86_400_000).toISOString().slice(0, 10);
    if (this.readyThrough !== undefined && this.readyThrough >= needThrough) return 0;
    const made = await ensurePartitions(em, this.premakeDays, now);
    this.readyThrough = needThrough;
    return made;
  }
}
