import type { VenueInfo } from '../providers/provider.js';
import type { Config } from '@dropwatch/core';
import { tickStatements } from './bucket-sql.js';
import type { PgClient } from '@dropwatch/db';

/** Venues remembered per process at most (older entries are forgotten wholesale). */
const VENUE_CACHE_MAX = 200_000;

/**
 * What this process last wrote or confirmed for each venue, so a poll ships only venues that are
 * new, changed, due a last_seen_at touch, or just dropped (the SQL checks again against the row).
 */
export class VenueCache {
  private readonly seen = new Map<string, { sig: string; at: number }>();

  pick(venues: Iterable<VenueInfo>, dropped: ReadonlySet<string>, now: Date, touchMinutes: number): VenueInfo[] {
    const out: VenueInfo[] = [];
    for (const v of venues) {
      const known = this.seen.get(v.id);
      if (
        !known ||
        dropped.has(v.id) ||
        known.sig !== signature(v) ||
        now.getTime() - known.at >= touchMinutes * 60_000
      )
        out.push(v);
    }
    return out;
  }

  /**
   * Whether writing `venues` may change a venue row as the feeds show it: one is new to this
   * process or differs from what it last wrote. False when every one is only due a last_seen_at
   * touch, which no feed shows.
   */
  changesAny(venues: readonly VenueInfo[]): boolean {
    return venues.some((v) => this.seen.get(v.id)?.sig !== signature(v));
  }

  remember(venues: readonly VenueInfo[], now: Date): void {
    if (this.seen.size + venues.length > VENUE_CACHE_MAX) this.seen.clear();
    for (const v of venues) this.seen.set(v.id, { sig: signature(v), at: now.getTime() });
  }
}

function signature(v: VenueInfo): string {
  return JSON.stringify([v.name, v.neighborhood, v.cuisine, v.priceRange, v.rating, v.imageUrl, v.bookingUrl]);
}

/** Upserts the picked venues in venue_id order; returns rows written. */
export async function writeVenues(
  client: PgClient,
  market: string,
  venues: readonly VenueInfo[],
  dropped: ReadonlySet<string>,
  now: Date,
  config: Pick<Config, 'VENUE_TOUCH_MINUTES' | 'DATABASE_POOLER'>,
): Promise<number> {
  if (venues.length === 0) return 0;
  const sorted = [...venues].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const res = await client.query(
    tickStatements(config).upsertVenues([
      sorted.map((v) => v.id),
      sorted.map((v) => v.id.slice(0, Math.max(0, v.id.indexOf(':'))) || 'unknown'),
      sorted.map(() => market),
      sorted.map((v) => v.name),
      sorted.map((v) => v.neighborhood),
      sorted.map((v) => v.cuisine),
      sorted.map((v) => (v.priceRange === null ? null : Math.round(v.priceRange))),
      sorted.map((v) => v.rating),
      sorted.map((v) => v.imageUrl),
      sorted.map((v) => v.bookingUrl),
      sorted.map((v) => dropped.has(v.id)),
      now,
      config.VENUE_TOUCH_MINUTES,
    ]),
  );
  return res.rowCount ?? 0;
}
