import { MAX_OPENING_MS, timeToMinutes, type FakeResyMarket, type Opening } from '../../fake-resy/index.js';
import { quantile } from '../../stats.js';

/** A drop_events row as the scorer needs it (instants in ms). */
export interface DropRow {
  readonly bucketId: string;
  readonly partySizes: readonly number[];
  readonly venueId: string;
  readonly slotDate: string;
  readonly slotTime: string;
  readonly openedAt: number;
  readonly closedAt: number | null;
}

/** Which openings a design is asked to find: bucket dates, and the time ranges its searches cover. */
export interface DetectionScope {
  readonly dates: ReadonlySet<string>;
  /** Venue-local [from, to) in minutes since midnight. */
  readonly ranges: readonly (readonly [number, number])[];
  /**
   * DROP_DEDUPE_MINUTES: a slot reopening this soon after its last opening ended is the same drop
   * (reopened, no new row), so such repeat openings are not scored.
   */
  readonly dedupeMs: number;
  /**
   * Whether the opening's venue had a baseline slot in the opening's bucket: the diff takes such
   * a venue for one with regular tables and records no drop of it there (why a miss was missed).
   */
  readonly atBaselineVenue?: ((o: Opening) => boolean) | undefined;
}

export interface WatchedScope {
  readonly venueIds: ReadonlySet<string>;
  readonly dates: ReadonlySet<string>;
}

/** A drop matches an opening of its slot when opened in [start − EARLY, end + LATE]. */
export const MATCH_EARLY_MS = 5_000;
export const MATCH_LATE_MS = 60_000;
/**
 * Openings starting in the last stretch of [T0, T1] are not scored: they had no time to be seen
 * (the scenario runs this much past BENCH_DETECTION_SECONDS).
 */
export const SCORE_TAIL_MS = 120_000;
/** A close is false when the slot was bookable at closed_at and still this long after. */
export const FALSE_CLOSE_HOLD_MS = 5_000;

export interface DetectionScore {
  /** Scored openings (in scope, started in [T0, T1 − tail], not a repeat). */
  openings: number;
  /** In-scope openings left out as repeats of their slot's previous opening (see dedupeMs). */
  repeats: number;
  detected: number;
  missed: number;
  missedShare: number;
  /** Of the missed, those at a venue the bucket's baseline saw bookable (see DetectionScope). */
  missedAtBaselineVenue: number;
  p50S: number;
  p90S: number;
  maxS: number;
  /** Drops opened in [T0, T1]. */
  drops: number;
  /** …matching no opening of their slot (within the match tolerance). */
  falseDrops: number;
  /** …of which the slot is a regular venue's steady slot bookable at opened_at. */
  falseDropsRegular: number;
  closes: number;
  falseCloses: number;
  /**
   * …of which the slot was not bookable for a while between the drop's opening and its close: the
   * table it announced went, and another opened at the same time (often for another party size)
   * before the close. Closing is then right about the first table and early about the second.
   */
  falseClosesAfterReopen: number;
  watchedOpenings: number;
  watchedMissed: number;
  watchedP50S: number;
  /** p90 of the openings for today and tomorrow, 2–6 days ahead, and beyond (where the wait comes from). */
  p90NearS: number;
  p90WeekS: number;
  p90FarS: number;
  /** Missed share of the openings for today and tomorrow, 2–6 days ahead, and beyond. */
  missedNearShare: number;
  missedWeekShare: number;
  missedFarShare: number;
  /** p90 of the openings offered at one party size only (seen by half the calls). */
  p90OneSizeS: number;
  /** p90 of the openings at a venue that had another opening within an hour of it (two slots in one call). */
  p90CrowdedS: number;
  crowdedOpenings: number;
  /** The false drops and false closes themselves, for BENCH_DETECTION_DUMP. */
  falseDropRows: readonly DropRow[];
  falseCloseRows: readonly DropRow[];
}

const slotOf = (venueId: string, date: string, time: string) => `${venueId}|${date}|${time}`;

export function inScope(o: Opening, scope: DetectionScope): boolean {
  if (!scope.dates.has(o.date)) return false;
  const m = timeToMinutes(o.time);
  return scope.ranges.some(([from, to]) => m >= from && m < to);
}

/**
 * Scores a variant's drop_events against the market's ground truth over [t0, t1]. Each drop
 * detects at most one opening (the earliest it fits), so one long drop cannot cover two openings.
 */
export function scoreDetection(
  market: FakeResyMarket,
  drops: readonly DropRow[],
  t0: number,
  t1: number,
  scope: DetectionScope,
  watched: WatchedScope,
): DetectionScore {
  const bySlot = new Map<string, DropRow[]>();
  for (const d of drops) {
    const key = slotOf(d.venueId, d.slotDate, d.slotTime);
    const list = bySlot.get(key) ?? [];
    list.push(d);
    bySlot.set(key, list);
  }
  for (const list of bySlot.values()) list.sort((a, b) => a.openedAt - b.openedAt);

  // Every opening of the period (scored or not) can make a drop true.
  const all = market.openings(t0 - MAX_OPENING_MS - scope.dedupeMs, t1);
  const lastEnd = new Map<string, number>();
  const used = new Set<DropRow>();
  const latencies: number[] = [];
  const watchedLatencies: number[] = [];
  const byBand = { near: [] as number[], week: [] as number[], far: [] as number[] };
  const bandOpenings = { near: 0, week: 0, far: 0 };
  const oneSize: number[] = [];
  const crowded: number[] = [];
  let crowdedOpenings = 0;
  let openings = 0;
  let repeats = 0;
  let watchedOpenings = 0;
  let missedAtBaselineVenue = 0;
  for (const o of all) {
    const key = slotOf(o.venueId, o.date, o.time);
    const fits = (bySlot.get(key) ?? []).find(
      (d) => !used.has(d) && d.openedAt >= o.startMs - MATCH_EARLY_MS && d.openedAt <= o.endMs + MATCH_LATE_MS,
    );
    if (fits) used.add(fits);
    const previousEnd = lastEnd.get(key);
    lastEnd.set(key, Math.max(o.endMs, previousEnd ?? o.endMs));
    const scored = o.startMs >= t0 && o.startMs <= t1 - SCORE_TAIL_MS && inScope(o, scope);
    if (!scored) continue;
    if (previousEnd !== undefined && o.startMs - previousEnd < scope.dedupeMs) {
      repeats++;
      continue;
    }
    openings++;
    const daysAhead = Math.round((Date.parse(o.date) - Date.parse(market.localDate(o.startMs))) / 86_400_000);
    const band = daysAhead <= 1 ? 'near' : daysAhead <= 6 ? 'week' : 'far';
    bandOpenings[band]++;
    const isWatched = watched.venueIds.has(o.venueId) && watched.dates.has(o.date);
    if (isWatched) watchedOpenings++;
    const near = (p: Opening) =>
      p !== o &&
      p.venueId === o.venueId &&
      p.date === o.date &&
      Math.abs(timeToMinutes(p.time) - timeToMinutes(o.time)) < 60;
    const isCrowded = market.activeOpenings(o.startMs + 1).some(near);
    if (isCrowded) crowdedOpenings++;
    if (!fits) {
      if (scope.atBaselineVenue?.(o)) missedAtBaselineVenue++;
      continue;
    }
    const latency = (fits.openedAt - o.startMs) / 1000;
    latencies.push(latency);
    if (isWatched) watchedLatencies.push(latency);
    byBand[band].push(latency);
    if (o.partySizes.length === 1) oneSize.push(latency);
    if (isCrowded) crowded.push(latency);
  }

  const inWindow = drops.filter((d) => d.openedAt >= t0 && d.openedAt <= t1);
  const unmatched = inWindow.filter((d) => !used.has(d));
  const closed = drops.filter((d) => d.closedAt !== null && d.closedAt >= t0 && d.closedAt <= t1);
  const falseCloseRows = closed.filter(
    (d) =>
      market.isBookable(d.venueId, d.slotDate, d.slotTime, d.closedAt!) &&
      market.isBookable(d.venueId, d.slotDate, d.slotTime, d.closedAt! + FALSE_CLOSE_HOLD_MS),
  );
  const gapStepMs = 1_000;
  const reopened = falseCloseRows.filter((d) => {
    for (let t = d.openedAt; t < d.closedAt!; t += gapStepMs) {
      if (!market.isBookable(d.venueId, d.slotDate, d.slotTime, t)) return true;
    }
    return false;
  });
  const detected = latencies.length;
  return {
    openings,
    repeats,
    detected,
    missed: openings - detected,
    missedShare: openings === 0 ? Number.NaN : (openings - detected) / openings,
    missedAtBaselineVenue,
    p50S: quantile(latencies, 0.5),
    p90S: quantile(latencies, 0.9),
    maxS: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
    drops: inWindow.length,
    falseDrops: unmatched.length,
    falseDropsRegular: unmatched.filter((d) => market.isRegularBookable(d.venueId, d.slotDate, d.slotTime, d.openedAt))
      .length,
    closes: closed.length,
    falseCloses: falseCloseRows.length,
    falseClosesAfterReopen: reopened.length,
    watchedOpenings,
    watchedMissed: watchedOpenings - watchedLatencies.length,
    watchedP50S: quantile(watchedLatencies, 0.5),
    p90NearS: quantile(byBand.near, 0.9),
    missedNearShare: 1 - byBand.near.length / bandOpenings.near,
    missedWeekShare: 1 - byBand.week.length / bandOpenings.week,
    missedFarShare: 1 - byBand.far.length / bandOpenings.far,
    p90WeekS: quantile(byBand.week, 0.9),
    p90FarS: quantile(byBand.far, 0.9),
    p90OneSizeS: quantile(oneSize, 0.9),
    p90CrowdedS: quantile(crowded, 0.9),
    crowdedOpenings,
    falseDropRows: unmatched,
    falseCloseRows,
  };
}
