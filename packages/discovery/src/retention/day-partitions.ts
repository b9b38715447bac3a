import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { PARTITION_LIST_LIMIT } from './retention-config.js';
import type { RetentionSession } from './retention-session.js';

/** The tables partitioned by UTC day; their partitions are named <table>_pYYYYMMDD. */
export type DayPartitionedTable = 'drop_events' | 'user_notifications';

export type PartitionState = 'attached' | 'pending_detach' | 'detached';

export interface DayPartition {
  readonly table: DayPartitionedTable;
  readonly name: string;
  /** The UTC day it holds: [day 00:00, day+1 00:00). */
  readonly day: string;
  readonly state: PartitionState;
}

const NAME = /_p(\d{4})(\d{2})(\d{2})$/;

/**
 * Every day partition of `table`: attached ones, ones left pending detach by an interrupted
 * `DETACH … CONCURRENTLY`, and detached tables never dropped (a crash between DETACH and DROP).
 */
export async function listDayPartitions(client: pg.Client, table: DayPartitionedTable): Promise<DayPartition[]> {
  const { rows } = await client.query<{ name: string; state: PartitionState }>(
    `select c.relname as name,
            case when i.inhrelid is null then 'detached'
                 when i.inhdetachpending then 'pending_detach'
                 else 'attached' end as state
       from pg_class c
       left join pg_inherits i on i.inhrelid = c.oid and i.inhparent = $1::regclass
      where c.relnamespace = current_schema()::regnamespace
        and c.relkind = 'r'
        and c.relname ~ $3
        and (i.inhrelid is not null or not c.relispartition)
      order by c.relname
      limit $2`,
    [table, PARTITION_LIST_LIMIT, `^${table}_p[0-9]{8}$`],
  );
  return rows.map((r) => {
    const m = NAME.exec(r.name);
    return { table, name: r.name, day: m ? `${m[1]}-${m[2]}-${m[3]}` : '', state: r.state };
  });
}

/** Partitions wholly before keepFromDay. The partition holding the cutoff itself is never among them. */
export function partitionsToRemove(partitions: readonly DayPartition[], keepFromDay: string): DayPartition[] {
  return partitions.filter((p) => p.day !== '' && p.day < keepFromDay);
}

export async function countRows(client: pg.Client, name: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    `select count(*)::bigint as n from ${client.escapeIdentifier(name)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

async function stateOf(client: pg.Client, table: DayPartitionedTable, name: string): Promise<PartitionState | 'gone'> {
  const { rows } = await client.query<{ state: PartitionState }>(
    `select case when i.inhrelid is null then 'detached'
                 when i.inhdetachpending then 'pending_detach'
                 else 'attached' end as state
       from pg_class c
       left join pg_inherits i on i.inhrelid = c.oid and i.inhparent = $1::regclass
      where c.oid = to_regclass($2)`,
    [table, name],
  );
  return rows[0]?.state ?? 'gone';
}

export interface RemovedPartition {
  readonly name: string;
  readonly rows: number;
  /** True when it was found pending detach and finished with FINALIZE. */
  readonly finalized: boolean;
  /** Milliseconds of each step (last attempt): counting rows, detaching from the parent, dropping. */
  readonly ms: { readonly count: number; readonly detach: number; readonly drop: number };
}

const since = (t0: number) => performance.now() - t0;

/**
 * Detaches one day partition without blocking readers of the parent, then drops it:
 * `DETACH PARTITION … CONCURRENTLY` takes only SHARE UPDATE EXCLUSIVE on the parent, whereas a
 * plain `DROP TABLE` of a partition waits for, then blocks, every reader of the parent. On a lock
 * timeout the step is retried from the state the catalog shows now: a detach cut short in its
 * second phase leaves the partition pending detach, which `DETACH … FINALIZE` completes.
 */
export async function removeDayPartition(
  session: RetentionSession,
  partition: DayPartition,
): Promise<RemovedPartition> {
  const { client } = session;
  const parent = client.escapeIdentifier(partition.table);
  const child = client.escapeIdentifier(partition.name);
  let rows: number | undefined;
  let finalized = false;
  const ms = { count: 0, detach: 0, drop: 0 };
  await session.retrying(`remove partition ${partition.name}`, async () => {
    let state = await stateOf(client, partition.table, partition.name);
    if (state === 'gone') return;
    let t0 = performance.now();
    rows ??= await countRows(client, partition.name);
    ms.count = since(t0);
    t0 = performance.now();
    if (state === 'attached') {
      await client.query(`alter table ${parent} detach partition ${child} concurrently`);
      state = 'detached';
    } else if (state === 'pending_detach') {
      await client.query(`alter table ${parent} detach partition ${child} finalize`);
      finalized = true;
      state = 'detached';
    }
    ms.detach = since(t0);
    t0 = performance.now();
    await client.query(`drop table if exists ${child}`);
    ms.drop = since(t0);
  });
  return { name: partition.name, rows: rows ?? 0, finalized, ms };
}

/**
 * Makes the missing day partitions of both tables for [fromDay, toDay]. Calls the migration's
 * dropwatch_ensure_partitions() — the function @dropwatch/db's ensurePartitions calls — on this
 * session so the lock_timeout applies: `CREATE TABLE … PARTITION OF` takes ACCESS EXCLUSIVE on
 * the parent (checked on PostgreSQL 15), and an unbounded wait there would queue every reader.
 */
export async function ensureDayPartitions(session: RetentionSession, fromDay: string, toDay: string): Promise<number> {
  return session.retrying('ensure partitions', async () => {
    const { rows } = await session.client.query<{ made: number }>(
      'select dropwatch_ensure_partitions($1::date, $2::date) as made',
      [fromDay, toDay],
    );
    return Number(rows[0]?.made ?? 0);
  });
}
