import { addDays, getMarket, localDate, localParts, type Market, type MarketSlug } from '@dropwatch/core';
import { cumulate, intIn, pickWeighted, poisson, unit } from './hash.js';
import { inBox, makeVenue, Stream, type FakeVenue } from './venues.js';

/** Bookable start times: every 15 minutes from 11:00 to 23:00, venue-local. */
export const SLOT_TIMES: readonly string[] = Array.from({ length: 49 }, (_, i) => minutesToTime(11 * 60 + i * 15));
/** A search's time_filter t matches slots in [t − 30 min, t + 30 min). */
export const SEARCH_HALF_WINDOW_MIN = 30;
/** Days of the future the market sells (today included). */
export const MARKET_DAYS = 14;
/** Openings last 60–120 s, one in ten 120–300 s: no opening is bookable longer than this. */
export const MAX_OPENING_MS = 300_000;
/** Openings per second across the market per 300 venues (scaled with the venue count). */
export const OPENINGS_PER_SECOND_PER_300 = 2;

const STEP_MS = 1_000;
/** Steps whose openings are kept generated (a few hours; the cache is cleared past it). */
const STEP_CACHE_MAX = 20_000;

/**
 * Cancellations cluster near the date: today's rate is ~20× the rate 13 days out.
 * Weight of day offset d ∝ (1 + d)^-1.2 (today 1, tomorrow 0.44, 10 days out 0.06).
 */
const DAY_WEIGHTS = Array.from({ length: MARKET_DAYS }, (_, d) => (1 + d) ** -1.2);
/** Prime time (start in [18:00, 21:00]) draws 3× the openings of any other start time. */
const TIME_WEIGHTS = SLOT_TIMES.map((t) => (t >= '18:00' && t <= '21:00' ? 3 : 1));
const DAY_CUM = cumulate(DAY_WEIGHTS);
const TIME_CUM = cumulate(TIME_WEIGHTS);

export interface FakeMarketOptions {
  readonly seed: number;
  readonly venues: number;
  /** The market's time origin: its state is a function of (seed, options, now − epochMs). */
  readonly epochMs: number;
  readonly market?: MarketSlug | undefined;
  /** Default OPENINGS_PER_SECOND_PER_300 × venues / 300. */
  readonly openingsPerSecond?: number | undefined;
}

/** One short-lived bookable slot at a hard-to-book venue: bookable in [startMs, endMs). */
export interface Opening {
  readonly venueId: string;
  readonly venueIndex: number;
  /** Venue-local YYYY-MM-DD. */
  readonly date: string;
  /** Venue-local HH:MM. */
  readonly time: string;
  readonly partySizes: readonly number[];
  readonly startMs: number;
  readonly endMs: number;
}

export interface VenueSlots {
  readonly venue: FakeVenue;
  /** Bookable HH:MM start times, ascending. */
  readonly times: readonly string[];
}

export interface SearchQuery {
  readonly date: string;
  readonly partySize: number;
  /** HH:MM: slots in [t − 30 min, t + 30 min) match. */
  readonly timeFilter: string;
  readonly boundingBox: readonly number[];
}

/**
 * The fake Resy market (pure model, no I/O): ~70% regular venues holding steady slots, one of
 * which flips state every 20–60 min per venue, and ~30% hard-to-book venues whose only slots are
 * openings, a Poisson process by 1-second step whose rate falls with days ahead and peaks at
 * prime time. Every answer is a function of (options, atMs); two instances agree at each instant.
 */
export class FakeResyMarket {
  readonly venues: readonly FakeVenue[];
  readonly market: Market;
  readonly seed: number;
  readonly epochMs: number;
  /** Mean openings started per second, market-wide. */
  readonly openingsPerSecond: number;
  private readonly hard: readonly FakeVenue[];
  private readonly byResyId: ReadonlyMap<number, FakeVenue>;
  private readonly byVenueId: ReadonlyMap<string, FakeVenue>;
  /** Day number (days since 1970-01-01) of the epoch's market-local date. */
  private readonly epochDay: number;
  private readonly stepCache = new Map<number, readonly Opening[]>();

  constructor(options: FakeMarketOptions) {
    if (!Number.isInteger(options.venues) || options.venues < 1)
      throw new Error(`venues must be a positive integer, got ${options.venues}`);
    this.seed = options.seed;
    this.epochMs = options.epochMs;
    this.market = getMarket(options.market ?? 'nyc');
    this.venues = Array.from({ length: options.venues }, (_, i) => makeVenue(options.seed, i, this.market.boundingBox));
    this.hard = this.venues.filter((v) => v.kind === 'hard');
    this.byResyId = new Map(this.venues.map((v) => [v.resyId, v]));
    this.byVenueId = new Map(this.venues.map((v) => [v.venueId, v]));
    this.openingsPerSecond = options.openingsPerSecond ?? (OPENINGS_PER_SECOND_PER_300 * options.venues) / 300;
    this.epochDay = dayNumber(localDate(new Date(options.epochMs), this.market.timeZone));
  }

  venue(venueId: string): FakeVenue | undefined {
    return this.byVenueId.get(venueId);
  }

  /** Every opening bookable at some instant of [fromMs, toMs], by start time. */
  openings(fromMs: number, toMs: number): Opening[] {
    const out: Opening[] = [];
    for (let k = this.stepOf(fromMs - MAX_OPENING_MS); k <= this.stepOf(toMs); k++) {
      for (const o of this.openingsOfStep(k)) if (o.startMs <= toMs && o.endMs > fromMs) out.push(o);
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /** Openings bookable at atMs. */
  activeOpenings(atMs: number): Opening[] {
    return this.openings(atMs, atMs).filter((o) => o.startMs <= atMs && atMs < o.endMs);
  }

  /** Whether the venue's regular (steady) slot at date/time is bookable at atMs; false for hard venues. */
  isRegularBookable(venueId: string, date: string, time: string, atMs: number, partySize?: number): boolean {
    const v = this.byVenueId.get(venueId);
    const t = SLOT_TIMES.indexOf(time);
    if (!v || v.kind !== 'regular' || t < 0) return false;
    const day = dayNumber(date);
    return (
      this.regularOpen(v, day, t, this.flipAt(v, atMs)) &&
      (partySize === undefined || regularSizes(this.seed, v, day, t).includes(partySize))
    );
  }

  /** Ground truth: is the slot bookable at atMs (for that party size, or any)? */
  isBookable(venueId: string, date: string, time: string, atMs: number, partySize?: number): boolean {
    if (this.isRegularBookable(venueId, date, time, atMs, partySize)) return true;
    return this.activeOpenings(atMs).some(
      (o) =>
        o.venueId === venueId &&
        o.date === date &&
        o.time === time &&
        (partySize === undefined || o.partySizes.includes(partySize)),
    );
  }

  /**
   * Venues in the box with at least one bookable slot for (date, party size) in the time filter's
   * window, ranked by matching slots (desc), then popularity (desc), then id.
   */
  search(query: SearchQuery, atMs: number): VenueSlots[] {
    const center = timeToMinutes(query.timeFilter);
    const inWindow = (t: string) => {
      const m = timeToMinutes(t);
      return m >= center - SEARCH_HALF_WINDOW_MIN && m < center + SEARCH_HALF_WINDOW_MIN;
    };
    const indices = SLOT_TIMES.flatMap((t, i) => (inWindow(t) ? [i] : []));
    const openingsByVenue = this.openingsByVenue(atMs, query.date, query.partySize);
    const hits: VenueSlots[] = [];
    for (const v of this.venues) {
      if (!inBox(v, query.boundingBox)) continue;
      const times = this.slotTimes(v, query.date, query.partySize, atMs, openingsByVenue, indices).filter(inWindow);
      if (times.length > 0) hits.push({ venue: v, times });
    }
    return hits.sort(
      (a, b) =>
        b.times.length - a.times.length || b.venue.popularity - a.venue.popularity || a.venue.resyId - b.venue.resyId,
    );
  }

  /** All bookable slots of one venue on a date for a party size (Resy's /4/find); null for an unknown id. */
  find(resyId: number, date: string, partySize: number, atMs: number): VenueSlots | null {
    const v = this.byResyId.get(resyId);
    if (!v) return null;
    return {
      venue: v,
      times: this.slotTimes(v, date, partySize, atMs, this.openingsByVenue(atMs, date, partySize), ALL_TIME_INDICES),
    };
  }

  /** Bookable times of a venue: its openings, plus its regular slots at the given time indices. */
  private slotTimes(
    v: FakeVenue,
    date: string,
    partySize: number,
    atMs: number,
    openings: ReadonlyMap<number, Set<string>>,
    indices: readonly number[],
  ): string[] {
    const times = new Set(openings.get(v.index));
    if (v.kind === 'regular') {
      const day = dayNumber(date);
      const flip = this.flipAt(v, atMs);
      for (const t of indices) {
        if (this.regularOpen(v, day, t, flip) && regularSizes(this.seed, v, day, t).includes(partySize))
          times.add(SLOT_TIMES[t]!);
      }
    }
    return [...times].sort();
  }

  private openingsByVenue(atMs: number, date: string, partySize: number): Map<number, Set<string>> {
    const map = new Map<number, Set<string>>();
    for (const o of this.activeOpenings(atMs)) {
      if (o.date !== date || !o.partySizes.includes(partySize)) continue;
      let set = map.get(o.venueIndex);
      if (!set) map.set(o.venueIndex, (set = new Set()));
      set.add(o.time);
    }
    return map;
  }

  /**
   * A regular slot: open with the venue's density, except the one slot the venue's current flip
   * epoch (20–60 min, own phase) inverts — about two changes per venue per epoch.
   */
  private regularOpen(v: FakeVenue, day: number, t: number, flip: Flip): boolean {
    const base = unit(this.seed, Stream.RegularSlot, v.index, day, t) < v.density;
    return flip.day === day && flip.t === t ? !base : base;
  }

  /** The slot a regular venue's flip epoch at atMs inverts. */
  private flipAt(v: FakeVenue, atMs: number): Flip {
    const periodMs = intIn(1_200, 3_600, this.seed, Stream.FlipPeriod, v.index) * 1000;
    const phaseMs = Math.floor(unit(this.seed, Stream.FlipPhase, v.index) * periodMs);
    const epoch = Math.floor((atMs - this.epochMs + phaseMs) / periodMs);
    return {
      day: this.epochDay + intIn(0, MARKET_DAYS - 1, this.seed, Stream.FlipTarget, v.index, epoch, 1),
      t: intIn(0, SLOT_TIMES.length - 1, this.seed, Stream.FlipTarget, v.index, epoch, 2),
    };
  }

  private stepOf(ms: number): number {
    return Math.floor((ms - this.epochMs) / STEP_MS);
  }

  /** The openings starting in step k, generated from (seed, k) alone. */
  private openingsOfStep(k: number): readonly Opening[] {
    const cached = this.stepCache.get(k);
    if (cached) return cached;
    const out: Opening[] = [];
    const n = this.hard.length === 0 ? 0 : poisson(this.openingsPerSecond, this.seed, Stream.OpeningCount, k);
    const stepStart = this.epochMs + k * STEP_MS;
    for (let j = 0; j < n; j++) {
      const u = (field: number) => unit(this.seed, Stream.OpeningPick, k, j, field);
      const venue = this.hard[Math.floor(u(1) * this.hard.length)]!;
      const startMs = stepStart + Math.floor(u(2) * STEP_MS);
      const durationMs = u(3) < 0.9 ? 60_000 + u(4) * 60_000 : 120_000 + u(4) * 180_000;
      const today = localDate(new Date(startMs), this.market.timeZone);
      const size = u(7);
      out.push({
        venueId: venue.venueId,
        venueIndex: venue.index,
        date: addDays(today, pickWeighted(DAY_CUM, u(5))),
        time: SLOT_TIMES[pickWeighted(TIME_CUM, u(6))]!,
        partySizes: size < 0.7 ? [2, 4] : size < 0.85 ? [2] : [4],
        startMs,
        endMs: startMs + Math.round(durationMs),
      });
    }
    if (this.stepCache.size >= STEP_CACHE_MAX) this.stepCache.clear();
    this.stepCache.set(k, out);
    return out;
  }

  /** Venue-local date of an instant in this market. */
  localDate(atMs: number): string {
    return localDate(new Date(atMs), this.market.timeZone);
  }

  /** Venue-local minutes since midnight of an instant. */
  localMinutes(atMs: number): number {
    const p = localParts(new Date(atMs), this.market.timeZone);
    return p.hour * 60 + p.minute;
  }
}

/** Party sizes of a regular slot: most take 2 and 4. */
function regularSizes(seed: number, v: FakeVenue, day: number, t: number): readonly number[] {
  const u = unit(seed, Stream.RegularSizes, v.index, day, t);
  return u < 0.75 ? BOTH : u < 0.9 ? TWO : FOUR;
}
interface Flip {
  readonly day: number;
  readonly t: number;
}
const ALL_TIME_INDICES = SLOT_TIMES.map((_, i) => i);
const BOTH = [2, 4] as const;
const TWO = [2] as const;
const FOUR = [4] as const;

function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}

export function timeToMinutes(hhmm: string): number {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

export function minutesToTime(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
