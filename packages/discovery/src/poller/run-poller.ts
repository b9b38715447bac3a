import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { getMarket, localDate, type Config } from '@dropwatch/core';
import { PartitionGuard, withPgClient, type MikroORM, type PgClient } from '@dropwatch/db';
import type { Logger } from 'pino';
import { recordDiscoveryRun } from '../discovery-run-stats.js';
import type { BudgetLane } from '../budget/request-budget.js';
import type { Provider, ProviderErrorCode } from '../providers/provider.js';
import type { ApplyContext } from '../tick/apply-snapshot.js';
import { applyVenueDay } from '../tick/apply-venue-day.js';
import { ensureBuckets } from '../tick/ensure-buckets.js';
import { rebuildFeedCache } from '../tick/feed-cache.js';
import { pollBucket, type PollResult } from '../tick/poll-bucket.js';
import { prepareSnapshot } from '../tick/prepared-snapshot.js';
import { VenueCache } from '../tick/venue-writes.js';
import { bucketScore, DropRates, isStarvingScore, mayPoll, StarvingShare } from './bucket-priority.js';
import {
  FAST_LANE_MIN_INTERVAL_MS,
  fastLaneModes,
  loadWatchPlan,
  type FastLaneModes,
  type FastTarget,
  type WatchPlan,
} from './fast-lane.js';
import { ownerOf, ReplicaSet } from './replica-set.js';
import { WorkerSession } from './worker-session.js';

/** Buckets the poller keeps in view at most (5 markets × 14 days × 6 anchors, twice over). */
export const POLLER_BUCKETS_LIMIT = 1_000;
/** A new poll starts while fewer requests than this many seconds of budget are waiting. */
const LOOKAHEAD_SECONDS = 1;
/**
 * Who else is live is read this often (renewal is every lease/3): a worker that joins waits this
 * long and a little more before its first poll, by which time the others have seen it and
 * lowered their share of the rate — so the total stays within RESY_MAX_RPS while one joins.
 */
const REPLICA_LOOK_MS = 1_000;
const JOIN_SETTLE_MS = REPLICA_LOOK_MS + 500;
/** The loop's longest sleep when nothing wakes it (a poll ending, the budget draining). */
const IDLE_WAIT_MS = 200;
/** The feed cache is rebuilt at most this often while drops come in (and every housekeeping pass). */
export const FEED_REBUILD_MIN_MS = 1_000;
/** Fast-lane requests in flight at most (each is one request; the budget paces them). */
const FAST_LANE_IN_FLIGHT = 2;
/** Bucket polls of searched watched days (fastLaneModes) the fast lane has in flight at most. */
const FAST_LANE_BUCKETS_IN_FLIGHT = 2;
/** Learned drop rates are seeded at start from the drops of this many past hours. */
const RATE_SEED_HOURS = 3;
/** Weight of the newest poll in a bucket's learned request cost. */
const COST_EWMA = 0.3;

export interface PollerOptions {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly provider: Provider;
  readonly logger: Logger;
  /** Aborting stops the poller: no new poll starts, polls in flight finish, then it resolves. */
  readonly signal: AbortSignal;
  /** The clock (tests pin it). */
  readonly now?: (() => Date) | undefined;
  /** This replica's id among the workers sharing the buckets (default host:pid:thread). */
  readonly holder?: string | undefined;
  /**
   * The primary without a transaction pooler (DIRECT_DATABASE_URL), for this worker's liveness
   * session: the others then take its buckets as soon as it dies instead of when its lease
   * expires (ReplicaSet). Without it a dead worker is noticed by its lease's expiry only.
   */
  readonly sessionUrl?: string | undefined;
  /** Called with the running totals after every housekeeping pass. */
  readonly onStats?: ((stats: PollerStats) => void) | undefined;
  /** Called after every bucket poll (the process metrics count polls where they happen). */
  readonly onPoll?: ((poll: PollEvent) => void) | undefined;
}

/** One finished bucket poll, as the process metrics see it. */
export interface PollEvent {
  /** A bucket's search poll, or one watched venue's day on the fast lane. */
  readonly lane: 'bucket' | 'venue';
  readonly durationMs: number;
  readonly drops: number;
  /** The provider's error code when the poll failed at the provider. */
  readonly errorCode: ProviderErrorCode | null;
}

export interface PollerStats {
  polls: number;
  applied: number;
  calibrating: number;
  suspect: number;
  /** Another worker held the bucket or had applied it first. */
  skipped: number;
  failed: number;
  providerErrors: Partial<Record<ProviderErrorCode, number>>;
  drops: number;
  closes: number;
  /** Watched venues' days asked one by one. */
  fastLanePolls: number;
  /** Bucket polls of watched days the fast lane made instead (fastLaneModes). */
  fastLaneBucketPolls: number;
  fastLaneDrops: number;
  /** Search calls the call guard answered from their last answer. */
  suspectCalls: number;
  truncatedCalls: number;
  requests: number;
  replicas: number;
}

/** What the poller knows of one bucket between polls. */
interface BucketState {
  readonly id: string;
  readonly market: string;
  readonly date: string;
  readonly timeSlot: string;
  readonly anchorMinute: number;
  calibrated: boolean;
  baselinePolls: number;
  scannedAt: Date | string | null;
  lastPollAt: number | null;
  lastAppliedAt: number | null;
  errorStreak: number;
  cost: number;
  /** Earliest and latest minute of the day its searches have returned slots at. */
  coverage: [number, number] | null;
  /** Moved here from a worker that died or left, and not polled here since (bucketScore). */
  takenOver: boolean;
}

const newStats = (): PollerStats => ({
  polls: 0,
  applied: 0,
  calibrating: 0,
  suspect: 0,
  skipped: 0,
  failed: 0,
  providerErrors: {},
  drops: 0,
  closes: 0,
  fastLanePolls: 0,
  fastLaneBucketPolls: 0,
  fastLaneDrops: 0,
  suspectCalls: 0,
  truncatedCalls: 0,
  requests: 0,
  replicas: 1,
});

const minuteOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * The continuous discovery poller (docs/architecture.md, "Discovery"). It keeps the provider's
 * request budget busy: whenever less than LOOKAHEAD_SECONDS of requests wait, it starts the poll
 * of the bucket with the best score (bucket-priority), up to DISCOVERY_CONCURRENCY at once; a
 * fast lane polls watched venues one by one from its share of the same budget. Every
 * DISCOVERY_TICK_SECONDS a housekeeping pass keeps the window and partitions, reloads the watches
 * and records a job_runs row; every lease/3 the replica set is renewed, which decides this
 * worker's share of the buckets and of the budget. Runs until `signal` aborts.
 */
export async function runPoller(options: PollerOptions): Promise<PollerStats> {
  const { orm, config, provider, logger, signal } = options;
  const clock = options.now ?? (() => new Date());
  const holder = options.holder ?? `${hostname()}:${process.pid}:${threadId}`;
  const session = options.sessionUrl ? new WorkerSession(options.sessionUrl, holder, logger) : undefined;
  const replicas = new ReplicaSet(holder, config.DISCOVERY_LEASE_SECONDS * 1000, session !== undefined);
  const rates = new DropRates();
  const buckets = new Map<string, BucketState>();
  const searching = new Set<string>();
  /** Of `searching`, the polls the fast lane made (a watched day's buckets). */
  const fastSearching = new Set<string>();
  const fastInFlight = new Set<string>();
  const fastLast = new Map<string, number>();
  const ctx: ApplyContext = { config, venueCache: new VenueCache() };
  const partitions = new PartitionGuard(config.PARTITION_PREMAKE_DAYS);
  const limits = {
    cooldownSeconds: config.DISCOVERY_BUCKET_COOLDOWN_SECONDS,
    maxStalenessSeconds: config.DISCOVERY_MAX_STALENESS_SECONDS,
  };
  const starving = new StarvingShare();
  const totals = newStats();
  let pass = newStats();
  let plan: WatchPlan = { targets: [], watchedDays: new Set() };
  let modes: FastLaneModes = { perVenue: [], searchedDays: new Set() };
  let passStartedAt = clock();
  let feed = { dirty: true, lastAt: 0, running: false };

  let wakeUp: (() => void) | undefined;
  const wake = () => {
    const w = wakeUp;
    wakeUp = undefined;
    w?.();
  };
  // Every poll and request of this worker listens on the signal.
  setMaxListeners(0, signal);
  signal.addEventListener('abort', wake, { once: true });
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wakeUp = undefined;
        resolve();
      }, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const count = (f: (s: PollerStats) => void) => {
    f(totals);
    f(pass);
  };
  const db = <T>(fn: (client: PgClient) => Promise<T>) => withPgClient(orm.em, fn);

  /** The live holders as last applied, and when this worker may poll again after counting itself back in. */
  let membersBefore = replicas.members.join('\n');
  let wasActive = true;
  let pausedUntil = 0;
  const refreshReplicas = async (renew = true) => {
    if (session) void session.keep();
    const before = [...replicas.members];
    await db((c) => (renew ? replicas.refresh(c) : replicas.look(c)));
    const members = replicas.members.join('\n');
    if (members === membersBefore && replicas.active === wasActive) return;
    membersBefore = members;
    if (replicas.active && !wasActive) pausedUntil = Date.now() + JOIN_SETTLE_MS;
    wasActive = replicas.active;
    provider.budget.setRate(config.RESY_MAX_RPS / Math.max(1, replicas.size));
    count((s) => (s.replicas = replicas.size));
    logger.info(
      { replicas: replicas.size, active: replicas.active, rps: provider.budget.requestsPerSecond },
      'discovery replicas changed',
    );
    await takeOver(before);
  };

  /**
   * After the live set changed: the buckets that moved here are re-read (the worker that polled
   * them kept their scanned_at current; this worker's view of them is as old as its last
   * housekeeping) and marked taken over, so they are polled first (bucketScore).
   */
  const takeOver = async (before: readonly string[]) => {
    const moved: BucketState[] = [];
    for (const b of buckets.values()) {
      const owned = replicas.owns(b.id);
      if (owned && ownerOf(b.id, before) !== replicas.holder) moved.push(b);
      if (!owned) b.takenOver = false;
    }
    if (moved.length === 0) return;
    const { rows } = await db((c) =>
      c.query<{ bucket_id: string; scanned_at: Date | null }>(
        'select bucket_id, scanned_at from discovery_buckets where bucket_id = any($1::text[])',
        [moved.map((b) => b.id)],
      ),
    );
    const scanned = new Map(rows.map((r) => [r.bucket_id, r.scanned_at]));
    for (const b of moved) {
      if (searching.has(b.id)) continue;
      const at = scanned.get(b.id) ?? null;
      b.scannedAt = at;
      b.lastPollAt = at ? new Date(at).getTime() : null;
      b.takenOver = true;
    }
    logger.info({ buckets: moved.length }, 'discovery buckets taken over');
  };

  const housekeeping = async () => {
    const now = clock();
    await partitions.ensure(orm.em.fork(), now);
    const rows = await db(async (c) => {
      await ensureBuckets(c, config, now);
      const res = await c.query<{
        bucket_id: string;
        market: string;
        date: string;
        time_slot: string;
        scanned_at: Date | null;
        calibrated: boolean;
        baseline_polls: number;
      }>(
        `select bucket_id, market, date::text as date, time_slot, scanned_at, baseline_polls, baseline_polls >= $2 as calibrated
         from discovery_buckets where market = any($1::text[]) order by bucket_id limit $3`,
        [config.DISCOVERY_MARKETS, config.DISCOVERY_BASELINE_POLLS, POLLER_BUCKETS_LIMIT],
      );
      plan = await loadWatchPlan(c, config, now);
      return res.rows;
    });
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.bucket_id);
      const known = buckets.get(r.bucket_id);
      if (known) {
        known.calibrated = r.calibrated;
        known.baselinePolls = r.baseline_polls;
        if (!searching.has(r.bucket_id)) known.scannedAt = r.scanned_at;
        continue;
      }
      const lastPollAt = r.scanned_at ? new Date(r.scanned_at).getTime() : null;
      buckets.set(r.bucket_id, {
        id: r.bucket_id,
        market: r.market,
        date: r.date,
        timeSlot: r.time_slot,
        anchorMinute: minuteOf(r.time_slot),
        calibrated: r.calibrated,
        baselinePolls: r.baseline_polls,
        scannedAt: r.scanned_at,
        lastPollAt,
        lastAppliedAt: lastPollAt,
        errorStreak: 0,
        cost: provider.callsPerPoll(config.DISCOVERY_PARTY_SIZES, r.time_slot),
        coverage: null,
        takenOver: false,
      });
    }
    for (const id of buckets.keys()) if (!seen.has(id)) buckets.delete(id);
    modes = fastLaneModes(plan.targets, roundCost);
    const targets = new Set(modes.perVenue.map((t) => t.key));
    for (const key of fastLast.keys()) if (!targets.has(key)) fastLast.delete(key);
  };

  /**
   * What one round of a day's bucket polls costs (every party size of every anchor, as learned),
   * or undefined while one of them is still calibrating or the lane has no share of the budget.
   */
  const roundCost = (market: string, date: string): number | undefined => {
    if (config.DISCOVERY_FAST_LANE_SHARE === 0) return undefined;
    let cost = 0;
    for (const b of buckets.values()) {
      if (b.market !== market || b.date !== date) continue;
      if (!b.calibrated) return undefined;
      cost += b.cost * config.DISCOVERY_PARTY_SIZES.length;
    }
    return cost > 0 ? cost : undefined;
  };

  const recordPass = async () => {
    const startedAt = passStartedAt;
    const stats = { ...pass, durationMs: Date.now() - startedAt.getTime() };
    passStartedAt = clock();
    pass = { ...newStats(), replicas: replicas.size };
    await recordDiscoveryRun(orm.em.fork(), { startedAt, status: 'ok', stats });
    options.onStats?.({ ...totals });
    logger.info(
      {
        polls: stats.polls,
        failed: stats.failed,
        drops: stats.drops,
        closes: stats.closes,
        fastLane: stats.fastLanePolls,
        fastLaneBuckets: stats.fastLaneBucketPolls,
        requests: stats.requests,
        suspectCalls: stats.suspectCalls,
        replicas: stats.replicas,
        providerErrors: stats.providerErrors,
      },
      'discovery pass',
    );
  };

  const daysAhead = (b: BucketState, now: Date): number =>
    Math.round((Date.parse(b.date) - Date.parse(localDate(now, getMarket(b.market).timeZone))) / 86_400_000);

  const seedRates = async () => {
    const now = clock();
    const since = new Date(now.getTime() - RATE_SEED_HOURS * 3_600_000);
    for (const market of config.DISCOVERY_MARKETS) {
      const { rows } = await db((c) =>
        c.query<{ anchor: string; days_ahead: number; n: number; first: Date }>(
          `select split_part(bucket_id, '_', 3) as anchor, (slot_date - (opened_at at time zone $2)::date) as days_ahead,
                  count(*)::int as n, min(opened_at) as first
           from drop_events
           where market = $1 and opened_minute >= date_trunc('minute', $3::timestamptz) and opened_at >= $3
           group by 1, 2 order by 1, 2 limit $4`,
          [market, getMarket(market).timeZone, since, POLLER_BUCKETS_LIMIT],
        ),
      );
      if (rows.length === 0) continue;
      const first = Math.min(...rows.map((r) => new Date(r.first).getTime()));
      const seconds = (now.getTime() - first) / 1000;
      const seen = new Map(rows.map((r) => [`${r.days_ahead}|${r.anchor}`, r.n]));
      for (const b of buckets.values()) {
        if (b.market !== market) continue;
        const d = daysAhead(b, now);
        rates.observe(market, d, b.timeSlot, seen.get(`${d}|${b.timeSlot}`) ?? 0, seconds, now.getTime());
      }
    }
  };

  const pickBucket = (nowMs: number, now: Date): BucketState | undefined => {
    let best: BucketState | undefined;
    let bestScore = -Infinity;
    const pickLimits = { ...limits, starvingFirst: starving.allowed };
    for (const b of buckets.values()) {
      if (searching.has(b.id) || !replicas.owns(b.id)) continue;
      const d = daysAhead(b, now);
      if (d < 0) continue;
      const score = bucketScore(
        {
          calibrated: b.calibrated,
          baselinePolls: b.baselinePolls,
          lastPollAt: b.lastPollAt,
          errorStreak: b.errorStreak,
          cost: b.cost,
          anchorMinute: b.anchorMinute,
          rate: rates.rate(b.market, d, b.timeSlot, nowMs),
          watched: plan.watchedDays.has(`${b.market}|${b.date}`),
          takenOver: b.takenOver,
        },
        nowMs,
        pickLimits,
      );
      if (score !== null && score > bestScore) {
        bestScore = score;
        best = b;
      }
    }
    if (best) starving.record(isStarvingScore(bestScore));
    return best;
  };

  const afterPoll = (b: BucketState, result: PollResult, startedAt: Date) => {
    count((s) => (s.polls += 1));
    options.onPoll?.({
      lane: 'bucket',
      durationMs: Math.max(0, Date.now() - startedAt.getTime()),
      drops: result.kind === 'done' && result.outcome.status === 'applied' ? result.outcome.drops.length : 0,
      errorCode: result.kind === 'failed' ? result.code : null,
    });
    if (result.stats) {
      const { stats } = result;
      count((s) => {
        s.requests += stats.requests;
        s.suspectCalls += stats.suspectCalls ?? 0;
        s.truncatedCalls += stats.truncatedCalls ?? 0;
      });
      b.cost = (1 - COST_EWMA) * b.cost + COST_EWMA * Math.max(1, stats.requests);
    }
    if (result.kind === 'failed') {
      b.errorStreak += 1;
      b.scannedAt = result.polledAt;
      count((s) => {
        s.failed += 1;
        s.providerErrors[result.code] = (s.providerErrors[result.code] ?? 0) + 1;
      });
      return;
    }
    if (result.kind === 'db_failed') {
      count((s) => (s.failed += 1));
      b.scannedAt = null;
      void reloadBucket(b);
      return;
    }
    b.errorStreak = 0;
    const { outcome } = result;
    switch (outcome.status) {
      case 'locked':
      case 'stale':
        count((s) => (s.skipped += 1));
        void reloadBucket(b);
        return;
      case 'calibrating':
        count((s) => (s.calibrating += 1));
        // Its snapshot is prev now: what appears after it is a drop at the next applied poll.
        b.lastAppliedAt = result.polledAt.getTime();
        break;
      case 'suspect':
        count((s) => (s.suspect += 1));
        break;
      case 'applied': {
        count((s) => {
          s.applied += 1;
          s.drops += outcome.drops.length;
          s.closes += outcome.closes;
        });
        const nowMs = result.polledAt.getTime();
        if (b.lastAppliedAt !== null && b.calibrated) {
          rates.observePoll(
            b.market,
            daysAhead(b, startedAt),
            b.timeSlot,
            outcome.drops.length,
            (nowMs - b.lastAppliedAt) / 1000,
            nowMs,
          );
        }
        b.lastAppliedAt = nowMs;
        if (outcome.drops.length > 0 || outcome.closes > 0 || outcome.resized > 0) feed.dirty = true;
        break;
      }
    }
    b.scannedAt = result.polledAt;
    if (result.minutes) {
      const [lo, hi] = result.minutes;
      b.coverage = b.coverage ? [Math.min(b.coverage[0], lo), Math.max(b.coverage[1], hi)] : [lo, hi];
    }
    if (outcome.status === 'calibrating') void reloadBucket(b);
  };

  /** Re-reads one bucket's row (after another worker polled it, or to see calibration end). */
  const reloadBucket = async (b: BucketState) => {
    const { rows } = await db((c) =>
      c.query<{ scanned_at: Date | null; calibrated: boolean; baseline_polls: number }>(
        'select scanned_at, baseline_polls, baseline_polls >= $2 as calibrated from discovery_buckets where bucket_id = $1',
        [b.id, config.DISCOVERY_BASELINE_POLLS],
      ),
    ).catch(() => ({ rows: [] }));
    const row = rows[0];
    if (row && !searching.has(b.id)) {
      b.scannedAt = row.scanned_at;
      b.calibrated = row.calibrated;
      b.baselinePolls = row.baseline_polls;
    }
  };

  const startPoll = (b: BucketState, lane: BudgetLane) => {
    searching.add(b.id);
    b.takenOver = false;
    if (lane === 'fast') {
      fastSearching.add(b.id);
      count((s) => (s.fastLaneBucketPolls += 1));
    }
    const startedAt = clock();
    b.lastPollAt = startedAt.getTime();
    const picked = {
      bucket_id: b.id,
      market: b.market,
      date: b.date,
      time_slot: b.timeSlot,
      scanned_at: b.scannedAt,
      lane,
      hasBaseline: b.calibrated,
    };
    void pollBucket({ orm, config, provider, logger, signal, clock }, ctx, picked)
      .then(
        (result) => afterPoll(b, result, startedAt),
        (err: unknown) => logger.error({ err, bucket: b.id }, 'bucket poll failed'),
      )
      .finally(() => {
        searching.delete(b.id);
        fastSearching.delete(b.id);
        wake();
      });
  };

  /**
   * The fast lane's next bucket: of the searched watched days' buckets (fastLaneModes) that may be
   * polled now, the one polled longest ago by either lane.
   */
  const pickFastBucket = (nowMs: number, now: Date): BucketState | undefined => {
    let best: BucketState | undefined;
    for (const b of buckets.values()) {
      if (!modes.searchedDays.has(`${b.market}|${b.date}`) || !b.calibrated || searching.has(b.id)) continue;
      if (!replicas.owns(b.id) || daysAhead(b, now) < 0) continue;
      if (!mayPoll(b, nowMs, limits)) continue;
      if (!best || (b.lastPollAt ?? -Infinity) < (best.lastPollAt ?? -Infinity)) best = b;
    }
    return best;
  };

  const pickFastTarget = (nowMs: number): FastTarget | undefined => {
    // A day's answer can only fold into its calibrated buckets whose searches have shown their range.
    const ready = new Set<string>();
    for (const b of buckets.values()) if (b.calibrated && b.coverage) ready.add(`${b.market}|${b.date}`);
    let best: FastTarget | undefined;
    let bestAt = Infinity;
    for (const t of modes.perVenue) {
      if (fastInFlight.has(t.key) || !replicas.owns(t.venueId) || !ready.has(`${t.market}|${t.date}`)) continue;
      const last = fastLast.get(t.key) ?? -Infinity;
      if (nowMs - last < FAST_LANE_MIN_INTERVAL_MS) continue;
      if (last < bestAt) {
        bestAt = last;
        best = t;
      }
    }
    return best;
  };

  const startFast = (t: FastTarget) => {
    fastInFlight.add(t.key);
    fastLast.set(t.key, Date.now());
    void fastPoll(t)
      .catch((err: unknown) => {
        if (!signal.aborted) logger.warn({ err: (err as Error).message, venue: t.venueId }, 'fast lane poll failed');
      })
      .finally(() => {
        fastInFlight.delete(t.key);
        wake();
      });
  };

  /** One watched venue's day, folded into each calibrated bucket of that day whose searches cover the slot's time. */
  const fastPoll = async (t: FastTarget) => {
    const startedAt = Date.now();
    let dropped = 0;
    try {
      await fastPollInto(t, (n) => (dropped += n));
    } finally {
      options.onPoll?.({ lane: 'venue', durationMs: Date.now() - startedAt, drops: dropped, errorCode: null });
    }
  };

  const fastPollInto = async (t: FastTarget, onDrops: (n: number) => void) => {
    const day = await provider.fetchVenueDay!(
      { market: getMarket(t.market), venueId: t.venueId, date: t.date, partySize: t.partySize },
      signal,
    );
    count((s) => {
      s.fastLanePolls += 1;
      s.requests += day.stats.requests;
    });
    if (day.slots.length === 0) return;
    const now = clock();
    for (const b of buckets.values()) {
      if (b.market !== t.market || b.date !== t.date || !b.calibrated || !b.coverage) continue;
      const [lo, hi] = b.coverage;
      const slots = day.slots.filter((s) => {
        const m = minuteOf(s.localStart.slice(11, 16));
        return m >= lo && m <= hi;
      });
      if (slots.length === 0) continue;
      const venues = day.venue ? new Map([[day.venue.id, day.venue]]) : new Map();
      const snap = prepareSnapshot(provider.name, { venues, slots, stats: day.stats }, config.BUCKET_SLOT_CAP);
      const outcome = await db((c) => applyVenueDay(c, ctx, { bucketId: b.id, market: b.market }, snap, now));
      if (outcome.drops.length > 0) {
        count((s) => {
          s.drops += outcome.drops.length;
          s.fastLaneDrops += outcome.drops.length;
        });
        onDrops(outcome.drops.length);
        rates.observe(b.market, daysAhead(b, now), b.timeSlot, outcome.drops.length, 0, now.getTime());
      }
      if (outcome.drops.length > 0 || outcome.resized > 0) feed.dirty = true;
    }
  };

  const rebuildFeed = () => {
    feed = { dirty: false, lastAt: Date.now(), running: true };
    const note = { drops: pass.drops, closes: pass.closes };
    void db((c) => rebuildFeedCache(c, config, clock(), note))
      .catch((err: unknown) => {
        feed.dirty = true;
        logger.error({ err }, 'feed cache rebuild failed');
      })
      .finally(() => (feed.running = false));
  };

  /** Starts what `pick` offers, one at a time, while `room` says one more fits. */
  const fill = <T>(room: () => boolean, pick: () => T | undefined, start: (item: T) => void) => {
    while (room() && !signal.aborted) {
      const item = pick();
      if (item === undefined) return;
      start(item);
    }
  };

  try {
    // Start-up: the liveness session before the lease (the others see both at once), the window,
    // the replica set, learned rates; a failure here throws (the job restarts).
    const joinedAt = Date.now();
    await session?.keep();
    await refreshReplicas();
    await housekeeping();
    await seedRates();
    // The others see this worker's lease within REPLICA_LOOK_MS; poll only once they have.
    const settle = JOIN_SETTLE_MS - (Date.now() - joinedAt);
    if (settle > 0 && !signal.aborted) await sleep(settle);
    await refreshReplicas(false);
    let nextLook = Date.now() + REPLICA_LOOK_MS;
    let nextHousekeeping = Date.now() + config.DISCOVERY_TICK_SECONDS * 1000;
    let nextReplicas = Date.now() + (config.DISCOVERY_LEASE_SECONDS * 1000) / 3;
    logger.info(
      {
        buckets: buckets.size,
        holder: replicas.holder,
        replicas: replicas.size,
        fastTargets: modes.perVenue.length,
        searchedDays: modes.searchedDays.size,
      },
      'poller started',
    );

    while (!signal.aborted) {
      const nowMs = Date.now();
      try {
        if (nowMs >= nextReplicas) {
          nextReplicas = nowMs + (config.DISCOVERY_LEASE_SECONDS * 1000) / 3;
          nextLook = nowMs + REPLICA_LOOK_MS;
          await refreshReplicas();
        } else if (nowMs >= nextLook) {
          nextLook = nowMs + REPLICA_LOOK_MS;
          await refreshReplicas(false);
        }
        if (nowMs >= nextHousekeeping) {
          nextHousekeeping = nowMs + config.DISCOVERY_TICK_SECONDS * 1000;
          await housekeeping();
          await recordPass();
          feed.dirty = true;
        }
      } catch (err) {
        logger.error({ err }, 'discovery housekeeping failed; polling goes on');
      }
      if (!feed.running && feed.dirty && nowMs - feed.lastAt >= FEED_REBUILD_MIN_MS) rebuildFeed();
      if (nowMs < pausedUntil) {
        await sleep(IDLE_WAIT_MS);
        continue;
      }

      const now = clock();
      // The fast lane first: the watched days' buckets it searches are then not also taken by the
      // search lane, which spends its share on the rest.
      const fastLookahead = Math.ceil(
        provider.budget.requestsPerSecond * config.DISCOVERY_FAST_LANE_SHARE * LOOKAHEAD_SECONDS,
      );
      fill(
        () =>
          fastSearching.size < FAST_LANE_BUCKETS_IN_FLIGHT &&
          searching.size < config.DISCOVERY_CONCURRENCY &&
          provider.budget.pending('fast') < fastLookahead,
        () => pickFastBucket(now.getTime(), now),
        (b) => startPoll(b, 'fast'),
      );
      const lookahead = Math.max(
        provider.callsPerPoll(config.DISCOVERY_PARTY_SIZES, config.DISCOVERY_TIME_SLOTS[0] ?? '20:00'),
        Math.ceil(provider.budget.requestsPerSecond * LOOKAHEAD_SECONDS),
      );
      fill(
        () => searching.size < config.DISCOVERY_CONCURRENCY && provider.budget.pending('search') < lookahead,
        () => pickBucket(now.getTime(), now),
        (b) => startPoll(b, 'search'),
      );
      if (provider.fetchVenueDay) {
        fill(
          () => fastInFlight.size < FAST_LANE_IN_FLIGHT,
          () => pickFastTarget(Date.now()),
          startFast,
        );
      }
      await sleep(IDLE_WAIT_MS);
    }

    // Shutdown: polls in flight finish (their fetches see the aborted signal), then leave.
    const deadline = Date.now() + config.RESY_TIMEOUT_MS * 2;
    while ((searching.size > 0 || fastInFlight.size > 0 || feed.running) && Date.now() < deadline)
      await sleep(IDLE_WAIT_MS);
    await db((c) => replicas.leave(c)).catch(() => undefined);
    await recordPass().catch(() => undefined);
    return totals;
  } finally {
    // Also when start-up throws: an open session would keep the worker thread alive.
    await session?.close();
  }
}
