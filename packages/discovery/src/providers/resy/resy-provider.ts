import type { Logger } from 'pino';
import type { Provider, ProviderBucket, Snapshot, SnapshotSlot, VenueInfo } from '../provider.js';
import { postSearch, type ResyHttpOptions, type SearchCallStats } from './resy-http.js';
import { resyRateLimiter } from './rate-limit.js';
import { parseHit, slotSchema, totalPagesOf, type ParsedHit } from './resy-schema.js';

export const RESY_PROVIDER_NAME = 'resy';
/** Hour filters around the anchor: anchor − 1 h, anchor, anchor + 1 h. */
const HOUR_OFFSETS = [-60, 0, 60] as const;
const RESY_SITE = 'https://resy.com';

export interface ResyProviderOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly authToken?: string | undefined;
  readonly perPage: number;
  readonly maxPages: number;
  readonly maxRps: number;
  readonly timeoutMs: number;
  /** Backoff base (tests shorten it). */
  readonly retryBaseMs?: number;
  readonly logger?: Logger | undefined;
}

interface MergedSlot {
  venueId: string;
  localStart: string;
  sizes: Set<number>;
  bookingUrl: string | null;
}

/**
 * The Resy venue search as a Provider (DESIGN §3.2): for each party size × hour filter, pages of
 * venues with their availability, merged by venue and start time. All-or-nothing: one failed
 * call fails the poll (a partial snapshot would close drops that are still open).
 */
export class ResyProvider implements Provider {
  readonly name = RESY_PROVIDER_NAME;
  private readonly http: ResyHttpOptions;

  constructor(private readonly options: ResyProviderOptions) {
    this.http = {
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      authToken: options.authToken,
      timeoutMs: options.timeoutMs,
      limiter: resyRateLimiter(options.maxRps),
      retryBaseMs: options.retryBaseMs,
      logger: options.logger,
    };
  }

  async fetchSnapshot(bucket: ProviderBucket, partySizes: readonly number[], signal?: AbortSignal): Promise<Snapshot> {
    const stats: SearchCallStats & { malformed: number } = { requests: 0, retries: 0, malformed: 0 };
    const venues = new Map<string, VenueInfo>();
    const slots = new Map<string, MergedSlot>();
    // One failed call aborts the others of this poll.
    const controller = new AbortController();
    const poll = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
    const calls = partySizes.flatMap((size) => hourFilters(bucket.timeSlot).map((time) => ({ size, time })));
    try {
      await Promise.all(
        calls.map(async ({ size, time }) => {
          for await (const hit of this.search(bucket, size, time, stats, poll)) {
            this.mergeHit(bucket, size, hit, venues, slots, stats);
          }
        }),
      );
    } catch (err) {
      controller.abort();
      throw err;
    }
    const merged: SnapshotSlot[] = [...slots.values()].map((s) => ({
      venueId: s.venueId,
      localStart: s.localStart,
      partySizes: [...s.sizes].sort((a, b) => a - b),
      bookingUrl: s.bookingUrl,
    }));
    return { venues, slots: merged, stats };
  }

  /** Pages of one (party size, hour) search: stops at the page count, on a short page, or at maxPages. */
  private async *search(
    bucket: ProviderBucket,
    partySize: number,
    time: string,
    stats: SearchCallStats,
    signal: AbortSignal,
  ): AsyncGenerator<unknown> {
    const { perPage, maxPages } = this.options;
    for (let page = 1; page <= maxPages; page++) {
      const body = {
        availability: true,
        page,
        per_page: perPage,
        slot_filter: { day: bucket.date, party_size: partySize, time_filter: time },
        types: ['venue'],
        order_by: 'availability',
        geo: { bounding_box: [...bucket.market.boundingBox] },
        query: '',
      };
      const res = await postSearch(this.http, body, stats, signal);
      yield* res.search.hits;
      const totalPages = totalPagesOf(res);
      if (totalPages !== undefined && page >= totalPages) return;
      if (res.search.hits.length < perPage) return;
    }
  }

  private mergeHit(
    bucket: ProviderBucket,
    partySize: number,
    raw: unknown,
    venues: Map<string, VenueInfo>,
    slots: Map<string, MergedSlot>,
    stats: { malformed: number },
  ): void {
    const hit = parseHit(raw);
    if (!hit) {
      stats.malformed += 1;
      return;
    }
    const info = venueInfo(bucket, hit);
    if (!venues.has(info.id)) venues.set(info.id, info);
    for (const rawSlot of hit.slots) {
      const slot = slotSchema.safeParse(rawSlot);
      if (!slot.success) {
        stats.malformed += 1;
        continue;
      }
      const start = slot.data.date.start;
      const key = `${info.id}|${start}`;
      let merged = slots.get(key);
      if (!merged) {
        const url = info.bookingUrl ? `${info.bookingUrl}?date=${start.slice(0, 10)}&seats=${partySize}` : null;
        merged = { venueId: info.id, localStart: start, sizes: new Set(), bookingUrl: url };
        slots.set(key, merged);
      }
      merged.sizes.add(partySize);
    }
  }
}

function venueInfo(bucket: ProviderBucket, hit: ParsedHit): VenueInfo {
  const v = hit.venue;
  const rating = typeof v.rating === 'number' ? v.rating : (v.rating?.average ?? null);
  const cuisine = Array.isArray(v.cuisine) ? v.cuisine.join(', ') : (v.cuisine ?? null);
  return {
    id: `${RESY_PROVIDER_NAME}:${v.id}`,
    name: v.name,
    neighborhood: v.location?.neighborhood ?? v.neighborhood ?? null,
    cuisine: cuisine === '' ? null : cuisine,
    priceRange: v.price_range ?? v.price_range_id ?? null,
    rating,
    imageUrl: v.images?.[0] ?? null,
    bookingUrl: v.url_slug ? `${RESY_SITE}/cities/${bucket.market.locationSlug}/${encodeURIComponent(v.url_slug)}` : null,
  };
}

/** HH:MM of the anchor and one hour either side, within the day. */
export function hourFilters(anchor: string): string[] {
  const [hh = 0, mm = 0] = anchor.split(':').map(Number);
  const pad = (n: number) => String(n).padStart(2, '0');
  return HOUR_OFFSETS.map((off) => hh * 60 + mm + off)
    .filter((m) => m >= 0 && m < 24 * 60)
    .map((m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`);
}
