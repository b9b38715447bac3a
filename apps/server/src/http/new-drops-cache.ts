import { ON_DROP_FALLBACK_POLL_MS, type DropSignal } from '@dropwatch/api';
import { LiveResponseCache } from './live-response-cache.js';

/** Distinct feed.newDrops requests (cursor, market, limit spellings) kept at once; the oldest goes first. */
export const NEW_DROPS_CACHE_MAX_ENTRIES = 256;
/**
 * The longest an answer is kept even when no wake came: the same bound feed.onDrop's fallback poll
 * gives a live subscriber, for what no NOTIFY announces (a LISTEN connection that died without an
 * error yet; a transaction held open past the listener's visibility wait).
 */
export const NEW_DROPS_CACHE_MAX_AGE_MS = ON_DROP_FALLBACK_POLL_MS;
/**
 * Every answer goes at the latest at the next quarter hour (UTC): a drop's rarity counts its venue's
 * drops over the days up to the database's `current_date`, which turns over at midnight in the
 * database's time zone, with no write to announce it. Every zone's midnight is on a UTC quarter hour.
 */
const DAY_TURN_STEP_MS = 15 * 60_000;

const nextQuarterHour = (renderedAt: number): number =>
  (Math.floor(renderedAt / DAY_TURN_STEP_MS) + 1) * DAY_TURN_STEP_MS;

/**
 * Whether a GET of feed.newDrops reads from a cursor in every call of it. Without a cursor the
 * start is "drops opened within the last N minutes" — a moving window, never shared.
 */
export function readsFromCursors(url: URL): boolean {
  const raw = url.searchParams.get('input');
  if (raw === null) return false;
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch {
    return false;
  }
  if (input === null || typeof input !== 'object') return false;
  const calls = url.searchParams.get('batch') === '1' ? Object.values(input) : [input];
  return (
    calls.length > 0 &&
    calls.every((c: unknown) => {
      const json = (c as { json?: unknown } | null)?.json as { cursor?: unknown } | null | undefined;
      return typeof json?.cursor === 'string';
    })
  );
}

/**
 * feed.newDrops answers, serialized and compressed once, shared by every identical anonymous
 * request until the next wake of the drop signal: a new drop (NOTIFY dropwatch_drops), drops
 * becoming readable by the cursor ('visible'), a recorded drop or its venue changed (NOTIFY
 * dropwatch_feed_changes), or the LISTEN connection re-opened. Everything an answer shows changes
 * only with one of those (docs/architecture.md, "feed.newDrops answers"), so an answer served from
 * here is the one a read now would give — with one exception, the `cursor` of a page that is not
 * full: a read now may name a later position below a newer snapshot's xmin, and both positions
 * have the same drops after them.
 *
 * No answer is kept while LISTEN is down or while a NOTIFY's drops may still be hidden from the
 * cursor (`settled`); without a LISTEN connection at all nothing is kept.
 */
export function createNewDropsCache(drops: DropSignal | null): LiveResponseCache {
  const cache = new LiveResponseCache(drops ? NEW_DROPS_CACHE_MAX_AGE_MS : 0, 'no-cache', {
    maxEntries: NEW_DROPS_CACHE_MAX_ENTRIES,
    expiresAt: nextQuarterHour,
    mayKeep: () => drops?.settled ?? false,
  });
  drops?.subscribe(() => cache.invalidate());
  drops?.feedChanges?.subscribe(() => cache.invalidate());
  return cache;
}

/** A request (already known to be an anonymous GET) whose answer the cache may share: feed.newDrops from cursors. */
export function sharesNewDrops(url: URL, procedures: readonly string[]): boolean {
  return procedures.length > 0 && procedures.every((p) => p === 'feed.newDrops') && readsFromCursors(url);
}
