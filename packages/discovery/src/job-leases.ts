import { JobLease, raw, type EntityManager } from '@dropwatch/db';
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

/*
 * The lease rows go through the JobLease entity. Their times are the database's (now()), never
 * this process's clock: holders on several machines compare them.
 */
const dbNow = (): Date => raw<object, Date>('now()');
const expiresIn = (ttlMs: number): Date => raw<object, Date>(`now() + (? * interval '1 millisecond')`, [ttlMs]);

/**
 * Takes the lease if it is free, expired, or already ours. True when we hold it.
 *
 * Two statements, as MikroORM's upsert and the query builder's conflict clause take only an AND of
 * conditions: first the row is taken over if it expired or is ours (the row lock makes a second
 * taker re-read it, now live and another's, and leave it); failing that it is inserted unless a
 * row exists. A holder renewing this way, the common call, needs the first only.
 */
export async function takeLease(em: EntityManager, { name, holder, ttlMs }: LeaseOptions): Promise<boolean> {
  const takenOver = await em.nativeUpdate(
    JobLease,
    { name, $or: [{ expiresAt: { $lt: dbNow() } }, { holder }] },
    { holder, expiresAt: expiresIn(ttlMs), acquiredAt: dbNow() },
  );
  if (takenOver === 1) return true;
  const inserted = await em
    .createQueryBuilder(JobLease)
    .insert({ name, holder, expiresAt: expiresIn(ttlMs), acquiredAt: dbNow() })
    .onConflict('name')
    .ignore()
    .execute<QueryResult>('run');
  return inserted.affectedRows === 1;
}

/** Extends our lease; false if it was lost (expired and taken by another holder). */
export async function renewLease(em: EntityManager, { name, holder, ttlMs }: LeaseOptions): Promise<boolean> {
  return (await em.nativeUpdate(JobLease, { name, holder }, { expiresAt: expiresIn(ttlMs) })) === 1;
}

export async function releaseLease(em: EntityManager, name: string, holder: string): Promise<void> {
  await em.nativeDelete(JobLease, { name, holder });
}

/** Who holds the lease now, if anyone (read from the database, not from `em`'s identity map). */
async function leaseHolder(em: EntityManager, name: string): Promise<string | null> {
  const row = await em
    .createQueryBuilder(JobLease)
    .select('holder')
    .where({ name })
    .execute<{ holder: string } | undefined>('get');
  return row?.holder ?? null;
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
    return { ran: false, heldBy: await leaseHolder(em, options.name) };
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
