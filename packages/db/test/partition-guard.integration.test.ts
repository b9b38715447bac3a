import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { useTestDatabase } from '../src/testing/index.js';
import { PartitionGuard } from '../src/partitions.js';

const t = useTestDatabase();

const partitionExists = async (name: string) => {
  const rows = await t.orm.em
    .fork()
    .execute<{ found: boolean }[]>('select to_regclass(?) is not null as found', [name]);
  return rows[0]?.found === true;
};

describe('PartitionGuard (the discovery tick making day partitions)', () => {
  it('gives up instead of queueing readers behind its ACCESS EXCLUSIVE wait, and makes the partitions on a later call', async () => {
    // A day whose partitions do not exist yet, far enough ahead not to collide with other tests.
    const now = new Date(Date.UTC(2031, 0, 10, 12));
    const blocker = new pg.Client({ connectionString: t.db.url });
    await blocker.connect();
    try {
      // A long read of the parent: holds ACCESS SHARE on drop_events until it ends.
      await blocker.query('begin');
      await blocker.query('select count(*) from drop_events');
      const guard = new PartitionGuard(1);
      expect(await guard.ensure(t.orm.em.fork(), now)).toBe(0);
      expect(await partitionExists('drop_events_p20310110')).toBe(false);
      // Nothing is left waiting on the parent: another session reads it while the blocker is open.
      const reader = await t.orm.em.fork().execute<{ n: string }[]>('select count(*)::text as n from drop_events');
      expect(reader[0]?.n).toBe('0');

      await blocker.query('commit');
      // yesterday, today and one day ahead, for both partitioned tables
      expect(await guard.ensure(t.orm.em.fork(), now)).toBe(6);
      expect(await partitionExists('drop_events_p20310110')).toBe(true);
      expect(await guard.ensure(t.orm.em.fork(), now)).toBe(0);
    } finally {
      await blocker.end();
    }
  });
});
