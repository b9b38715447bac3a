import type { PgClient } from '@dropwatch/db';

/**
 * Upper bounds (exclusive, seconds) of the open-duration classes of venues.history: under a
 * minute, 1–5 min, 5–15 min, 15–60 min, 1–3 h, 3–12 h, and 12 h or more (the open-ended last one).
 */
export const OPEN_DURATION_BOUNDS_SECONDS = [60, 300, 900, 3600, 3 * 3600, 12 * 3600] as const;

export interface VenueHistoryAggregate {
  readonly total: number;
  readonly stillOpen: number;
  /** 24 counts: drops by the local hour they opened. */
  readonly openedByHour: number[];
  /** One count per class of OPEN_DURATION_BOUNDS_SECONDS, plus the open-ended last class. */
  readonly openDurations: number[];
}

/**
 * A venue's drops of the last `days` days, counted by the hour (in `timeZone`) they opened and,
 * for closed ones, by how long they stayed open. One statement; at most 24 × 8 groups come back
 * whatever the number of drops.
 * -- uses drop_events_venue_opened_idx (venue_id, opened_at), a range per partition.
 */
export async function queryVenueHistory(
  db: PgClient,
  venueId: string,
  timeZone: string,
  days: number,
): Promise<VenueHistoryAggregate> {
  const { rows } = await db.query<{ hour: number; class: number | null; drops: number; open: number }>(
    `select extract(hour from d.opened_at at time zone $2)::int as hour,
            width_bucket(d.duration_seconds::float8, $4::float8[]) as class,
            count(*)::int as drops,
            (count(*) filter (where d.closed_at is null))::int as open
     from drop_events d
     where d.venue_id = $1 and d.opened_at > now() - make_interval(days => $3::int)
     group by 1, 2`,
    [venueId, timeZone, days, `{${OPEN_DURATION_BOUNDS_SECONDS.join(',')}}`],
  );
  const openedByHour = Array.from({ length: 24 }, () => 0);
  const openDurations = Array.from({ length: OPEN_DURATION_BOUNDS_SECONDS.length + 1 }, () => 0);
  let total = 0;
  let stillOpen = 0;
  for (const r of rows) {
    total += r.drops;
    stillOpen += r.open;
    openedByHour[r.hour] = (openedByHour[r.hour] ?? 0) + r.drops;
    // width_bucket is null for a null duration (still open, or closed before durations were kept).
    if (r.class !== null) openDurations[r.class] = (openDurations[r.class] ?? 0) + r.drops;
  }
  return { total, stillOpen, openedByHour, openDurations };
}
