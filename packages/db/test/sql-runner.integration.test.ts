import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../src/testing/index.js';
import { emRunner, pgArray } from '../src/index.js';

const t = useTestDatabase();

describe('emRunner', () => {
  it('binds `?` parameters in order, arrays as pg array literals, and returns typed rows', async () => {
    const run = emRunner(t.orm.em.fork());
    const rows = await run<{ n: number; s: string; k: string[] }>(
      'select ?::int + 1 as n, ?::text as s, ?::text[] as k',
      [41, "it's; drop table venues", pgArray(['a', 'b,c', 'd"e'])],
    );
    expect(rows).toEqual([{ n: 42, s: "it's; drop table venues", k: ['a', 'b,c', 'd"e'] }]);
  });

  it('joins the transaction of em.transactional: its writes are rolled back with it', async () => {
    const em = t.orm.em.fork();
    await em.execute(`create table runner_probe (id int primary key)`);
    const inside = await em
      .transactional(async (tx) => {
        const run = emRunner(tx);
        await run('insert into runner_probe (id) values (?)', [1]);
        const [same] = await run<{ pid: number }>('select pg_backend_pid() as pid', []);
        const [theirs] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
        expect(same?.pid).toBe(theirs?.pid);
        throw new Error('roll back');
      })
      .catch((err: Error) => err.message);
    expect(inside).toBe('roll back');
    expect(await emRunner(em)('select * from runner_probe', [])).toEqual([]);
  });
});
