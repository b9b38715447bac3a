import { describe, expect, it } from 'vitest';
import { Watch } from '@dropwatch/db';
import { useTestDatabase } from '@dropwatch/db/testing';
import { EntityStatement } from '../src/watches/entity-statement.js';

const t = useTestDatabase({ poolMax: 2 });

describe('EntityStatement', () => {
  it('binds each parameter where the query builder put it, keeps its constants, maps rows to properties', async () => {
    const [user] = await t.orm.em
      .fork()
      .execute<{ id: string }[]>("insert into users (name) values ('s1') returning id");
    const insert = new EntityStatement<{ userId: string; venueId: string }, { id: string; userId: string }>(
      Watch.meta.className,
      ['venueId', 'userId'],
      (em, { userId, venueId }) =>
        em.createQueryBuilder(Watch).insert({ userId, venueId, market: 'nyc' }).returning('*'),
      'write',
    );
    const [a] = await insert.run(t.orm.em.fork(), { userId: user!.id, venueId: 'resy:1' });
    const [b] = await insert.run(t.orm.em.fork(), { userId: user!.id, venueId: 'resy:2' });
    expect(a).toMatchObject({ userId: user!.id, venueId: 'resy:1', market: 'nyc', venueKey: 'resy:1' });
    expect(b).toMatchObject({ venueId: 'resy:2', market: 'nyc' });
    expect(b!.id).not.toBe(a!.id);
  });

  it('refuses a builder that does not bind a parameter as given', async () => {
    const dropped = new EntityStatement<{ userId: string }, unknown>(
      Watch.meta.className,
      ['userId'],
      (em) => em.createQueryBuilder(Watch).select('*').where({ userId: 'someone' }),
      'read',
    );
    await expect(dropped.run(t.orm.em.fork(), { userId: 'x' })).rejects.toThrow(/does not bind userId/);
    const twice = new EntityStatement<{ userId: string }, unknown>(
      Watch.meta.className,
      ['userId'],
      (em, { userId }) => em.createQueryBuilder(Watch).select('*').where({ userId, venueId: userId }),
      'read',
    );
    await expect(twice.run(t.orm.em.fork(), { userId: 'x' })).rejects.toThrow(/binds userId twice/);
  });
});
