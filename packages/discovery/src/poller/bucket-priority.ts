/**
 * Which bucket to poll next, under a fixed request budget (docs/architecture.md, "Scheduling").
 *
 * Drops appear in a bucket at a rate λ (drops a second). A drop that appears at a uniformly
 * random moment since the bucket's last poll has waited age/2 on average, so the detection delay
 * a bucket has piled up is about λ·age²/2. A poll costs c requests (the bucket's boxes and pages,
 * learned) and clears that pile. Greedily spending each request where it clears the most —
 * score = w·λ·age²/c — would poll each bucket at an interval ∝ √(c/λ), the allocation that
 * minimises mean detection delay for a fixed budget (the square-root rule of polling systems).
 * The score takes √λ instead (RATE_EXPONENT): flatter, for a shorter tail of late drops.
 *
 * Drops do not wait forever: one that opened more than DROP_LIFE_SECONDS before a poll has
 * usually closed unseen, so the age in the score stops at DROP_LIFE_SECONDS. While the budget
 * polls every bucket within a drop's life this changes nothing. Where it cannot (a large city),
 * every bucket past that age clears the same pile, the drops open now, and the score then ranks
 * them by rate per request: the budget goes where it catches most drops before they close, and
 * the quietest buckets are left to the staleness rule. Without the cap, the buckets that waited
 * longest would win, and a poll there finds mostly drops that are already gone.
 *
 * λ is learned per (market, days ahead, anchor time), not per bucket id: tomorrow's 20:30 bucket
 * inherits what today's 20:30 showed yesterday when the window rolls. It is a decaying
 * Gamma–Poisson estimate, (drops + prior) / (seconds observed + PRIOR_SECONDS), whose prior is
 * the rate of its days-ahead band (today and tomorrow, the week, beyond), whose prior in turn is
 * the market-wide mean: a key with little history leans on its band, which pools many buckets
 * and learns within minutes.
 *
 * w weighs what users value: buckets with watched venues in them (WATCHED_WEIGHT) and prime-time
 * anchors (PRIME_WEIGHT). Three rules override the score: a bucket still calibrating goes first (no
 * drop can be seen before its baseline; one bucket is finished before the next is started, so drops
 * show up early and its later calibration polls can read only the tail), a bucket just taken over
 * from a dead worker goes next (once), and a bucket unpolled for DISCOVERY_MAX_STALENESS_SECONDS
 * goes next, oldest first, so no bucket starves however little it drops — but only for
 * STARVING_SHARE of the polls: where the budget cannot keep every bucket that fresh (a large
 * city), the rest still go by score, and the busy buckets are not dragged into a round-robin
 * over all of them. A bucket polls at most
 * every DISCOVERY_BUCKET_COOLDOWN_SECONDS, and after provider errors it backs off exponentially.
 */

/**
 * Weight of the prior: the market mean counts as this many seconds of observation. Short, so a
 * fresh worker tells hot keys from cold ones within minutes (a key is observed as long as the
 * worker runs, whatever its poll interval).
 */
export const PRIOR_SECONDS = 120;
/** Observations older than this weigh half as much (the learned rates follow the day). */
export const RATE_HALF_LIFE_SECONDS = 3 * 3_600;
/** The least rate assumed anywhere (one drop in six hours), so every score grows with age. */
export const RATE_FLOOR = 1 / (6 * 3_600);
/**
 * How long a drop typically stays bookable. A poll after an interval T sees only the drops still
 * open, those of the last min(T, DROP_LIFE_SECONDS): counting all of T as observed would make a
 * rarely polled bucket look quieter than it is, and poll it rarer still.
 */
export const DROP_LIFE_SECONDS = 90;
/**
 * The score weighs the rate as rate^RATE_EXPONENT. At 1 it is the square-root rule, which
 * minimises the mean delay but lets the quietest buckets wait longest — a tenth of all drops sat
 * there, seen late or not at all. At ½ a bucket with 16× the rate is polled 2× as often instead of
 * 4×: the median barely moves and the slowest tenth is seen much sooner.
 */
export const RATE_EXPONENT = 0.5;
/**
 * The most of the recent polls (STARVING_WINDOW) the staleness rule may take. Where the budget
 * covers the window that rule is rarely needed; where it does not, every bucket is past the
 * limit and unbounded it would poll them all in turn, the busiest as rarely as the quietest.
 */
export const STARVING_SHARE = 0.25;
/** Polls the starving share is counted over. */
export const STARVING_WINDOW = 20;
export const WATCHED_WEIGHT = 3;
export const PRIME_WEIGHT = 1.5;
/** Prime-time anchors: [18:00, 21:00) local, the hours people fight for. */
const PRIME_FROM_MINUTE = 18 * 60;
const PRIME_TO_MINUTE = 21 * 60;
/** Backoff after provider errors doubles per failure in a row, up to this many doublings. */
const MAX_BACKOFF_DOUBLINGS = 6;

/** Learned drop rate of one (market, days ahead, anchor). */
export interface RateCell {
  drops: number;
  seconds: number;
  /** When drops/seconds were last decayed (ms). */
  at: number;
}

/** Days-ahead bands the rates are pooled in: today and tomorrow, the week, beyond. */
function band(daysAhead: number): string {
  return daysAhead <= 1 ? 'near' : daysAhead <= 6 ? 'week' : 'far';
}

export class DropRates {
  private readonly cells = new Map<string, RateCell>();
  private readonly bands = new Map<string, RateCell>();
  private readonly markets = new Map<string, RateCell>();

  static key(market: string, daysAhead: number, anchor: string): string {
    return `${market}|${daysAhead}|${anchor}`;
  }

  /** Folds in what a poll saw: `drops` new drops, `intervalSeconds` after the previous poll. */
  observePoll(
    market: string,
    daysAhead: number,
    anchor: string,
    drops: number,
    intervalSeconds: number,
    nowMs: number,
  ): void {
    this.observe(market, daysAhead, anchor, drops, Math.min(intervalSeconds, DROP_LIFE_SECONDS), nowMs);
  }

  /** Folds in `drops` drops seen over `seconds` of observation (every drop of them counted). */
  observe(market: string, daysAhead: number, anchor: string, drops: number, seconds: number, nowMs: number): void {
    if (seconds < 0 || (seconds === 0 && drops === 0)) return;
    for (const [map, key] of [
      [this.cells, DropRates.key(market, daysAhead, anchor)],
      [this.bands, `${market}|${band(daysAhead)}`],
      [this.markets, market],
    ] as const) {
      const cell = decayed(map.get(key), nowMs);
      cell.drops += drops;
      cell.seconds += seconds;
      map.set(key, cell);
    }
  }

  /**
   * Drops a second expected in a bucket of this key: its own observations, shrunk towards its
   * days-ahead band's rate, which is shrunk towards the market's (each prior weighs PRIOR_SECONDS).
   * A key seen little leans on its band, which learns within minutes (it pools many buckets).
   */
  rate(market: string, daysAhead: number, anchor: string, nowMs: number): number {
    const shrunk = (cell: RateCell | undefined, prior: number) => {
      const c = cell ? decayed({ ...cell }, nowMs) : { drops: 0, seconds: 0 };
      return (c.drops + prior * PRIOR_SECONDS) / (c.seconds + PRIOR_SECONDS);
    };
    const m = this.markets.get(market);
    const marketRate = m && m.seconds > 0 ? m.drops / m.seconds : 0;
    const bandRate = shrunk(this.bands.get(`${market}|${band(daysAhead)}`), marketRate);
    return Math.max(RATE_FLOOR, shrunk(this.cells.get(DropRates.key(market, daysAhead, anchor)), bandRate));
  }
}

function decayed(cell: RateCell | undefined, nowMs: number): RateCell {
  if (!cell) return { drops: 0, seconds: 0, at: nowMs };
  const dt = Math.max(0, nowMs - cell.at) / 1000;
  const f = 0.5 ** (dt / RATE_HALF_LIFE_SECONDS);
  return { drops: cell.drops * f, seconds: cell.seconds * f, at: nowMs };
}

/** What the scheduler knows of one bucket. */
export interface BucketView {
  readonly calibrated: boolean;
  /** Calibration polls done so far (a bucket closer to its baseline is finished first). */
  readonly baselinePolls: number;
  /** When its last poll started (ms), null if never polled. */
  readonly lastPollAt: number | null;
  /** Provider failures in a row. */
  readonly errorStreak: number;
  readonly rate: number;
  /** Requests its polls cost (learned; at least the poll's calls). */
  readonly cost: number;
  readonly watched: boolean;
  readonly anchorMinute: number;
  /** Moved to this worker from one that died or left, and not polled here since. */
  readonly takenOver?: boolean;
}

export interface PriorityLimits {
  readonly cooldownSeconds: number;
  readonly maxStalenessSeconds: number;
  /** Whether a bucket past maxStalenessSeconds may go first now (see StarvingShare); default yes. */
  readonly starvingFirst?: boolean;
}

/** Keeps the staleness rule to STARVING_SHARE of the last STARVING_WINDOW polls. */
export class StarvingShare {
  private readonly recent: boolean[] = [];

  /** Whether the next pick may put a starving bucket first. */
  get allowed(): boolean {
    return this.recent.filter(Boolean).length < STARVING_SHARE * STARVING_WINDOW;
  }

  /** Records a poll started; `starving` when the staleness rule picked it. */
  record(starving: boolean): void {
    this.recent.push(starving);
    if (this.recent.length > STARVING_WINDOW) this.recent.shift();
  }
}

/** Whether a score came from the staleness rule. */
export const isStarvingScore = (score: number): boolean => score >= STARVING && score < TAKEN_OVER;

/** Above every scored bucket: calibration first, then buckets just taken over, then starving buckets. */
const CALIBRATING = 3e12;
/** Calibration finishes bucket by bucket: each poll done outranks any wait. */
const CALIBRATION_STEP = 1e9;
const TAKEN_OVER = 2e12;
const STARVING = 1e12;

const ageSeconds = (b: Pick<BucketView, 'lastPollAt'>, nowMs: number) =>
  b.lastPollAt === null ? Infinity : (nowMs - b.lastPollAt) / 1000;

/** Whether the bucket may be polled now: past its cooldown, doubled per provider failure in a row. */
export function mayPoll(
  b: Pick<BucketView, 'lastPollAt' | 'errorStreak'>,
  nowMs: number,
  limits: PriorityLimits,
): boolean {
  const wait = limits.cooldownSeconds * 2 ** Math.min(b.errorStreak, MAX_BACKOFF_DOUBLINGS);
  return ageSeconds(b, nowMs) >= Math.min(wait, limits.maxStalenessSeconds);
}

/** The bucket's priority now, or null while it may not be polled (cooldown, backoff). */
export function bucketScore(b: BucketView, nowMs: number, limits: PriorityLimits): number | null {
  if (!mayPoll(b, nowMs, limits)) return null;
  const age = ageSeconds(b, nowMs);
  const ageScore = Number.isFinite(age) ? age : limits.maxStalenessSeconds * 10;
  if (!b.calibrated) return CALIBRATING + b.baselinePolls * CALIBRATION_STEP + Math.min(ageScore, CALIBRATION_STEP / 2);
  // A bucket taken over from a worker that died went unpolled since some moment of that worker's
  // cadence, unknown here, plus the time its death took to notice; by score it would wait in turn
  // with this worker's own (and, past the staleness limit, within the starving share only). Each
  // is polled once first, oldest first: a burst of at most the dead worker's share, after which
  // the score schedules it like any other. Only once its cooldown allows.
  if (b.takenOver) return TAKEN_OVER + Math.min(ageScore, STARVING / 2);
  if (age >= limits.maxStalenessSeconds && limits.starvingFirst !== false) return STARVING + ageScore;
  const prime = b.anchorMinute >= PRIME_FROM_MINUTE && b.anchorMinute < PRIME_TO_MINUTE;
  const w = (b.watched ? WATCHED_WEIGHT : 1) * (prime ? PRIME_WEIGHT : 1);
  // Past a drop's life the pile stops growing: what opened earlier has closed unseen, and a poll
  // now finds only the drops of the last DROP_LIFE_SECONDS however long the bucket waited.
  const open = Math.min(age, DROP_LIFE_SECONDS);
  return (w * b.rate ** RATE_EXPONENT * open * open) / Math.max(1, b.cost);
}
