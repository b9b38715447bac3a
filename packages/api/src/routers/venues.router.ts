import { z } from 'zod';
import { AppError, getMarket, RARITY_WINDOW_DAYS, rarity, rarityLabel } from '@dropwatch/core';
import { dropDto, toDropDto, withPgClient } from '@dropwatch/db';
import { queryVenueDrops } from '../feed/feed-queries.js';
import { OPEN_DURATION_BOUNDS_SECONDS, queryVenueHistory } from '../feed/venue-history.js';
import {
  VENUE_HISTORY_DAYS,
  VENUE_HISTORY_LIMIT,
  VENUE_MEDIAN_SAMPLE_LIMIT,
  VENUE_RECENT_DROPS_LIMIT,
} from '../limits.js';
import { publicProcedure, router } from '../trpc.js';
import { boundedInt, venueIdInput } from './common.schemas.js';

const venueGetInput = z.object({ venueId: venueIdInput }).strict();

const venueGetOutput = z.object({
  venue: z.object({
    id: z.string(),
    provider: z.string(),
    market: z.string(),
    name: z.string(),
    neighborhood: z.string().nullable(),
    cuisine: z.string().nullable(),
    priceRange: z.number().int().nullable(),
    rating: z.number().nullable(),
    imageUrl: z.string().nullable(),
    bookingUrl: z.string().nullable(),
    firstSeenAt: z.date(),
    lastSeenAt: z.date(),
    lastDropAt: z.date().nullable(),
  }),
  metrics: z.object({
    rarity: z.number(),
    rarityLabel: z.enum(['rare', 'uncommon', 'common']),
    /** Drops and closes over the rarity window (14 days). */
    drops: z.number().int(),
    closes: z.number().int(),
    meanOpenSeconds: z.number().nullable(),
    /** Median over the venue's most recent closed drops (VENUE_MEDIAN_SAMPLE_LIMIT). */
    medianOpenSeconds: z.number().nullable(),
  }),
  recentDrops: z.array(dropDto),
});

const venueHistoryInput = z
  .object({ venueId: venueIdInput, days: boundedInt(VENUE_HISTORY_DAYS), limit: boundedInt(VENUE_HISTORY_LIMIT) })
  .strict();

const count = z.number().int().nonnegative();
const venueHistoryOutput = z.object({
  venueId: z.string(),
  /** The venue's market time zone, in which `openedByHour` counts. */
  timeZone: z.string(),
  /** The window the counts cover: drops opened in the last `days` days. */
  days: z.number().int(),
  total: count,
  stillOpen: count,
  /** Drops of the window by the local hour they opened: 24 counts, hour 0 first. */
  openedByHour: z.array(count).length(24),
  /** Closed drops of the window by how long they stayed open; `upToSeconds` is exclusive, null for the last class. */
  openDurations: z.array(z.object({ upToSeconds: z.number().int().nullable(), drops: count })),
  /** The venue's most recent drops (of any age retention kept), newest first, `limit` at most. */
  drops: z.array(dropDto),
});

interface VenueRow {
  venue_id: string;
  provider: string;
  market: string;
  name: string;
  neighborhood: string | null;
  cuisine: string | null;
  price_range: number | null;
  rating: number | null;
  image_url: string | null;
  booking_url: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  last_drop_at: Date | null;
  drops: string | number;
  closes: string | number;
  open_seconds_sum: string | number;
  median_open_seconds: number | null;
}

export const venuesRouter = router({
  /** A venue, its metrics over the rarity window, and its most recent drops. */
  get: publicProcedure
    .input(venueGetInput)
    .output(venueGetOutput)
    .query(async ({ ctx, input }) => {
      // -- uses venues_pkey; venue_metrics_pkey (venue_id, day) range; drop_events_venue_opened_idx
      // -- backwards for the median sample (LIMIT).
      const { row, recent } = await withPgClient(ctx.readEm, async (db) => {
        const {
          rows: [row],
        } = await db.query<VenueRow>(
          `select v.*, m.drops, m.closes, m.open_seconds_sum,
                (select percentile_cont(0.5) within group (order by s.duration_seconds)
                 from (select d.duration_seconds from drop_events d
                       where d.venue_id = v.venue_id and d.duration_seconds is not null
                       order by d.opened_at desc limit $1) s) as median_open_seconds
         from venues v
         cross join lateral (
           select coalesce(sum(vm.drops), 0) as drops, coalesce(sum(vm.closes), 0) as closes,
                  coalesce(sum(vm.open_seconds_sum), 0) as open_seconds_sum
           from venue_metrics vm where vm.venue_id = v.venue_id and vm.day > current_date - $2::int
         ) m
         where v.venue_id = $3`,
          [VENUE_MEDIAN_SAMPLE_LIMIT, RARITY_WINDOW_DAYS, input.venueId],
        );
        if (!row) throw new AppError('NOT_FOUND', `venue ${input.venueId} not found`);
        return { row, recent: await queryVenueDrops(db, input.venueId, VENUE_RECENT_DROPS_LIMIT) };
      });
      const drops = Number(row.drops);
      const closes = Number(row.closes);
      const score = rarity(drops);
      return {
        venue: {
          id: row.venue_id,
          provider: row.provider,
          market: row.market,
          name: row.name,
          neighborhood: row.neighborhood,
          cuisine: row.cuisine,
          priceRange: row.price_range,
          rating: row.rating === null ? null : Number(row.rating),
          imageUrl: row.image_url,
          bookingUrl: row.booking_url,
          firstSeenAt: new Date(row.first_seen_at),
          lastSeenAt: new Date(row.last_seen_at),
          lastDropAt: row.last_drop_at ? new Date(row.last_drop_at) : null,
        },
        metrics: {
          rarity: score,
          rarityLabel: rarityLabel(score),
          drops,
          closes,
          meanOpenSeconds: closes > 0 ? Number(row.open_seconds_sum) / closes : null,
          medianOpenSeconds: row.median_open_seconds === null ? null : Number(row.median_open_seconds),
        },
        recentDrops: recent.map(toDropDto),
      };
    }),

  /**
   * A venue's drop history: its most recent drops, and over the last `days` days how many drops
   * it had, at which local hours they opened and how long they stayed open. NOT_FOUND for a venue
   * never seen (or removed by retention).
   */
  history: publicProcedure
    .input(venueHistoryInput)
    .output(venueHistoryOutput)
    .query(async ({ ctx, input }) => {
      const { timeZone, aggregate, drops } = await withPgClient(ctx.em, async (db) => {
        // -- uses venues_pkey
        const {
          rows: [venue],
        } = await db.query<{ market: string }>('select market from venues where venue_id = $1', [input.venueId]);
        if (!venue) throw new AppError('NOT_FOUND', `venue ${input.venueId} not found`);
        const zone = getMarket(venue.market).timeZone;
        return {
          timeZone: zone,
          aggregate: await queryVenueHistory(db, input.venueId, zone, input.days),
          drops: await queryVenueDrops(db, input.venueId, input.limit),
        };
      });
      return {
        venueId: input.venueId,
        timeZone,
        days: input.days,
        total: aggregate.total,
        stillOpen: aggregate.stillOpen,
        openedByHour: aggregate.openedByHour,
        openDurations: aggregate.openDurations.map((drops, i) => ({
          upToSeconds: OPEN_DURATION_BOUNDS_SECONDS[i] ?? null,
          drops,
        })),
        drops: drops.map(toDropDto),
      };
    }),
});
