import { Writable } from 'node:stream';
import { loadConfig, marketToday, type Config } from '@dropwatch/core';
import type { MikroORM } from '@dropwatch/db';
import { pino } from 'pino';
import {
  prepareSnapshot,
  RequestBudget,
  runDiscoveryTick,
  VenueCache,
  type DiscoveryTickOptions,
} from '../../src/internals.js';
import {
  ProviderError,
  type Provider,
  type ProviderBucket,
  type Snapshot,
  type SnapshotSlot,
  type VenueInfo,
} from '../../src/index.js';

/** A provider whose snapshot per bucket each test sets (a real Provider, no network). */
export class ScriptedProvider implements Provider {
  readonly name = 'test';
  readonly budget = new RequestBudget(1_000_000);
  private readonly current = new Map<string, SnapshotSlot[] | ProviderError>();
  calls = 0;
  /** Answer partial snapshots (Snapshot.partial), as a provider that asked only some party sizes. */
  partial = false;

  set(bucketId: string, slots: SnapshotSlot[] | ProviderError): void {
    this.current.set(bucketId, slots);
  }

  callsPerPoll(): number {
    return 1;
  }

  fetchSnapshot(bucket: ProviderBucket): Promise<Snapshot> {
    this.calls++;
    const cur = this.current.get(bucket.bucketId) ?? [];
    if (cur instanceof ProviderError) return Promise.reject(cur);
    const venues = new Map<string, VenueInfo>();
    for (const s of cur) venues.set(s.venueId, venueInfo(s.venueId));
    const stats = { requests: 1, retries: 0, malformed: 0 };
    return Promise.resolve({ venues, slots: cur, stats, ...(this.partial && { partial: true }) });
  }
}

export function venueInfo(id: string): VenueInfo {
  return {
    id,
    name: `Venue ${id.split(':')[1]}`,
    neighborhood: 'Tribeca',
    cuisine: 'Italian',
    priceRange: 2,
    rating: 4.5,
    imageUrl: `https://img.test/${id}.jpg`,
    bookingUrl: `https://book.test/${id}`,
  };
}

/** Captures pino lines so tests can read the tick's log. */
export function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _e, done) {
        for (const l of chunk.toString('utf8').split('\n'))
          if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { logger, lines };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DISCOVERY_WINDOW_DAYS: '1',
    DISCOVERY_TIME_SLOTS: '20:30',
    DISCOVERY_BUCKET_COOLDOWN_SECONDS: '30',
    DISCOVERY_BASELINE_POLLS: '3',
    ...env,
  });
}

/** A clock that moves one cooldown and a bit per tick, so every bucket is due each tick. */
export class TestClock {
  /** Noon UTC today: its day partition exists and New York is on the same date. */
  constructor(public t = new Date(new Date().toISOString().slice(0, 10) + 'T12:00:00Z').getTime()) {}
  now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
}

export function makeTicker(orm: () => MikroORM, config: Config, provider: Provider, clock: TestClock) {
  const venueCache = new VenueCache();
  const log = captureLogger();
  return {
    log,
    tick: (extra: Partial<DiscoveryTickOptions> = {}) => {
      clock.advance((config.DISCOVERY_BUCKET_COOLDOWN_SECONDS + 1) * 1000);
      return runDiscoveryTick({
        orm: orm(),
        config,
        provider,
        logger: log.logger,
        now: clock.now,
        venueCache,
        ...extra,
      });
    },
  };
}

/** The only bucket of a 1-day × 1-slot window in nyc. */
export function onlyBucketId(clock: TestClock, slot = '20:30'): string {
  return `nyc_${marketToday('nyc', clock.now())}_${slot}`;
}

export function slotAt(date: string, venue: number, time: string, partySizes: number[] = [2]): SnapshotSlot {
  return { venueId: `test:${venue}`, localStart: `${date} ${time}:00`, partySizes };
}

/**
 * The only bucket of a 1-day × 1-slot window in nyc, polled through its baseline with the slots
 * `slotsOn(date)`: the provider (to script what comes next), the bucket, its date, those slots
 * and the ticker.
 */
export async function calibratedBucket(
  orm: () => MikroORM,
  config: Config,
  clock: TestClock,
  slotsOn: (date: string) => SnapshotSlot[],
) {
  const provider = new ScriptedProvider();
  const bucket = onlyBucketId(clock);
  const date = marketToday('nyc', clock.now());
  const base = slotsOn(date);
  provider.set(bucket, base);
  const ticker = makeTicker(orm, config, provider, clock);
  for (let i = 0; i < config.DISCOVERY_BASELINE_POLLS; i++) await ticker.tick();
  return { provider, bucket, date, base, ...ticker };
}

/** `slots` as a scripted poll's snapshot, prepared for applySnapshot / applyVenueDay. */
export function scriptedSnapshot(config: Config, slots: readonly SnapshotSlot[]) {
  return prepareSnapshot(
    'test',
    {
      venues: new Map(slots.map((s) => [s.venueId, venueInfo(s.venueId)])),
      slots,
      stats: { requests: 1, retries: 0, malformed: 0 },
    },
    config.BUCKET_SLOT_CAP,
  );
}
