import type { EntityManager } from '@dropwatch/db';
import type { QueryResult } from '@mikro-orm/core';

/**
 * Leases for singleton jobs across replicas: a row in job_leases with an expiry. Unlike session
 * advisory locks they survive connection poolers, and a crashed holder's lease simply expires.
 */
export interface LeaseOptions {
  readonly name: string;
  readonly holder: string;
  readonly ttlMs: number;
}

/** Takes the lease if it is free, expired, or already ours. True when we hold it. */
export async function takeLease(em: EntityManager, { name, holder, ttlMs }: LeaseOptions): Promise<boolean> {
  const rows = await em.execute<{ holder: string }[]>(
    `insert into job_leases (name, holder, expires_at, acquired_at)
     values (?, ?, now() + (? * interval '1 millisecond'), now())
     on conflict (name) do update
       set holder = excluded.holder, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
       where job_leases.expires_at < now() or job_leases.holder = excluded.holder
     returning holder`,
    [name, holder, ttlMs],
  );
  return rows.length === 1;
}

/** Extends our lease; false if it was lost (expired and taken by another holder). */
export async function renewLease(em: EntityManager, { name, holder, ttlMs }: LeaseOptions): Promise<boolean> {
  const res = await em.execute<QueryResult>(
    `update job_leases set expires_at = now() + (? * interval '1 millisecond') where name = ? and holder = ?`,
    [ttlMs, name, holder],
    'run',
  );
  return res.affectedRows === 1;
}

export async function releaseLease(em: EntityManager, name: string, holder: string): Promise<void> {
  await em.execute('delete from job_leases where name = ? and holder = ?', [name, holder], 'run');
}

export type LeaseResult<T> =
  { readonly ran: true; readonly value: T } | { readonly ran: false; readonly heldBy: string | null };

/**
 * Runs fn while holding the lease, renewing it every ttl/3; releases it after. When another
 * holder has it, does not wait: returns { ran: false, heldBy }.
 */
export async function withLease<T>(
  em: EntityManager,
  options: LeaseOptions,
  fn: () => Promise<T>,
): Promise<LeaseResult<T>> {
  if (!(await takeLease(em, options))) {
    const rows = await em.execute<{ holder: string }[]>('select holder from job_leases where name = ?', [options.name]);
    return { ran: false, heldBy: rows[0]?.holder ?? null };
  }
  const renew = setInterval(
    () => {
      renewLease(em.fork(), options).catch(() => undefined);
    },
    Math.max(1_000, Math.floor(options.ttlMs / 3)),
  );
  try {
    return { ran: true, value: await fn() };
  } finally {
    clearInterval(renew);
    await releaseLease(em, options.name, options.holder);
  }
}
