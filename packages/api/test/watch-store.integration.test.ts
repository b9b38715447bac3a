import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@dropwatch/db/testing';
import { MAX_WATCHES_PER_USER } from '@dropwatch/discovery';
import { addWatch, listWatches, removeWatch } from '../src/watches/watch-store.js';

const t = useTestDatabase({ poolMax: 4 });

async function newUser(name: string): Promise<string> {
  const [row] = await t.orm.em
    .fork()
    .execute<{ id: string }[]>('insert into users (name) values (?) returning id', [name]);
  return row!.id;
}

describe('watch store (entities)', () => {
  it('returns the DTO the SQL projection returned: text dates, bigint id as a string, the row as stored', async () => {
    const userId = await newUser('w1');
    const input = {
      kind: 'include' as const,
      venueName: '  Le Bernardin ',
      market: 'nyc' as const,
      partySize: 2,
      dateFrom: '2030-01-02',
      dateTo: '2030-01-03',
      timeFrom: '19:00',
      timeTo: '21:00',
    };
    const added = await addWatch(t.orm.em.fork(), userId, input);
    expect(added.created).toBe(true);
    expect(added.watch).toEqual({
      id: expect.stringMatching(/^\d+$/),
      kind: 'include',
      venueId: null,
      venueName: 'le bernardin',
      market: 'nyc',
      partySize: 2,
      dateFrom: '2030-01-02',
      dateTo: '2030-01-03',
      timeFrom: '19:00',
      timeTo: '21:00',
      createdAt: expect.any(Date),
    });
    const again = await addWatch(t.orm.em.fork(), userId, { kind: 'exclude', venueName: 'LE BERNARDIN' });
    expect(again).toEqual({ watch: added.watch, created: false });

    const byId = await addWatch(t.orm.em.fork(), userId, { kind: 'exclude', venueId: 'resy:7' });
    expect(byId.watch).toMatchObject({ kind: 'exclude', venueId: 'resy:7', venueName: null, dateFrom: null });
    expect(await listWatches(t.orm.em.fork(), userId)).toEqual([added.watch, byId.watch]);

    const [stored] = await t.orm.em
      .fork()
      .execute<{ venue_key: string; created_at: string }[]>('select venue_key, created_at from watches where id = ?', [
        added.watch.id,
      ]);
    expect(stored?.venue_key).toBe('name:le bernardin');
    expect(new Date(stored!.created_at)).toEqual(added.watch.createdAt);
  });

  it("removes the caller's watch only; any other id is NOT_FOUND", async () => {
    const owner = await newUser('w2');
    const other = await newUser('w3');
    const { watch } = await addWatch(t.orm.em.fork(), owner, { kind: 'include', venueId: 'resy:9' });
    await expect(removeWatch(t.orm.em.fork(), other, watch.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await removeWatch(t.orm.em.fork(), owner, watch.id);
    await expect(removeWatch(t.orm.em.fork(), owner, watch.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await listWatches(t.orm.em.fork(), owner)).toEqual([]);
  });

  it('at the limit: an existing watch beyond the first MAX_WATCHES_PER_USER is found, a new one refused', async () => {
    const userId = await newUser('w4');
    // More watches than the limit allows (as if the limit had been higher when they were added).
    await t.orm.em
      .fork()
      .execute(`insert into watches (user_id, venue_id) select ?, 'resy:' || n from generate_series(1, ?) n`, [
        userId,
        MAX_WATCHES_PER_USER + 1,
      ]);
    const last = await addWatch(t.orm.em.fork(), userId, {
      kind: 'include',
      venueId: `resy:${MAX_WATCHES_PER_USER + 1}`,
    });
    expect(last).toMatchObject({ created: false, watch: { venueId: `resy:${MAX_WATCHES_PER_USER + 1}` } });
    await expect(addWatch(t.orm.em.fork(), userId, { kind: 'include', venueId: 'resy:new' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await listWatches(t.orm.em.fork(), userId)).toHaveLength(MAX_WATCHES_PER_USER);
  });
});
