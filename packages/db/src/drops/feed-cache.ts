import { z } from 'zod';
import { dropDto } from './drop-dto.js';

/**
 * NOTIFY channels. The discovery poller sends DROPS_CHANNEL from each bucket transaction that
 * records drops and after each feed-cache rebuild; the notify job LISTENs on it and sends
 * NOTIFICATIONS_CHANNEL when it inserted notifications; the API LISTENs on both. A rename on one
 * side only would silently stop the live feed, hence one declaration.
 */
export const DROPS_CHANNEL = 'dropwatch_drops';
export const NOTIFICATIONS_CHANNEL = 'dropwatch_notifications';
/**
 * A committed change to what an already-recorded drop shows, with no new drop to announce: a drop
 * closed or reopened (`closedAt`), a venue's name, neighborhood or links rewritten, old drops
 * removed by retention. The API's answer cache for feed.newDrops ends its generation on it as it
 * does on DROPS_CHANNEL. A channel of its own so that live subscribers and the notify job, who
 * only care about new drops, are not woken by every close.
 */
export const FEED_CHANGES_CHANNEL = 'dropwatch_feed_changes';

/** Drops opened this recently are "just opened"; older open drops are "still open". */
export const FEED_JUST_OPENED_MINUTES = 10;
/** Board entries kept per market. */
export const FEED_BOARD_CAP = 500;

/** The feed_cache key of a market. */
export const feedCacheKey = (market: string): string => `market:${market}`;

/** A drop in the payload: the feed DTO. jsonb holds its dates as ISO strings; they parse back to Dates. */
export const feedCacheDrop = dropDto.extend({
  openedAt: z.coerce.date(),
  closedAt: z.coerce.date().nullable(),
});

/**
 * feed_cache.payload of key `market:<slug>`: every segment holds open drops only.
 * justOpened: opened within `justOpenedMinutes`, newest first, ≤ FEED_JUST_OPENED_CAP;
 * stillOpen: older open drops, newest first, ≤ FEED_STILL_OPEN_CAP;
 * board: open drops by rarity, then freshness, then venue name, ≤ FEED_BOARD_CAP.
 * The writer builds this shape and stores it with JSON.stringify (Dates become ISO strings); the
 * reader parses it with this schema.
 */
export const feedCachePayload = z.object({
  market: z.string(),
  builtAt: z.coerce.date(),
  justOpenedMinutes: z.number().int(),
  justOpened: z.array(feedCacheDrop),
  stillOpen: z.array(feedCacheDrop),
  board: z.array(feedCacheDrop),
});
export type FeedCachePayload = z.infer<typeof feedCachePayload>;
