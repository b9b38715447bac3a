import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../src/testing/index.js';
import { pgArray, withPgClient } from '../src/index.js';

const t = useTestDatabase();

describe('withPgClient', () => {
  it('binds `$n` parameters by number, arrays as pg array literals, and returns typed rows', async () => {
    const { rows } = await withPgClient(t.orm.em.fork(), (db) =>
      db.query<{ n: number; s: string; k: string[] }>('select $1::int + 1 as n, $2::text as s, $3::text[] as k', [
        41,
        "it's; drop table venues",
        pgArray(['a', 'b,c', 'd"e']),
      ]),
    );
    expect(rows).toEqual([{ n: 42, s: "it's; drop table venues", k: ['a', 'b,c', 'd"e'] }]);
  });

  it('joins the transaction of em.transactional: its writes are rolled back with it', async () => {
    const em = t.orm.em.fork();
    await em.execute(`create table runner_probe (id int primary key)`);
    const inside = await em
      .transactional(async (tx) => {
        await withPgClient(tx, async (db) => {
          await db.query('insert into runner_probe (id) values ($1)', [1]);
          const { rows: same } = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
          const [theirs] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
          expect(same[0]?.pid).toBe(theirs?.pid);
        });
        throw new Error('roll back');
      })
      .catch((err: Error) => err.message);
    expect(inside).toBe('roll back');
    expect((await withPgClient(em, (db) => db.query('select * from runner_probe'))).rows).toEqual([]);
  });
});
