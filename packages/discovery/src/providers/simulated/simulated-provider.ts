import { slotId } from '@dropwatch/core';
import { RequestBudget } from '../../budget/request-budget.js';
import type { Provider, ProviderBucket, Snapshot, SnapshotSlot, VenueInfo } from '../provider.js';
import { hashString, unit } from './sim-random.js';
import { simVenues, SIM_URL_BASE, type SimVenue } from './sim-venues.js';

export const SIM_PROVIDER_NAME = 'sim';

/** Start times offered around a bucket's anchor: every 5 minutes from −2 h to +2 h. */
const TIME_STEP_MINUTES = 5;
const TIMES_AROUND_ANCHOR = 49;
/** Share of a bucket's venues that have no regular availability: the only ones that can drop. */
const DROP_POOL_SHARE = 0.4;
/** Share of churning slots that appear at drop-pool venues (the rest are new times at regular venues). */
const DROP_VENUE_SHARE = 0.7;
/** Longest life of a churning slot, in steps. */
const MAX_LIFE_STEPS = 20;
/** Chance a slot offers a given party size. */
const PARTY_SIZE_SHARE = 0.75;
/** Search calls a poll stands for: party sizes × three hour filters, as the Resy provider makes. */
const HOUR_FILTERS_PER_POLL = 3;
/** Bucket models kept in memory at most. */
const MODEL_CACHE_MAX = 2_000;

export interface SimulatedMarketOptions {
  readonly seed: number;
  /** Venues per market. */
  readonly venues: number;
  /** Regular (always bookable) slots per bucket. */
  readonly slotsPerBucket: number;
  /** Share of slots that change between two consecutive steps. */
  readonly churn: number;
  /** Length of one market step: polls within one step see the same snapshot. */
  readonly stepMs: number;
  /** The clock the market reads (tests pass their own). */
  readonly now?: () => Date;
  /**
   * Paces polls as if each were the Resy provider's calls at this rate (RESY_MAX_RPS), so the
   * poller spends the simulated market the way it would spend Resy. Unset: unpaced (tests).
   */
  readonly maxRps?: number;
}

/** The budget of an unpaced market: effectively no wait. */
const UNPACED_RPS = 1_000_000;

interface BucketModel {
  readonly venues: readonly SimVenue[];
  readonly baseVenues: readonly number[];
  readonly dropPool: readonly number[];
  readonly baseSlots: readonly { venue: number; time: number }[];
  readonly bucketHash: number;
  /** Churning slots born per step. */
  readonly birthRate: number;
}

/**
 * A deterministic market: each bucket has a stable set of regular slots at its
 * regular venues, plus churning slots born at a steady rate that live a few steps. Most churn
 * lands at venues with no regular slot in the bucket (drops once the baseline is known); hot
 * venues are picked less often and their slots live only a step or two.
 */
export class SimulatedProvider implements Provider {
  readonly name = SIM_PROVIDER_NAME;
  readonly budget: RequestBudget;
  private readonly venuesByMarket = new Map<string, SimVenue[]>();
  private readonly models = new Map<string, BucketModel>();

  constructor(private readonly options: SimulatedMarketOptions) {
    this.budget = new RequestBudget(options.maxRps ?? UNPACED_RPS);
  }

  callsPerPoll(partySizes: readonly number[]): number {
    return partySizes.length * HOUR_FILTERS_PER_POLL;
  }

  async fetchSnapshot(bucket: ProviderBucket, partySizes: readonly number[], signal?: AbortSignal): Promise<Snapshot> {
    signal?.throwIfAborted();
    if (this.options.maxRps !== undefined) {
      const calls = this.callsPerPoll(partySizes);
      await Promise.all(Array.from({ length: calls }, () => this.budget.acquire(bucket.lane ?? 'search', signal)));
    }
    const now = (this.options.now ?? (() => new Date()))();
    const step = Math.floor(now.getTime() / this.options.stepMs);
    return this.snapshotAt(bucket, partySizes, step);
  }

  /** The snapshot of a bucket at a market step (exposed for tests and benchmarks). */
  snapshotAt(bucket: ProviderBucket, partySizes: readonly number[], step: number): Snapshot {
    const model = this.model(bucket);
    const slots = new Map<string, SnapshotSlot>();
    const venues = new Map<string, VenueInfo>();
    const add = (venueIndex: number, time: number) => {
      const start = localStart(bucket, time);
      if (start === null) return;
      const venue = model.venues[venueIndex]!;
      const key = `${venueIndex}|${time}`;
      if (slots.has(key)) return;
      const sizes = partySizes.filter(
        (s) => unit(this.options.seed, model.bucketHash, venueIndex, time, s) < PARTY_SIZE_SHARE,
      );
      const chosen = sizes.length > 0 ? sizes : partySizes.slice(0, 1);
      if (chosen.length === 0) return;
      venues.set(venue.info.id, venue.info);
      slots.set(key, {
        venueId: venue.info.id,
        localStart: start,
        partySizes: [...chosen].sort((a, b) => a - b),
        bookingUrl: `${SIM_URL_BASE}/venues/${venue.info.id.slice(4)}?date=${bucket.date}&time=${start.slice(11, 16)}`,
      });
    };
    for (const s of model.baseSlots) add(s.venue, s.time);
    if (model.birthRate > 0) {
      const first = Math.max(0, Math.ceil((step - MAX_LIFE_STEPS + 1) * model.birthRate));
      const last = Math.ceil((step + 1) * model.birthRate) - 1;
      for (let k = first; k <= last; k++) {
        const born = Math.floor(k / model.birthRate);
        const churnSlot = this.churnSlot(model, k);
        if (born <= step && step < born + churnSlot.life) add(churnSlot.venue, churnSlot.time);
      }
    }
    return { venues, slots: [...slots.values()], stats: { requests: 0, retries: 0, malformed: 0 } };
  }

  /** The slot id the market uses for (venue, start): lets tests name expected drops. */
  static slotIdOf(venueId: string, localStartValue: string): string {
    return slotId(SIM_PROVIDER_NAME, venueId, localStartValue);
  }

  private churnSlot(model: BucketModel, k: number): { venue: number; time: number; life: number } {
    const { seed } = this.options;
    const lo = k % 2 ** 30;
    const hi = Math.floor(k / 2 ** 30);
    const r = (salt: number) => unit(seed, model.bucketHash, lo, hi, salt);
    let venue: number;
    if (model.dropPool.length > 0 && (r(1) < DROP_VENUE_SHARE || model.baseVenues.length === 0)) {
      // Hot venues are picked less often: accept a pick with probability (1 − popularity)².
      venue = model.dropPool[Math.floor(r(2) * model.dropPool.length)]!;
      for (let attempt = 0; attempt < 4; attempt++) {
        const candidate = model.dropPool[Math.floor(r(10 + attempt) * model.dropPool.length)]!;
        venue = candidate;
        if (r(20 + attempt) < (1 - model.venues[candidate]!.popularity) ** 2) break;
      }
    } else {
      venue = model.baseVenues[Math.floor(r(3) * model.baseVenues.length)]!;
    }
    const popularity = model.venues[venue]!.popularity;
    // A hot venue's table is gone within a step or two; a quiet one's may stay for many.
    const life = 1 + Math.floor(r(4) * (1 + (MAX_LIFE_STEPS - 1) * (1 - popularity)));
    return { venue, time: Math.floor(r(5) * TIMES_AROUND_ANCHOR), life: Math.min(life, MAX_LIFE_STEPS) };
  }

  private model(bucket: ProviderBucket): BucketModel {
    const cached = this.models.get(bucket.bucketId);
    if (cached) return cached;
    const { seed, slotsPerBucket, churn } = this.options;
    let venues = this.venuesByMarket.get(bucket.market.slug);
    if (!venues) {
      venues = simVenues(seed, bucket.market.slug, this.options.venues);
      this.venuesByMarket.set(bucket.market.slug, venues);
    }
    const bucketHash = hashString(bucket.bucketId);
    const order = venues.map((_, i) => i).sort((a, b) => unit(seed, bucketHash, a, 11) - unit(seed, bucketHash, b, 11));
    const poolSize = venues.length < 2 ? 0 : Math.max(1, Math.floor(venues.length * DROP_POOL_SHARE));
    const baseVenues = order.slice(0, order.length - poolSize);
    const dropPool = order.slice(order.length - poolSize);
    const baseCount = Math.min(slotsPerBucket, baseVenues.length * TIMES_AROUND_ANCHOR);
    const baseSlots = Array.from({ length: baseCount }, (_, j) => {
      const venue = baseVenues[j % baseVenues.length]!;
      const round = Math.floor(j / baseVenues.length);
      const offset = Math.floor(unit(seed, bucketHash, venue, 12) * TIMES_AROUND_ANCHOR);
      return { venue, time: (offset + round) % TIMES_AROUND_ANCHOR };
    });
    const model: BucketModel = {
      venues,
      baseVenues,
      dropPool,
      baseSlots,
      bucketHash,
      birthRate: (churn * Math.max(baseCount, 1)) / 2,
    };
    if (this.models.size >= MODEL_CACHE_MAX) this.models.clear();
    this.models.set(bucket.bucketId, model);
    return model;
  }
}

/** `YYYY-MM-DD HH:MM:00` of a time index around the anchor, or null outside the bucket's day. */
function localStart(bucket: ProviderBucket, time: number): string | null {
  const [hh = 0, mm = 0] = bucket.timeSlot.split(':').map(Number);
  const minutes = hh * 60 + mm + (time - (TIMES_AROUND_ANCHOR - 1) / 2) * TIME_STEP_MINUTES;
  if (minutes < 0 || minutes >= 24 * 60) return null;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${bucket.date} ${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}:00`;
}
