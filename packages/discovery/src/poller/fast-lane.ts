import { getMarket, windowDates, type Config } from '@dropwatch/core';
import type { PgClient } from '@dropwatch/db';

/** Include-watches read per housekeeping pass at most. */
export const FAST_LANE_WATCHES_MAX = 5_000;
/** (venue, day, party size) targets the fast lane cycles through at most. */
export const FAST_LANE_TARGETS_MAX = 500;
/**
 * Targets read from the watches at most, before the modes are chosen: every watched day is weighed
 * whole, and only the days left to ask per venue are cut to FAST_LANE_TARGETS_MAX.
 */
export const FAST_LANE_CANDIDATES_MAX = 20_000;
/** A watch without dates is polled per venue for this many days from today; the search covers the rest. */
export const FAST_LANE_UNDATED_DAYS = 3;
/** One target is asked again after this long at the soonest (more would spend budget on one venue-day). */
export const FAST_LANE_MIN_INTERVAL_MS = 2_000;

/** One per-venue request the fast lane repeats: a watched venue's day for one party size. */
export interface FastTarget {
  readonly key: string;
  readonly venueId: string;
  readonly market: string;
  readonly date: string;
  readonly partySize: number;
}

export interface WatchPlan {
  readonly targets: FastTarget[];
  /** `${market}|${date}` of every day some include-watch covers (the priority weighs those buckets). */
  readonly watchedDays: Set<string>;
}

/** How the fast lane refreshes the watched days: which targets it asks per venue, which days it searches. */
export interface FastLaneModes {
  /** Targets asked one by one (`/4/find`), oldest first. */
  readonly perVenue: FastTarget[];
  /** `${market}|${date}` of the days whose buckets the fast lane polls whole instead. */
  readonly searchedDays: Set<string>;
}

/**
 * Per venue or per bucket, for each watched day. Asking a watched venue's day costs one request
 * per target; one round of the day's bucket polls costs what those polls have cost (learned,
 * `roundCost`: every party size of every anchor) and refreshes every venue of the day at once.
 * A day whose targets cost more than its round is searched instead: with a handful of watched
 * venues per-venue requests are the cheap way to see them within seconds, but with dozens the
 * lane would cycle through its targets too slowly to help, while a few search pages show all of
 * them. A day whose buckets are not ready (no learned cost) stays per venue. The days left per
 * venue share at most `max` targets, whole days nearest first; a day that finds no room is
 * searched too once it can be.
 */
export function fastLaneModes(
  targets: readonly FastTarget[],
  roundCost: (market: string, date: string) => number | undefined,
  max = FAST_LANE_TARGETS_MAX,
): FastLaneModes {
  const dayOf = (t: FastTarget) => `${t.market}|${t.date}`;
  const perDay = new Map<string, number>();
  for (const t of targets) perDay.set(dayOf(t), (perDay.get(dayOf(t)) ?? 0) + 1);
  const searchedDays = new Set<string>();
  const partial = new Set<string>();
  let room = max;
  // Nearest days first: those left per venue take the room whole while it lasts; a day with no
  // room is searched when it can be, rather than left unseen, and only a day that cannot be
  // searched yet is asked in part.
  const byDate = [...perDay].sort(([a], [b]) => a.slice(a.indexOf('|') + 1).localeCompare(b.slice(b.indexOf('|') + 1)));
  for (const [day, n] of byDate) {
    const [market, date] = day.split('|') as [string, string];
    const cost = roundCost(market, date);
    if (cost !== undefined && (cost < n || n > room)) searchedDays.add(day);
    else if (n <= room) room -= n;
    else partial.add(day);
  }
  const perVenue: FastTarget[] = [];
  for (const t of targets) {
    const day = dayOf(t);
    if (searchedDays.has(day)) continue;
    if (partial.has(day) && room-- <= 0) continue;
    perVenue.push(t);
  }
  return { perVenue, searchedDays };
}

interface WatchRow {
  venue_id: string | null;
  market: string | null;
  party_size: number | null;
  date_from: string | null;
  date_to: string | null;
}

/**
 * The fast lane's targets and the watched days, from the include-watches of the configured
 * markets. A watch names its venue by id (polled per venue) or by name (only weighs its days).
 * -- watches are read whole up to FAST_LANE_WATCHES_MAX, joined to venues_pkey for the market.
 */
export async function loadWatchPlan(client: PgClient, config: Config, now: Date): Promise<WatchPlan> {
  const { rows } = await client.query<WatchRow>(
    `select w.venue_id, coalesce(w.market, v.market) as market, w.party_size,
            w.date_from::text as date_from, w.date_to::text as date_to
     from watches w left join venues v on v.venue_id = w.venue_id
     where w.kind = 'include'
     order by w.id
     limit $1`,
    [FAST_LANE_WATCHES_MAX],
  );
  const markets = new Set<string>(config.DISCOVERY_MARKETS);
  const targets = new Map<string, FastTarget>();
  const watchedDays = new Set<string>();
  for (const w of rows) {
    const slugs = w.market ? [w.market] : config.DISCOVERY_MARKETS;
    for (const market of slugs) {
      if (!markets.has(market)) continue;
      const dates = windowDates(getMarket(market), now, config.DISCOVERY_WINDOW_DAYS).filter(
        (d) => (w.date_from === null || d >= w.date_from) && (w.date_to === null || d <= w.date_to),
      );
      for (const d of dates) watchedDays.add(`${market}|${d}`);
      if (w.venue_id === null) continue;
      const polled = w.date_from === null && w.date_to === null ? dates.slice(0, FAST_LANE_UNDATED_DAYS) : dates;
      const sizes = w.party_size === null ? config.DISCOVERY_PARTY_SIZES : [w.party_size];
      for (const date of polled) {
        for (const partySize of sizes) {
          const key = `${w.venue_id}|${date}|${partySize}`;
          if (!targets.has(key) && targets.size < FAST_LANE_CANDIDATES_MAX) {
            targets.set(key, { key, venueId: w.venue_id, market, date, partySize });
          }
        }
      }
    }
  }
  return { targets: cycleOrder([...targets.values()]), watchedDays };
}

/**
 * The order the lane first cycles through its targets (it then keeps it: it always asks the one
 * asked longest ago): one party size's targets, nearest days first, then the next size's. A
 * venue-day's sizes are thus half a cycle apart, and a table offered at both is seen by whichever
 * comes first: half the wait of asking them back to back.
 */
export function cycleOrder(targets: FastTarget[]): FastTarget[] {
  const sizes = [...new Set(targets.map((t) => t.partySize))];
  const rank = (t: FastTarget) => sizes.indexOf(t.partySize);
  return targets.sort((a, b) => rank(a) - rank(b) || (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}
