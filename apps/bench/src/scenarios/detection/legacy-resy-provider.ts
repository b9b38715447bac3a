import type { Config } from '@dropwatch/core';
import { hourFilters, RequestBudget } from '@dropwatch/discovery/internals';
import {
  ProviderError,
  RESY_PROVIDER_NAME,
  type Provider,
  type ProviderBucket,
  type Snapshot,
  type SnapshotSlot,
  type VenueInfo,
} from '@dropwatch/discovery';
import { z } from 'zod';

/**
 * The Resy search as it was before the continuous poller (the reference of the `detection`
 * scenario, kept here only): per party size × hour filter, pages of the whole market's box up to
 * RESY_MAX_PAGES — what lies past the cap is never seen — merged by venue and start; no box
 * splitting, no guard on single calls, paging stops on a short page or at the page count. The
 * same request budget as today's provider paces it, so the designs spend one RESY_MAX_RPS.
 */
const hitSchema = z.object({
  id: z.union([z.number(), z.object({ resy: z.number() })]),
  name: z.string(),
  url_slug: z.string().nullish(),
  location: z.object({ neighborhood: z.string().nullish() }).nullish(),
  availability: z.object({ slots: z.array(z.object({ date: z.object({ start: z.string() }) })) }).nullish(),
});
const pageSchema = z.object({
  total_pages: z.number().optional(),
  search: z.object({
    hits: z.array(z.unknown()),
    total_pages: z.number().optional(),
    pagination: z.object({ total_pages: z.number().optional() }).nullish(),
  }),
});

export class LegacyResyProvider implements Provider {
  readonly name = RESY_PROVIDER_NAME;
  readonly budget: RequestBudget;

  constructor(private readonly config: Config) {
    this.budget = new RequestBudget(config.RESY_MAX_RPS);
  }

  callsPerPoll(partySizes: readonly number[], timeSlot: string): number {
    return partySizes.length * hourFilters(timeSlot).length;
  }

  async fetchSnapshot(bucket: ProviderBucket, partySizes: readonly number[], signal?: AbortSignal): Promise<Snapshot> {
    const venues = new Map<string, VenueInfo>();
    const slots = new Map<string, { venueId: string; localStart: string; sizes: Set<number> }>();
    let requests = 0;
    const calls = partySizes.flatMap((size) => hourFilters(bucket.timeSlot).map((time) => ({ size, time })));
    await Promise.all(
      calls.map(async ({ size, time }) => {
        for (let page = 1; page <= this.config.RESY_MAX_PAGES; page++) {
          await this.budget.acquire('search', signal);
          requests++;
          const res = await this.post(bucket, size, time, page, signal);
          for (const raw of res.search.hits) {
            const hit = hitSchema.safeParse(raw);
            if (!hit.success) continue;
            const id = `${RESY_PROVIDER_NAME}:${typeof hit.data.id === 'number' ? hit.data.id : hit.data.id.resy}`;
            if (!venues.has(id)) venues.set(id, venueInfo(id, hit.data.name, hit.data.location?.neighborhood ?? null));
            for (const s of hit.data.availability?.slots ?? []) {
              const key = `${id}|${s.date.start}`;
              let merged = slots.get(key);
              if (!merged) slots.set(key, (merged = { venueId: id, localStart: s.date.start, sizes: new Set() }));
              merged.sizes.add(size);
            }
          }
          const total = res.total_pages ?? res.search.total_pages ?? res.search.pagination?.total_pages;
          if ((total !== undefined && page >= total) || res.search.hits.length < this.config.RESY_PER_PAGE) break;
        }
      }),
    );
    const out: SnapshotSlot[] = [...slots.values()].map((s) => ({
      venueId: s.venueId,
      localStart: s.localStart,
      partySizes: [...s.sizes].sort((a, b) => a - b),
      bookingUrl: null,
    }));
    return { venues, slots: out, stats: { requests, retries: 0, malformed: 0 } };
  }

  private async post(bucket: ProviderBucket, size: number, time: string, page: number, signal?: AbortSignal) {
    const body = {
      availability: true,
      page,
      per_page: this.config.RESY_PER_PAGE,
      slot_filter: { day: bucket.date, party_size: size, time_filter: time },
      types: ['venue'],
      order_by: 'availability',
      geo: { bounding_box: [...bucket.market.boundingBox] },
      query: '',
    };
    const res = await fetch(new URL('/3/venuesearch/search', this.config.RESY_BASE_URL), {
      method: 'POST',
      headers: {
        authorization: `ResyAPI api_key="${this.config.RESY_API_KEY ?? ''}"`,
        'content-type': 'application/json',
        'user-agent': 'dropwatch-bench',
      },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    }).catch(() => {
      throw new ProviderError('upstream', 'legacy resy search failed');
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new ProviderError('upstream', `legacy resy search: HTTP ${res.status}`);
    }
    const parsed = pageSchema.safeParse(await res.json());
    if (!parsed.success) throw new ProviderError('malformed', 'legacy resy search: no search.hits');
    return parsed.data;
  }
}

function venueInfo(id: string, name: string, neighborhood: string | null): VenueInfo {
  return { id, name, neighborhood, cuisine: null, priceRange: null, rating: null, imageUrl: null, bookingUrl: null };
}
