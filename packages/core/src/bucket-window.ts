import { getMarket, MARKET_SLUGS, type Market, type MarketSlug } from './markets.js';
import { addDays, localDate } from './time-zone.js';

/** One (market, local date, anchor time) to poll. */
export interface BucketKey {
  readonly market: MarketSlug;
  /** Market-local date, YYYY-MM-DD. */
  readonly date: string;
  /** Market-local anchor time, HH:MM. */
  readonly timeSlot: string;
}

const BUCKET_ID = /^([a-z]+)_(\d{4})-(\d{2})-(\d{2})_([01]\d|2[0-3]):([0-5]\d)$/;

/** `nyc_2026-11-28_20:30`: sorts by date, then time, within a market. */
export function bucketId(key: BucketKey): string {
  return `${key.market}_${key.date}_${key.timeSlot}`;
}

export class BucketIdError extends Error {
  constructor(id: string, reason: string) {
    super(`invalid bucket id "${id.slice(0, 64)}": ${reason}`);
    this.name = 'BucketIdError';
  }
}

export function parseBucketId(id: string): BucketKey {
  const m = BUCKET_ID.exec(id);
  if (!m) throw new BucketIdError(id, 'expected <market>_<YYYY-MM-DD>_<HH:MM>');
  const [, market = '', y, mo, d, hh, mm] = m;
  if (!(MARKET_SLUGS as string[]).includes(market)) throw new BucketIdError(id, `unknown market "${market}"`);
  const date = `${y}-${mo}-${d}`;
  // Round-trip through Date to reject 2026-02-30 and friends.
  if (new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw new BucketIdError(id, `no such date ${date}`);
  }
  return { market: market as MarketSlug, date, timeSlot: `${hh}:${mm}` };
}

/** Today's date in the market's own zone. */
export function marketToday(market: Market | MarketSlug, now: Date): string {
  const m = typeof market === 'string' ? getMarket(market) : market;
  return localDate(now, m.timeZone);
}

/** The dates of the window: today (market-local) and the next `days - 1`. */
export function windowDates(market: Market | MarketSlug, now: Date, days: number): string[] {
  const today = marketToday(market, now);
  return Array.from({ length: days }, (_, i) => addDays(today, i));
}

/** Every bucket of the window, ordered by date then time slot. */
export function bucketWindow(
  market: Market | MarketSlug,
  now: Date,
  days: number,
  timeSlots: readonly string[],
): BucketKey[] {
  const m = typeof market === 'string' ? getMarket(market) : market;
  const slots = [...timeSlots].sort();
  return windowDates(m, now, days).flatMap((date) => slots.map((timeSlot) => ({ market: m.slug, date, timeSlot })));
}
