import { z } from 'zod';

/** Venue-local start as Resy sends it. */
const LOCAL_START = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

const pageCount = z.number().int().nonnegative();

/** A search response: only the envelope is checked here; hits are validated one by one. */
export const searchResponseSchema = z.object({
  total_pages: pageCount.optional(),
  search: z.object({
    hits: z.array(z.unknown()),
    total_pages: pageCount.optional(),
    pagination: z.object({ total_pages: pageCount.optional() }).nullish(),
    nbHits: pageCount.optional(),
  }),
});
export type SearchResponse = z.infer<typeof searchResponseSchema>;

/** The page count may sit at any of three places (or nowhere). */
export function totalPagesOf(res: SearchResponse): number | undefined {
  return res.total_pages ?? res.search.total_pages ?? res.search.pagination?.total_pages ?? undefined;
}

const venueIdSchema = z
  .union([z.number().int().positive(), z.object({ resy: z.number().int().positive() })])
  .transform((v) => (typeof v === 'number' ? v : v.resy));

const availabilitySchema = z.object({ slots: z.array(z.unknown()) }).nullable();

const venueSchema = z.object({
  id: venueIdSchema,
  name: z.string().min(1).max(500),
  url_slug: z.string().max(500).nullish(),
  neighborhood: z.string().max(500).nullish(),
  location: z
    .object({
      neighborhood: z.string().max(500).nullish(),
      latitude: z.number().min(-90).max(90).nullish(),
      longitude: z.number().min(-180).max(180).nullish(),
    })
    .nullish(),
  _geoloc: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).nullish(),
  cuisine: z.union([z.array(z.string()), z.string()]).nullish(),
  price_range: z.number().nullish(),
  price_range_id: z.number().nullish(),
  rating: z.union([z.number(), z.object({ average: z.number().nullish() })]).nullish(),
  images: z.array(z.string()).nullish(),
  availability: availabilitySchema.optional(),
});

/** Where a venue is, when its hit says (`_geoloc`, or the location's latitude and longitude). */
export function hitPosition(hit: ParsedHit): { lat: number; lng: number } | null {
  const v = hit.venue;
  if (v._geoloc) return v._geoloc;
  const lat = v.location?.latitude;
  const lng = v.location?.longitude;
  return typeof lat === 'number' && typeof lng === 'number' ? { lat, lng } : null;
}

/** A hit is the venue itself, or nests it under `venue` (availability beside it or inside). */
const hitSchema = z.union([z.object({ venue: venueSchema, availability: availabilitySchema.optional() }), venueSchema]);

export const slotSchema = z.object({
  date: z.object({ start: z.string().regex(LOCAL_START) }),
  config: z
    .object({
      id: z.union([z.number(), z.string()]).nullish(),
      token: z.string().nullish(),
      type: z.string().nullish(),
    })
    .nullish(),
});

export interface ParsedHit {
  readonly venue: z.infer<typeof venueSchema>;
  readonly slots: readonly unknown[];
}

/** A hit in either shape, or null when it does not validate (the caller counts it). */
export function parseHit(raw: unknown): ParsedHit | null {
  const parsed = hitSchema.safeParse(raw);
  if (!parsed.success) return null;
  const hit = parsed.data;
  if ('venue' in hit) {
    const availability = hit.availability ?? hit.venue.availability ?? null;
    return { venue: hit.venue, slots: availability?.slots ?? [] };
  }
  return { venue: hit, slots: hit.availability?.slots ?? [] };
}

/**
 * A per-venue availability answer (`GET /4/find`): `results.venues[0]` is the venue, its slots
 * beside it (same slot shape as search hits). Only the envelope is checked here.
 */
export const findResponseSchema = z.object({
  results: z.object({ venues: z.array(z.unknown()) }),
});
export type FindResponse = z.infer<typeof findResponseSchema>;

const findVenueSchema = z.object({ venue: venueSchema, slots: z.array(z.unknown()).nullish() });

/** The venue of a /4/find answer with its slots, or null when it does not validate. */
export function parseFindVenue(raw: unknown): ParsedHit | null {
  const parsed = findVenueSchema.safeParse(raw);
  if (!parsed.success) return null;
  return { venue: parsed.data.venue, slots: parsed.data.slots ?? parsed.data.venue.availability?.slots ?? [] };
}
