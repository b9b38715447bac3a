import { slotId, slotKey } from '@dropwatch/core';
import type { Snapshot, VenueInfo } from '../providers/provider.js';

/** Prime time for venue_metrics.prime_drops: slots starting in [18:00, 21:00) venue-local. */
export const PRIME_TIME_FROM = '18:00';
export const PRIME_TIME_TO = '21:00';

export interface PreparedSlot {
  /** 64-bit key of the fingerprint, as a decimal string (pg int8). */
  readonly key: string;
  readonly slotId: string;
  readonly venueId: string;
  readonly slotDate: string;
  readonly slotTime: string;
  readonly partySizes: readonly number[];
  readonly bookingUrl: string | null;
}

export interface PreparedSnapshot {
  readonly slots: readonly PreparedSlot[];
  readonly byKey: ReadonlyMap<string, PreparedSlot>;
  readonly venues: ReadonlyMap<string, VenueInfo>;
  /** Slots dropped because the snapshot was over BUCKET_SLOT_CAP. */
  readonly capped: number;
  /** Snapshot.partial: it may add drops but close none. */
  readonly partial: boolean;
}

/**
 * Fingerprints a snapshot's slots (slot id = hash of provider, venue, local start), merges duplicates and keeps at most `cap` slots
 * (earliest first) so a bucket's stored slots stay bounded.
 */
export function prepareSnapshot(provider: string, snapshot: Snapshot, cap: number): PreparedSnapshot {
  const partial = snapshot.partial === true;
  const byKey = new Map<string, PreparedSlot>();
  for (const s of snapshot.slots) {
    const id = slotId(provider, s.venueId, s.localStart);
    const key = slotKey(id).toString();
    const existing = byKey.get(key);
    if (existing) {
      const sizes = [...new Set([...existing.partySizes, ...s.partySizes])].sort((a, b) => a - b);
      byKey.set(key, { ...existing, partySizes: sizes });
      continue;
    }
    byKey.set(key, {
      key,
      slotId: id,
      venueId: s.venueId,
      slotDate: s.localStart.slice(0, 10),
      slotTime: s.localStart.slice(11, 16),
      partySizes: s.partySizes,
      bookingUrl: s.bookingUrl ?? snapshot.venues.get(s.venueId)?.bookingUrl ?? null,
    });
  }
  let slots = [...byKey.values()];
  let capped = 0;
  if (slots.length > cap) {
    slots.sort((a, b) => (a.slotDate + a.slotTime + a.venueId).localeCompare(b.slotDate + b.slotTime + b.venueId));
    capped = slots.length - cap;
    slots = slots.slice(0, cap);
    return { slots, byKey: new Map(slots.map((s) => [s.key, s])), venues: snapshot.venues, capped, partial };
  }
  return { slots, byKey, venues: snapshot.venues, capped, partial };
}

export function isPrimeTime(slotTime: string): boolean {
  return slotTime >= PRIME_TIME_FROM && slotTime < PRIME_TIME_TO;
}
