import type { Market } from '@dropwatch/core';
import type { BudgetLane, RequestBudget } from '../budget/request-budget.js';

/** What a provider is asked to poll: one bucket of the window. */
export interface ProviderBucket {
  readonly bucketId: string;
  readonly market: Market;
  /** Market-local date, YYYY-MM-DD. */
  readonly date: string;
  /** Market-local anchor time, HH:MM. */
  readonly timeSlot: string;
  /**
   * The budget lane the poll's requests wait in: `search` (the default), or `fast` when the poll
   * is the fast lane's way of refreshing watched venues (cheaper than asking them one by one).
   */
  readonly lane?: BudgetLane | undefined;
  /**
   * The bucket has a baseline (calibrated): a provider with nothing remembered of it may then
   * answer a partial snapshot (Snapshot.partial), cheaper, instead of a complete one.
   */
  readonly hasBaseline?: boolean | undefined;
}

/** A venue as a provider describes it; `id` is provider-qualified (`resy:60029`). */
export interface VenueInfo {
  readonly id: string;
  readonly name: string;
  readonly neighborhood: string | null;
  readonly cuisine: string | null;
  /** 1–4, or null when unknown. */
  readonly priceRange: number | null;
  readonly rating: number | null;
  readonly imageUrl: string | null;
  readonly bookingUrl: string | null;
}

/** One bookable time at one venue, with every party size it was seen for. */
export interface SnapshotSlot {
  readonly venueId: string;
  /** Venue-local start, `YYYY-MM-DD HH:MM:SS`. */
  readonly localStart: string;
  /** Sorted, distinct. */
  readonly partySizes: readonly number[];
  readonly bookingUrl?: string | null;
}

export interface SnapshotStats {
  /** HTTP requests made (simulated: 0). */
  readonly requests: number;
  readonly retries: number;
  /** Hits or slots that failed validation and were skipped. */
  readonly malformed: number;
  /** Search calls (party size × hour × box) answered suspect and carried from their last answer. */
  readonly suspectCalls?: number;
  /** Boxes still truncated at the deepest tiling (guarded, see call-guard). */
  readonly truncatedCalls?: number;
  /** Boxes searched (one per call when the market is not split), retries of doubtful answers included. */
  readonly tiles?: number;
  /** Doubtful (empty or collapsed) box answers asked again at once. */
  readonly doubtfulRetries?: number;
  /** Venues gone from a tail read that a per-venue request told closed or moved up. */
  readonly vanishedResolved?: number;
  /** Tail reads made whole by reading the head they skipped (cheaper than asking each venue that left). */
  readonly headReads?: number;
}

export interface Snapshot {
  readonly venues: ReadonlyMap<string, VenueInfo>;
  readonly slots: readonly SnapshotSlot[];
  readonly stats: SnapshotStats;
  /**
   * Only some of the party sizes were asked and nothing stood in for the others: a slot it shows
   * that the bucket did not have is new, but one it lacks may be bookable at a size not asked.
   * Such a snapshot's new slots are drops, and it closes nothing (applySnapshot).
   */
  readonly partial?: boolean;
}

export const PROVIDER_ERROR_CODES = ['auth', 'blocked', 'rate_limited', 'upstream', 'timeout', 'malformed'] as const;
export type ProviderErrorCode = (typeof PROVIDER_ERROR_CODES)[number];

/**
 * The only error a provider throws. Its message never holds a secret (callers store it in
 * discovery_buckets.last_error and log it).
 */
export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly details: { readonly status?: number; readonly retryAfterMs?: number; readonly retryable?: boolean } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  /** auth and blocked are never retried; a 4xx that is not a rate limit is not either. */
  get retryable(): boolean {
    if (this.details.retryable !== undefined) return this.details.retryable;
    return this.code === 'rate_limited' || this.code === 'upstream' || this.code === 'timeout';
  }
}

/** One watched venue's day, as the fast lane asks for it. */
export interface VenueDayQuery {
  readonly market: Market;
  /** Provider-qualified id (`resy:60029`). */
  readonly venueId: string;
  /** Market-local date, YYYY-MM-DD. */
  readonly date: string;
  readonly partySize: number;
}

/** Every bookable slot of one venue on one day for one party size. */
export interface VenueDay {
  /** Null when the provider does not know the venue. */
  readonly venue: VenueInfo | null;
  readonly slots: readonly SnapshotSlot[];
  readonly stats: SnapshotStats;
}

export interface Provider {
  /** Short provider name: the prefix of venue ids and part of the slot fingerprint. */
  readonly name: string;
  /**
   * The request budget every call of this provider waits on (its rate is this replica's share of
   * the provider's limit). The poller reads its queue to keep it busy but never overfull.
   */
  readonly budget: RequestBudget;
  /** Requests one poll of a bucket costs at least (its calls before paging and tiling). */
  callsPerPoll(partySizes: readonly number[], timeSlot: string): number;
  /**
   * The whole snapshot of a bucket, or a ProviderError. All-or-nothing: when any call of the
   * poll fails after its retries, it throws rather than return part of the snapshot.
   */
  fetchSnapshot(bucket: ProviderBucket, partySizes: readonly number[], signal?: AbortSignal): Promise<Snapshot>;
  /**
   * One venue's day (the fast lane for watched venues), from the `fast` lane of the budget.
   * Absent when the provider has no per-venue endpoint.
   */
  fetchVenueDay?(query: VenueDayQuery, signal?: AbortSignal): Promise<VenueDay>;
}
