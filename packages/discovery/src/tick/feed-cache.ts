import { compareForBoard, RARITY_WINDOW_DAYS, type Config } from '@dropwatch/core';
import {
  dropProjection,
  DROPS_CHANNEL,
  FEED_BOARD_CAP,
  FEED_JUST_OPENED_MINUTES,
  feedCacheKey,
  toDropDto,
  type DropDto,
  type DropRow,
  type FeedCachePayload,
  type PgClient,
} from '@dropwatch/db';

/** A market's payload must stay under this. */
export const FEED_PAYLOAD_MAX_BYTES = 2 * 1024 * 1024;

/**
 * Open drops of a market, newest first, at most STILL_OPEN_EVENTS_LIMIT, with the venue's drops
 * in the rarity window ending on the tick's own day (its clock, not the database's).
 * -- availability_state_market_opened_idx (market, opened_at desc) with the limit;
 *    drop_events_pkey (opened_minute, id), venues_pkey, venue_metrics_pkey per row.
 */
const SQL_OPEN_DROPS = `
select ${dropProjection('$3', "($2::timestamptz at time zone 'UTC')::date")}
from availability_state a
join drop_events d on d.opened_minute = a.drop_opened_minute and d.id = a.drop_event_id
left join venues v on v.venue_id = d.venue_id
where a.market = $1
order by a.opened_at desc, a.drop_event_id desc
limit $4`;

/**
 * One market's payload as JSON, the longest segment trimmed until it fits the size limit (the
 * JSON measured is the JSON written: serialized once per trim, not again to store it).
 */
async function feedPayloadJson(client: PgClient, config: Config, market: string, now: Date): Promise<string> {
  const { rows } = await client.query<DropRow>(SQL_OPEN_DROPS, [
    market,
    now,
    RARITY_WINDOW_DAYS,
    config.STILL_OPEN_EVENTS_LIMIT,
  ]);
  const drops: DropDto[] = rows.map(toDropDto);
  const fresh = now.getTime() - FEED_JUST_OPENED_MINUTES * 60_000;
  const justOpened = drops.filter((d) => d.openedAt.getTime() >= fresh).slice(0, config.FEED_JUST_OPENED_CAP);
  const stillOpen = drops.filter((d) => d.openedAt.getTime() < fresh).slice(0, config.FEED_STILL_OPEN_CAP);
  const board = drops
    .map((d) => ({ d, key: { rarity: d.rarity, openedAt: d.openedAt, venueName: d.venue.name } }))
    .sort((a, b) => compareForBoard(a.key, b.key))
    .slice(0, FEED_BOARD_CAP)
    .map((x) => x.d);
  const payload: FeedCachePayload = {
    market,
    builtAt: now,
    justOpenedMinutes: FEED_JUST_OPENED_MINUTES,
    justOpened,
    stillOpen,
    board,
  };
  let json = JSON.stringify(payload);
  while (Buffer.byteLength(json) > FEED_PAYLOAD_MAX_BYTES) {
    const longest = (['stillOpen', 'board', 'justOpened'] as const).reduce((a, b) =>
      payload[a].length >= payload[b].length ? a : b,
    );
    payload[longest] = payload[longest].slice(0, Math.floor(payload[longest].length * 0.8));
    json = JSON.stringify(payload);
  }
  return json;
}

/**
 * Whether a dropwatch_drops payload is the one rebuildFeedCache sends. It announces no drop of its
 * own (each was announced by the transaction that recorded it), so a listener that only wants new
 * drops can pass it by.
 */
export function isFeedRebuildNotice(payload: string | undefined): boolean {
  if (!payload?.startsWith('{')) return false;
  try {
    const parsed: unknown = JSON.parse(payload);
    return typeof parsed === 'object' && parsed !== null && 'versions' in parsed;
  } catch {
    return false;
  }
}

/**
 * Step 8: rebuilds each market's feed_cache row (version bumped) and NOTIFYs dropwatch_drops
 * (isFeedRebuildNotice tells that NOTIFY apart). Returns the new versions.
 */
export async function rebuildFeedCache(
  client: PgClient,
  config: Config,
  now: Date,
  note: { drops: number; closes: number },
): Promise<Record<string, number>> {
  const versions: Record<string, number> = {};
  for (const market of config.DISCOVERY_MARKETS) {
    const json = await feedPayloadJson(client, config, market, now);
    const res = await client.query<{ version: string }>(
      `insert into feed_cache as f (key, payload, built_at, version) values ($1, $2::jsonb, $3, 1)
       on conflict (key) do update set payload = excluded.payload, built_at = excluded.built_at, version = f.version + 1
       returning version::text as version`,
      [feedCacheKey(market), json, now],
    );
    versions[market] = Number(res.rows[0]?.version ?? 0);
  }
  await client.query(`select pg_notify($1, $2)`, [DROPS_CHANNEL, JSON.stringify({ ...note, versions })]);
  return versions;
}
