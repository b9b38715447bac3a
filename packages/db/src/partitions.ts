import type { EntityManager } from '@mikro-orm/postgresql';

/** Days before today whose partitions are also kept present (late writers near midnight). */
const PARTITION_LOOKBACK_DAYS = 1;

export const PARTITIONED_TABLES = ['drop_events', 'user_notifications'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/**
 * How long the discovery tick waits for the parent's lock when it makes a partition.
 * `CREATE TABLE … PARTITION OF` takes ACCESS EXCLUSIVE on the parent: while it waits behind a
 * long read, every new reader of the parent queues behind it. The tick gives up instead and
 * tries again next tick (partitions are made PARTITION_PREMAKE_DAYS ahead, so there is time).
 */
export const PARTITION_LOCK_TIMEOUT_MS = 2_000;
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Creates the missing UTC-day partitions of drop_events and user_notifications from yesterday
 * to today + premakeDays. Returns how many were made. Runs dropwatch_ensure_partitions() from
 * the migration, which serializes concurrent callers. With lockTimeoutMs, a lock wait longer
 * than that fails with SQLSTATE 55P03 and makes nothing; without, it waits (migrations, start).
 */
export async function ensurePartitions(
  em: EntityManager,
  premakeDays: number,
  now = new Date(),
  lockTimeoutMs?: number,
): Promise<number> {
  const ensure = async (tx: EntityManager) => {
    if (lockTimeoutMs !== undefined)
      await tx.execute(`set local lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
    const rows = await tx.execute<{ made: number }[]>(
      `select dropwatch_ensure_partitions((?::timestamptz at time zone 'UTC')::date - ?::int,
                                          (?::timestamptz at time zone 'UTC')::date + ?::int) as made`,
      [now.toISOString(), PARTITION_LOOKBACK_DAYS, now.toISOString(), premakeDays],
    );
    return Number(rows[0]?.made ?? 0);
  };
  return lockTimeoutMs === undefined ? ensure(em) : em.transactional(ensure);
}

/** Creates partitions for an explicit UTC date range (tests and back-fills). */
export async function ensurePartitionsBetween(em: EntityManager, from: string, to: string): Promise<number> {
  const rows = await em.execute<{ made: number }[]>('select dropwatch_ensure_partitions(?::date, ?::date) as made', [
    from,
    to,
  ]);
  return Number(rows[0]?.made ?? 0);
}

/**
 * Caches "partitions exist up to day X" per process, so the hot path (each discovery tick) does
 * not ask the database when nothing is missing.
 */
export class PartitionGuard {
  private readyThrough: string | undefined;

  constructor(private readonly premakeDays: number) {}

  /** Partitions made; 0 also when the parent's lock was busy (the next call tries again). */
  async ensure(em: EntityManager, now = new Date()): Promise<number> {
    const needThrough = new Date(now.getTime() + this.premakeDays * 86_400_000).toISOString().slice(0, 10);
    if (this.readyThrough !== undefined && this.readyThrough >= needThrough) return 0;
    try {
      const made = await ensurePartitions(em, this.premakeDays, now, PARTITION_LOCK_TIMEOUT_MS);
      this.readyThrough = needThrough;
      return made;
    } catch (err) {
      if ((err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return 0;
      throw err;
    }
  }
}
