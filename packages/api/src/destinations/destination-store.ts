import { AppError } from '@dropwatch/core';
import { Destination, Watch, WebhookDelivery, type DestinationRow, type EntityManager } from '@dropwatch/db';
import { MAX_DESTINATIONS_PER_USER } from '../limits.js';
import type { DestinationDto } from '../routers/destinations.schemas.js';

/** A destinations row as the ORM loads it. */
export type DestinationEntity = DestinationRow;

/** Public view of a destination: settings, state, last outcome; never its secrets. */
export function toDestinationDto(d: DestinationEntity): DestinationDto {
  return {
    id: d.id,
    channel: d.channel,
    name: d.name ?? null,
    enabled: d.enabled,
    settings: d.settings,
    quietHours:
      d.quietStart && d.quietEnd && d.quietTimeZone
        ? { start: d.quietStart, end: d.quietEnd, timeZone: d.quietTimeZone }
        : null,
    watchIds: d.watchIds ? d.watchIds.map(String) : null,
    disabledAt: d.disabledAt ?? null,
    disabledReason: d.disabledReason ?? null,
    lastDelivery:
      d.lastStatus && d.lastAttemptAt
        ? { status: d.lastStatus, at: d.lastAttemptAt, error: d.lastError ?? null }
        : null,
    failureCount: d.failureCount,
    createdAt: d.createdAt,
  } as DestinationDto;
}

/** One of the caller's destinations (another user's id is NOT_FOUND, as a missing one). */
export async function findOwnDestination(em: EntityManager, userId: string, id: string): Promise<DestinationEntity> {
  const d = await em.findOne(Destination, { id, userId });
  if (!d) throw new AppError('NOT_FOUND', 'no such destination');
  return d;
}

/**
 * Serializes one user's adds (count check, then insert) and refuses past MAX_DESTINATIONS_PER_USER.
 * Call inside em.transactional.
 */
export async function lockAndCheckDestinationCount(em: EntityManager, userId: string): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`dropwatch_destinations:${userId}`]);
  const count = await em.count(Destination, { userId });
  if (count >= MAX_DESTINATIONS_PER_USER) {
    throw new AppError(
      'CONFLICT',
      `destination limit reached: at most ${MAX_DESTINATIONS_PER_USER} destinations per user`,
    );
  }
}

/** Routing to watches: each id must be one of the caller's watches. */
export async function checkOwnWatches(em: EntityManager, userId: string, watchIds: readonly string[]): Promise<void> {
  const unique = [...new Set(watchIds)];
  const found = await em.count(Watch, { userId, id: { $in: unique } });
  if (found !== unique.length) throw new AppError('BAD_INPUT', 'watchIds: every id must be one of your watches');
}

/** Ends a destination's pending deliveries (it is being removed). */
export async function cancelPendingDeliveries(
  em: EntityManager,
  destinationId: string,
  reason: string,
): Promise<number> {
  return em.nativeUpdate(
    WebhookDelivery,
    { destinationId, status: 'pending' },
    { status: 'failed', lastError: reason },
  );
}

const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

/**
 * Stored settings are jsonb: Postgres refuses NUL in it, and an unpaired surrogate has no UTF-8
 * form. Checked over every string of a channel's input (the channel schemas check shapes only).
 */
export function assertStorableText(value: unknown, path = 'input'): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new AppError('BAD_INPUT', `${path}: must not contain NUL (\\u0000) characters`);
    if (UNPAIRED_SURROGATE.test(value))
      throw new AppError('BAD_INPUT', `${path}: must not contain unpaired UTF-16 surrogates`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertStorableText(v, `${path}.${i}`));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertStorableText(v, path === 'input' ? k : `${path}.${k}`);
  }
}
