import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../src/testing/index.js';
import { ensurePartitionsBetween } from '../src/partitions.js';

const TABLES = [
  'discovery_buckets',
  'bucket_slots',
  'venues',
  'drop_events',
  'availability_state',
  'venue_metrics',
  'feed_cache',
  'users',
  'api_tokens',
  'stream_tickets',
  'watches',
  'user_notifications',
  'webhook_deliveries',
  'destinations',
  'server_keys',
  'consumer_cursors',
  'job_leases',
  'job_runs',
];

const t = useTestDatabase();
const q = <T extends object>(sql: string, params: unknown[] = []) => t.orm.em.fork().execute<T[]>(sql, params);

const utcDay = (offset = 0) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function insertDrop(bucketId: string, slotKey: number, openedAt: string) {
  return q<{ id: string; tx_id: string }>(
    `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes,
                              opened_at, opened_minute)
     values (?, 'abc', ?, 'resy:1', 'nyc', current_date, '20:30', '{2,4}', ?::timestamptz,
             date_trunc('minute', ?::timestamptz))
     returning id, tx_id::text`,
    [bucketId, slotKey, openedAt, openedAt],
  );
}

describe('migrated schema', () => {
  it('has every table of the design', async () => {
    const rows = await q<{ table_name: string }>(
      `select c.relname as table_name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition`,
    );
    expect(rows.map((r) => r.table_name).sort()).toEqual(expect.arrayContaining([...TABLES].sort()));
  });

  it('partitions drop_events and user_notifications by day, with today present and no default', async () => {
    for (const table of ['drop_events', 'user_notifications']) {
      const [pt] = await q<{ strategy: string; key: string }>(
        `select p.partstrat as strategy, pg_get_partkeydef(p.partrelid) as key
           from pg_partitioned_table p where p.partrelid = ?::regclass`,
        [table],
      );
      expect(pt?.strategy).toBe('r');
      expect(pt?.key).toMatch(/RANGE \((opened_minute|drop_opened_minute)\)/);
      const parts = await q<{ name: string; bound: string }>(
        `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
           from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = ?::regclass`,
        [table],
      );
      const names = parts.map((p) => p.name);
      expect(names).toContain(`${table}_p${utcDay().replaceAll('-', '')}`);
      expect(names).toContain(`${table}_p${utcDay(3).replaceAll('-', '')}`);
      expect(parts.some((p) => p.bound === 'DEFAULT')).toBe(false);
    }
  });

  it('fills tx_id by default and sets opened_minute consistently', async () => {
    const [row] = await insertDrop('nyc_2026-11-28_20:30', 1, new Date().toISOString());
    const [tx] = await q<{ cur: string }>('select pg_current_xact_id()::text as cur');
    expect(BigInt(row!.tx_id)).toBeGreaterThan(0n);
    expect(BigInt(row!.tx_id)).toBeLessThanOrEqual(BigInt(tx!.cur));
    await expect(
      q(`insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time,
                                  opened_at, opened_minute)
         values ('b', 'x', 9, 'resy:1', 'nyc', current_date, '20:30', now(), date_trunc('minute', now()) - interval '1 minute')`),
    ).rejects.toThrow(/drop_events_opened_minute_check/);
  });

  it('rejects a duplicate drop with the dedupe key, across the partition key', async () => {
    const at = new Date().toISOString();
    await insertDrop('nyc_2026-11-28_15:00', 42, at);
    await expect(insertDrop('nyc_2026-11-28_15:00', 42, at)).rejects.toThrow(/duplicate key/);
    // Another minute is another partition-key value: allowed by the key (the flap guard handles it).
    await insertDrop('nyc_2026-11-28_15:00', 42, new Date(Date.parse(at) + 120_000).toISOString());
  });

  it('refuses a drop dated where no partition exists, and accepts it once the day is made', async () => {
    const far = new Date(Date.now() + 20 * 86_400_000).toISOString();
    await expect(insertDrop('nyc_2026-12-30_15:00', 7, far)).rejects.toThrow(/no partition/);
    const day = far.slice(0, 10);
    expect(await ensurePartitionsBetween(t.orm.em.fork(), day, day)).toBe(2);
    expect(await ensurePartitionsBetween(t.orm.em.fork(), day, day)).toBe(0);
    await insertDrop('nyc_2026-12-30_15:00', 7, far);
    const [r] = await q<{ part: string }>(
      `select tableoid::regclass::text as part from drop_events where slot_key = 7`,
    );
    expect(r?.part).toBe(`drop_events_p${day.replaceAll('-', '')}`);
  });

  it('maps every table with an entity that reads it', async () => {
    const em = t.orm.em.fork();
    for (const meta of Object.values(t.orm.getMetadata().getAll())) {
      await expect(em.find(meta.class, {}, { limit: 1 })).resolves.toBeInstanceOf(Array);
    }
    const mapped = Object.values(t.orm.getMetadata().getAll()).map((m) => m.tableName);
    expect(mapped.sort()).toEqual([...TABLES].sort());
  });
});
