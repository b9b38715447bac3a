import type { Market } from '@dropwatch/core';

/** What a provider is asked to poll: one bucket of the window. */
export interface ProviderBucket {
  readonly bucketId: string;
  readonly market: Market;
  /** Market-local date, YYYY-MM-DD. */
  readonly date: string;
  /** Market-local anchor time, HH:MM. */
  readonly timeSlot: string;
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
}

export interface Snapshot {
  readonly venues: ReadonlyMap<string, VenueInfo>;
  readonly slots: readonly SnapshotSlot[];
  readonly stats: SnapshotStats;
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

export interface Provider {
  /** Short provider name: the prefix of venue ids and part of the slot fingerprint. */
  readonly name: string;
  /**
   * The whole snapshot of a bucket, or a ProviderError. All-or-nothing: when any call of the
   * poll fails after its retries, it throws rather than return part of the snapshot.
   */
  fetchSnapshot(bucket: ProviderBucket, partySizes: readonly number[], signal?: AbortSignal): Promise<Snapshot>;
}
