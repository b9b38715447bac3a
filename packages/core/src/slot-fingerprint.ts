import { createHash } from 'node:crypto';

/**
 * slot_id = sha256("{provider}|{venue_id}|{local start}")[:32]. Party size is not part of it:
 * a slot carries the set of party sizes it was seen for.
 */
export function slotId(provider: string, venueId: string, localStart: string): string {
  return createHash('sha256').update(`${provider}|${venueId}|${localStart}`).digest('hex').slice(0, 32);
}

/**
 * The first 64 bits of a slot id as a signed bigint: the compact key of bucket_slots
 * (a bigint key measured ≈ 25% faster than the 32-char text in the diff).
 */
export function slotKey(id: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${id.slice(0, 16)}`));
}
