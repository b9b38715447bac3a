import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@dropwatch/db/testing';
import { releaseLease, renewLease, takeLease, withLease } from '../src/index.js';

const t = useTestDatabase();

describe('job leases', () => {
  it('lets one holder in, refuses another until release or expiry', async () => {
    const em = t.orm.em.fork();
    const a = { name: 'retention', holder: 'a', ttlMs: 60_000 };
    const b = { name: 'retention', holder: 'b', ttlMs: 60_000 };
    expect(await takeLease(em, a)).toBe(true);
    expect(await takeLease(em, b)).toBe(false);
    expect(await takeLease(em, a)).toBe(true); // re-entrant for the same holder
    expect(await renewLease(em, b)).toBe(false);
    await releaseLease(em, 'retention', 'a');
    expect(await takeLease(em, b)).toBe(true);
  });

  it('gives an expired lease (a crashed holder) to the next caller', async () => {
    const em = t.orm.em.fork();
    expect(await takeLease(em, { name: 'notify', holder: 'crashed', ttlMs: 1 })).toBe(true);
    await em.execute(`select pg_sleep(0.01)`);
    expect(await takeLease(em, { name: 'notify', holder: 'next', ttlMs: 60_000 })).toBe(true);
    expect(await renewLease(em, { name: 'notify', holder: 'crashed', ttlMs: 60_000 })).toBe(false);
  });

  it('withLease reports who holds it instead of waiting', async () => {
    const em = t.orm.em.fork();
    const opts = { name: 'solo', holder: 'one', ttlMs: 60_000 };
    let inner: unknown;
    const outer = await withLease(em, opts, async () => {
      inner = await withLease(t.orm.em.fork(), { ...opts, holder: 'two' }, () => Promise.resolve('nope'));
      return 'yes';
    });
    expect(outer).toEqual({ ran: true, value: 'yes' });
    expect(inner).toEqual({ ran: false, heldBy: 'one' });
    expect(await withLease(em, { ...opts, holder: 'two' }, () => Promise.resolve(1))).toEqual({ ran: true, value: 1 });
  });

  it('of many callers at once, exactly one takes a free lease, and exactly one an expired one', async () => {
    const takers = (name: string) =>
      Promise.all(
        Array.from({ length: 8 }, (_, i) => takeLease(t.orm.em.fork(), { name, holder: `h${i}`, ttlMs: 60_000 })),
      );
    expect((await takers('race')).filter(Boolean)).toHaveLength(1);
    await t.orm.em.fork().execute(`update job_leases set expires_at = now() - interval '1 second' where name = 'race'`);
    expect((await takers('race')).filter(Boolean)).toHaveLength(1);
    const [row] = await t.orm.em
      .fork()
      .execute<{ live: boolean }[]>(`select expires_at > now() as live from job_leases where name = 'race'`);
    expect(row?.live).toBe(true);
  });
});
