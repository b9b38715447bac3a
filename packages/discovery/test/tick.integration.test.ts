import { beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@dropwatch/db/testing';
import { marketToday } from '@dropwatch/core';
import { feedCacheKey, withPgClient, type FeedCachePayload } from '@dropwatch/db';
import { ProviderError } from '../src/index.js';
import { VenueCache } from '../src/internals.js';
import { applyVenueDay } from '../src/tick/apply-venue-day.js';
import {
  makeTicker,
  onlyBucketId,
  ScriptedProvider,
  scriptedSnapshot,
  slotAt,
  testConfig,
  TestClock,
} from './support/tick-harness.js';

const t = useTestDatabase();
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  t.orm.em.fork().execute<T[]>(sql, params);

let clock: TestClock;
let provider: ScriptedProvider;
let bucket: string;
let date: string;
const config = testConfig();
let ticker: ReturnType<typeof makeTicker>;

beforeEach(async () => {
  await q(
    'truncate discovery_buckets, bucket_slots, availability_state, drop_events, venue_metrics, venues, feed_cache, job_runs',
  );
  clock = new TestClock();
  provider = new ScriptedProvider();
  bucket = onlyBucketId(clock);
  date = marketToday('nyc', clock.now());
  ticker = makeTicker(() => t.orm, config, provider, clock);
});

const base = () => [
  slotAt(date, 1, '20:00'),
  slotAt(date, 1, '20:30'),
  slotAt(date, 2, '21:00'),
  slotAt(date, 3, '19:30'),
];
const calibrate = async (slots = base()) => {
  provider.set(bucket, slots);
  for (let i = 0; i < config.DISCOVERY_BASELINE_POLLS; i++) {
    const s = await ticker.tick();
    expect(s.calibrating).toBe(1);
    expect(s.drops).toBe(0);
  }
};
const dropCount = async () => Number((await q<{ n: string }>('select count(*) as n from drop_events'))[0]!.n);

describe('discovery tick: the diff', () => {
  it('creates the window, calibrates without drops, and records nothing for an unchanged snapshot', async () => {
    await calibrate();
    const buckets = await q<{ bucket_id: string; baseline_complete: boolean; poll_count: number; slot_count: number }>(
      'select bucket_id, baseline_complete, poll_count, slot_count from discovery_buckets',
    );
    expect(buckets).toEqual([{ bucket_id: bucket, baseline_complete: true, poll_count: 3, slot_count: 4 }]);
    const s = await ticker.tick();
    expect(s).toMatchObject({ applied: 1, drops: 0, closes: 0 });
    await ticker.tick();
    expect(await dropCount()).toBe(0);
    // Unchanged polls rewrite no slot rows (only the bucket row).
    const again = await ticker.tick();
    expect(again.rowsWritten).toBe(1);
    const venues = await q<{ venue_id: string; name: string }>('select venue_id, name from venues order by venue_id');
    expect(venues.map((v) => v.venue_id)).toEqual(['test:1', 'test:2', 'test:3']);
  });

  it('a new slot at a venue without baseline slots is one drop; a new time at a baseline venue is none', async () => {
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15', [2, 4]), slotAt(date, 1, '22:00')]);
    const s = await ticker.tick();
    expect(s.drops).toBe(1);
    const drops = await q<Record<string, unknown>>(
      `select bucket_id, venue_id, market, slot_date::text as slot_date, slot_time, party_sizes, closed_at,
              opened_minute = date_trunc('minute', opened_at) as minute_ok from drop_events`,
    );
    expect(drops).toEqual([
      {
        bucket_id: bucket,
        venue_id: 'test:9',
        market: 'nyc',
        slot_date: date,
        slot_time: '20:15',
        party_sizes: [2, 4],
        closed_at: null,
        minute_ok: true,
      },
    ]);
    const open = await q<{ venue_id: string }>('select venue_id from availability_state');
    expect(open).toEqual([{ venue_id: 'test:9' }]);
    const m = await q<{ drops: number; prime_drops: number }>(
      `select drops, prime_drops from venue_metrics where venue_id = 'test:9'`,
    );
    expect(m).toEqual([{ drops: 1, prime_drops: 1 }]);
    const v = await q<{ last_drop_at: Date | null }>(`select last_drop_at from venues where venue_id = 'test:9'`);
    expect(v[0]!.last_drop_at).not.toBeNull();
    // Seen again: still one drop.
    await ticker.tick();
    expect(await dropCount()).toBe(1);
  });

  it('a venue whose baseline slots are all gone drops like any other; one that keeps some does not', async () => {
    await calibrate();
    // Venue 2's one baseline table is booked; venue 1 keeps one of its two.
    const kept = base().filter((x) => x.venueId !== 'test:2' && x.localStart !== `${date} 20:30:00`);
    provider.set(bucket, kept);
    expect((await ticker.tick()).drops).toBe(0);
    provider.set(bucket, [...kept, slotAt(date, 2, '19:45'), slotAt(date, 1, '22:00')]);
    const s = await ticker.tick();
    expect(s.drops).toBe(1);
    expect(await q('select venue_id, slot_time from drop_events')).toEqual([
      { venue_id: 'test:2', slot_time: '19:45' },
    ]);
  });

  it('a drop that disappears closes once, with duration, counted once in venue_metrics', async () => {
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15')]);
    await ticker.tick();
    const openedAt = clock.t;
    provider.set(bucket, base());
    const s = await ticker.tick();
    expect(s.closes).toBe(1);
    const [d] = await q<{ closed_at: string; duration_seconds: number }>(
      'select closed_at, duration_seconds from drop_events',
    );
    expect(new Date(d!.closed_at).getTime()).toBe(clock.t);
    expect(d!.duration_seconds).toBe(Math.floor((clock.t - openedAt) / 1000));
    await ticker.tick();
    await ticker.tick();
    const [m] = await q<{ drops: number; closes: number; open_seconds_sum: string }>(
      `select drops, closes, open_seconds_sum::text from venue_metrics where venue_id = 'test:9'`,
    );
    expect(m).toEqual({ drops: 1, closes: 1, open_seconds_sum: String(d!.duration_seconds) });
    expect(await q('select * from availability_state')).toEqual([]);
  });

  it('a slot reopening within DROP_DEDUPE_MINUTES makes no new drop; its open state is restored', async () => {
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15')]);
    await ticker.tick();
    provider.set(bucket, base());
    await ticker.tick();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15')]);
    const s = await ticker.tick();
    expect(s.drops).toBe(0);
    expect(s.reopened).toBe(1);
    expect(await dropCount()).toBe(1);
    expect(await q('select closed_at from drop_events')).toEqual([{ closed_at: null }]);
    expect((await q('select venue_id from availability_state')).length).toBe(1);
    const [m] = await q<{ drops: number; closes: number }>(
      `select drops, closes from venue_metrics where venue_id = 'test:9'`,
    );
    expect(m).toEqual({ drops: 1, closes: 0 });
    // After the dedupe window a reappearance is a new drop.
    provider.set(bucket, base());
    await ticker.tick();
    clock.advance(config.DROP_DEDUPE_MINUTES * 60_000);
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15')]);
    expect((await ticker.tick()).drops).toBe(1);
    expect(await dropCount()).toBe(2);
  });

  it('an empty snapshot and a provider error leave open drops open; the second suspect poll is accepted', async () => {
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15')]);
    await ticker.tick();
    provider.set(bucket, []);
    expect((await ticker.tick()).suspect).toBe(1);
    expect(await q('select closed_at from drop_events')).toEqual([{ closed_at: null }]);
    provider.set(bucket, new ProviderError('rate_limited', 'resy search: HTTP 429 (rate limited)'));
    const failed = await ticker.tick();
    expect(failed).toMatchObject({ failed: 1, providerErrors: { rate_limited: 1 } });
    const [b] = await q<{ last_error: string; last_error_at: Date; suspect_polls: number }>(
      'select last_error, last_error_at, suspect_polls from discovery_buckets',
    );
    expect(b!.last_error).toBe('rate_limited: resy search: HTTP 429 (rate limited)');
    expect(b!.suspect_polls).toBe(1);
    expect(await q('select closed_at from drop_events')).toEqual([{ closed_at: null }]);
    provider.set(bucket, []);
    const accepted = await ticker.tick();
    expect(accepted).toMatchObject({ applied: 1, closes: 1 });
    expect((await q<{ closed_at: Date | null }>('select closed_at from drop_events'))[0]!.closed_at).not.toBeNull();
    const [after] = await q<{ last_error: string | null; suspect_polls: number }>(
      'select last_error, suspect_polls from discovery_buckets',
    );
    expect(after).toEqual({ last_error: null, suspect_polls: 0 });
  });

  it('a partial snapshot opens drops for what is new and closes nothing; the next whole one closes what is gone', async () => {
    provider.partial = true;
    provider.set(bucket, base());
    // A baseline needs every party size: a partial poll of a calibrating bucket counts for nothing.
    expect((await ticker.tick()).calibrating).toBe(1);
    const [cal] = await q<{ baseline_polls: number }>('select baseline_polls from discovery_buckets');
    expect(cal!.baseline_polls).toBe(0);
    provider.partial = false;
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15')]);
    expect((await ticker.tick()).drops).toBe(1);

    // Only venue 1's 20:00 and a new table at venue 10: one drop; venue 9 and the rest stay.
    provider.partial = true;
    provider.set(bucket, [slotAt(date, 1, '20:00'), slotAt(date, 10, '20:45')]);
    expect(await ticker.tick()).toMatchObject({ applied: 1, drops: 1, closes: 0, suspect: 0 });
    const prev = async () =>
      Number((await q<{ n: string }>('select count(*) as n from bucket_slots where in_prev'))[0]!.n);
    expect(await prev()).toBe(6);
    expect((await q<{ slot_count: number }>('select slot_count from discovery_buckets'))[0]!.slot_count).toBe(6);
    expect(await q('select count(*)::int as n from availability_state')).toEqual([{ n: 2 }]);
    // An empty partial answer is not suspect: it closes nothing anyway.
    provider.set(bucket, []);
    expect(await ticker.tick()).toMatchObject({ applied: 1, suspect: 0, closes: 0 });

    // The next whole snapshot decides: venue 9's table is gone.
    provider.partial = false;
    provider.set(bucket, [...base(), slotAt(date, 10, '20:45')]);
    expect(await ticker.tick()).toMatchObject({ applied: 1, drops: 0, closes: 1 });
    expect(await prev()).toBe(5);
  });

  it('an open drop seen at a party size it lacked gains it, once, and is marked for the notify job', async () => {
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15', [2])]);
    expect((await ticker.tick()).drops).toBe(1);
    const state = () =>
      q<{ party_sizes: number[]; party_mask: number; resized: boolean }>(
        `select d.party_sizes, a.party_mask, a.resized
         from drop_events d join availability_state a on a.drop_event_id = d.id and a.drop_opened_minute = d.opened_minute`,
      );
    expect(await state()).toEqual([{ party_sizes: [2], party_mask: 1 << 2, resized: false }]);
    // The next poll asks party size 4 (and carries size 2): the table is offered at both.
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15', [2, 4])]);
    expect(await ticker.tick()).toMatchObject({ drops: 0, closes: 0 });
    expect(await state()).toEqual([{ party_sizes: [2, 4], party_mask: (1 << 2) | (1 << 4), resized: true }]);
    await q('update availability_state set resized = false');
    // Seen at fewer sizes again: nothing is taken away, nothing marked.
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15', [4])]);
    await ticker.tick();
    expect(await state()).toEqual([{ party_sizes: [2, 4], party_mask: (1 << 2) | (1 << 4), resized: false }]);
    // The fast lane asking the venue for a party of 6 widens it the same way.
    const ctx = { config, venueCache: new VenueCache() };
    const snap = scriptedSnapshot(config, [slotAt(date, 9, '20:15', [6])]);
    const fast = await withPgClient(t.orm.em, (c) =>
      applyVenueDay(c, ctx, { bucketId: bucket, market: 'nyc' }, snap, clock.now()),
    );
    expect(fast).toMatchObject({ status: 'applied', drops: [], resized: 1 });
    expect(await state()).toEqual([
      { party_sizes: [2, 4, 6], party_mask: (1 << 2) | (1 << 4) | (1 << 6), resized: true },
    ]);
    expect(await dropCount()).toBe(1);
  });

  it('a collapse under 10% of a prev of ≥ 20 slots is suspect once', async () => {
    const many = Array.from({ length: 30 }, (_, i) => slotAt(date, 100 + i, '20:00'));
    await calibrate(many);
    provider.set(bucket, many.slice(0, 2));
    expect((await ticker.tick()).suspect).toBe(1);
    expect((await ticker.tick()).applied).toBe(1);
    expect((await q<{ slot_count: number }>('select slot_count from discovery_buckets'))[0]!.slot_count).toBe(2);
  });

  it('writes one job_runs row and one log line per tick, rebuilds the feed cache and keeps BUCKET_SLOT_CAP', async () => {
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15', [2, 4])]);
    await ticker.tick();
    const runs = await q<{ job: string; status: string; stats: { drops: number } }>(
      'select job, status, stats from job_runs order by id',
    );
    expect(runs).toHaveLength(4);
    expect(runs.at(-1)).toMatchObject({ job: 'discovery', status: 'ok', stats: { drops: 1 } });
    const tickLines = ticker.log.lines.filter((l) => l.msg === 'discovery tick');
    expect(tickLines).toHaveLength(4);
    expect(tickLines.at(-1)).toMatchObject({ polled: 1, drops: 1, closes: 0, failed: 0 });
    const [cache] = await q<{ payload: FeedCachePayload; version: string }>(
      'select payload, version::text as version from feed_cache where key = ?',
      [feedCacheKey('nyc')],
    );
    expect(Number(cache!.version)).toBe(4);
    expect(cache!.payload.justOpened).toHaveLength(1);
    expect(cache!.payload.justOpened[0]).toMatchObject({
      market: 'nyc',
      bucketId: bucket,
      venue: { id: 'test:9', name: 'Venue 9', neighborhood: 'Tribeca', bookingUrl: 'https://book.test/test:9' },
      slotDate: date,
      slotTime: '20:15',
      partySizes: [2, 4],
      closedAt: null,
    });
    expect(cache!.payload.board).toHaveLength(1);
    expect(cache!.payload.stillOpen).toHaveLength(0);

    const capped = testConfig({ BUCKET_SLOT_CAP: '100' });
    const bigTicker = makeTicker(() => t.orm, capped, provider, clock);
    provider.set(
      bucket,
      Array.from({ length: 150 }, (_, i) => slotAt(date, 500 + i, '20:00')),
    );
    await bigTicker.tick();
    await bigTicker.tick();
    const [n] = await q<{ n: string }>('select count(*) as n from bucket_slots where bucket_id = ?', [bucket]);
    expect(Number(n!.n)).toBeLessThanOrEqual(100);
  });

  it('deletes buckets dated before today, closing and counting their open drops first', async () => {
    await calibrate();
    provider.set(bucket, [...base(), slotAt(date, 9, '20:15')]);
    await ticker.tick();
    // Move the bucket (with its open drop and slots) to yesterday, as if the day rolled over.
    const yesterday = new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const past = `nyc_${yesterday}_20:30`;
    await q(
      `insert into discovery_buckets (bucket_id, market, date, time_slot, baseline_polls, baseline_complete)
             values (?, 'nyc', ?, '20:30', 3, true)`,
      [past, yesterday],
    );
    await q('update bucket_slots set bucket_id = ? where bucket_id = ?', [past, bucket]);
    await q('update availability_state set bucket_id = ? where bucket_id = ?', [past, bucket]);
    await q('delete from discovery_buckets where bucket_id = ?', [bucket]);
    const s = await ticker.tick();
    expect(s.bucketsDeleted).toBe(1);
    expect(s.bucketsCreated).toBe(1);
    expect(await q('select bucket_id from discovery_buckets')).toEqual([{ bucket_id: bucket }]);
    expect(await q(`select count(*)::int as n from bucket_slots where bucket_id = ?`, [past])).toEqual([{ n: 0 }]);
    expect(await q('select count(*)::int as n from availability_state')).toEqual([{ n: 0 }]);
    expect((await q<{ closed_at: string | null }>('select closed_at from drop_events'))[0]!.closed_at).not.toBeNull();
    expect(await q(`select drops, closes from venue_metrics where venue_id = 'test:9'`)).toEqual([
      { drops: 1, closes: 1 },
    ]);
  });
});
