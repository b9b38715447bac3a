import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { addDays, ConfigError, loadConfig, marketToday } from '@dropwatch/core';
import { ensurePartitionsBetween } from '@dropwatch/db';
import { useTestDatabase } from '@dropwatch/db/testing';
import { previewRetention, runRetention, type RetentionStats } from '../src/index.js';
import {
  ago,
  connect,
  count,
  dayStart,
  insertDrop,
  insertNotification,
  insertVenue,
  partitionName,
  tableExists,
  testConfig,
  utcDay,
} from './retention-fixtures.js';

const t = useTestDatabase();
let c: pg.Client;

beforeAll(async () => {
  c = await connect(t.db.url);
});
afterAll(async () => {
  await c.end();
});

function ok(result: Awaited<ReturnType<typeof runRetention>>): RetentionStats {
  if (result.status !== 'ok') throw new Error(`expected a run, got ${JSON.stringify(result)}`);
  return result;
}

describe('runRetention', () => {
  it('removes only what is outside each window, and prune preview counts exactly that', async () => {
    const config = testConfig();
    const now = new Date();
    const dropCutoff = ago(now, config.DROP_EVENTS_RETENTION_DAYS);
    const dropKeepDay = utcDay(dropCutoff);
    const noteKeepDay = utcDay(ago(now, config.NOTIFICATIONS_RETENTION_DAYS));
    const em = t.orm.em.fork();
    await ensurePartitionsBetween(em, addDays(noteKeepDay, -2), utcDay(now));

    // drop_events straddling the cutoff: whole days before the cutoff's day go, its day stays.
    const goneA = await insertDrop(c, {
      openedAt: new Date(dayStart(dropKeepDay).getTime() - 60_000),
      venueId: 'sim:gone-ref',
    });
    await insertDrop(c, { openedAt: dayStart(addDays(dropKeepDay, -3)), venueId: 'sim:x' });
    const keptEdge = await insertDrop(c, { openedAt: dayStart(dropKeepDay), venueId: 'sim:kept-ref' });
    await insertDrop(c, { openedAt: new Date(dropCutoff.getTime() + 3_600_000), venueId: 'sim:y' });
    await insertDrop(c, { openedAt: new Date(now.getTime() - 3_600_000), venueId: 'sim:y' });
    // user_notifications by the drop's minute, 30 days.
    await insertNotification(c, new Date(dayStart(noteKeepDay).getTime() - 1_000));
    await insertNotification(c, new Date(dayStart(noteKeepDay).getTime() + 1_000));
    await insertNotification(c, now);
    // venue_metrics: 250 rows past 90 days (three batches of 100), one inside.
    await c.query(
      `insert into venue_metrics (venue_id, day, drops) select 'sim:m' || g, $1::date - g % 5, 1 from generate_series(1, 250) g`,
      [utcDay(ago(now, config.VENUE_METRICS_RETENTION_DAYS + 1))],
    );
    await c.query(`insert into venue_metrics (venue_id, day, drops) values ('sim:m-kept', $1::date, 1)`, [
      utcDay(ago(now, config.VENUE_METRICS_RETENTION_DAYS - 1)),
    ]);
    // job_runs and webhook_deliveries: 14 days.
    for (const days of [15, 13]) {
      await c.query(`insert into job_runs (job, started_at, finished_at, status) values ('discovery', $1, $1, 'ok')`, [
        ago(now, days),
      ]);
      await c.query(
        `insert into webhook_deliveries (user_id, notification_id, channel, payload, created_at)
         values (gen_random_uuid(), 1, 'webhook', '{}', $1)`,
        [ago(now, days)],
      );
    }
    // destinations: disabled by their receiver longer than 14 days go; enabled ones stay.
    const { rows: owner } = await c.query<{ id: string }>(
      `insert into users (name) values ('kept-dests') returning id`,
    );
    for (const [days, disabled] of [
      [15, true],
      [13, true],
      [40, false],
    ] as const) {
      await c.query(
        `insert into destinations (user_id, channel, settings, disabled_at, created_at)
         values ($1, 'webhook', '{"url":"https://example.test/h"}', $2, $3)`,
        [owner[0]!.id, disabled ? ago(now, days) : null, ago(now, days)],
      );
    }
    // venues: unseen for 31 days goes unless a kept drop or an open slot refers to it.
    const unseen = ago(now, config.VENUE_RETENTION_DAYS + 1);
    await insertVenue(c, 'sim:orphan', unseen);
    await insertVenue(c, 'sim:gone-ref', unseen); // its only drop is in a partition that goes
    await insertVenue(c, 'sim:kept-ref', unseen); // referenced by the cutoff day's drop
    await insertVenue(c, 'sim:open-ref', unseen);
    await insertVenue(c, 'sim:recent', ago(now, 1));
    await c.query(
      `with b as (insert into discovery_buckets (bucket_id, market, date, time_slot) values ($4, 'nyc', $3::date, '20:30') returning bucket_id)
       insert into availability_state (bucket_id, slot_key, drop_event_id, drop_opened_minute, venue_id, market, slot_date, opened_at)
       select b.bucket_id, 7, $1, $2, 'sim:open-ref', 'nyc', $3::date, $2 from b`,
      [keptEdge.id, keptEdge.openedMinute, marketToday('nyc', now), `nyc_${marketToday('nyc', now)}_20:30`],
    );

    const preview = await previewRetention({ orm: t.orm, config, now });
    expect(preview.wouldDelete).toMatchObject({
      drop_events: 2,
      user_notifications: 1,
      venue_metrics: 250,
      job_runs: 1,
      webhook_deliveries: 1,
      destinations: 1,
      venues: 2,
    });
    const stats = ok(await runRetention({ orm: t.orm, config, now }));
    expect(stats.deleted).toEqual(preview.wouldDelete);
    expect(stats.partitions.dropped).toEqual(expect.arrayContaining(preview.partitionsToDrop));
    expect(stats.partitions.dropped).toHaveLength(preview.partitionsToDrop.length);

    // What is inside a window is all still there.
    expect(await count(c, 'select count(*) from drop_events')).toBe(3);
    expect(await count(c, 'select count(*) from drop_events where id = $1', [goneA.id])).toBe(0);
    expect(await tableExists(c, partitionName('drop_events', dropKeepDay))).toBe(true);
    expect(await tableExists(c, partitionName('drop_events', addDays(dropKeepDay, -1)))).toBe(false);
    expect(await tableExists(c, partitionName('user_notifications', noteKeepDay))).toBe(true);
    expect(await tableExists(c, partitionName('user_notifications', addDays(noteKeepDay, -1)))).toBe(false);
    expect(await count(c, 'select count(*) from user_notifications')).toBe(2);
    expect(await count(c, 'select count(*) from venue_metrics')).toBe(1);
    expect(await count(c, `select count(*) from job_runs where job = 'discovery'`)).toBe(1);
    expect(await count(c, 'select count(*) from webhook_deliveries')).toBe(1);
    expect(await count(c, 'select count(*) from destinations')).toBe(2);
    const { rows: venues } = await c.query<{ venue_id: string }>('select venue_id from venues order by venue_id');
    expect(venues.map((v) => v.venue_id)).toEqual(['sim:kept-ref', 'sim:open-ref', 'sim:recent']);

    // The run left its own job_runs row with its counts.
    const { rows: runs } = await c.query<{ status: string; stats: { deleted: Record<string, number> } }>(
      'select status, stats from job_runs where id = $1',
      [stats.jobRunId],
    );
    expect(runs[0]?.status).toBe('ok');
    expect(runs[0]?.stats.deleted.venue_metrics).toBe(250);

    // A second pass finds nothing more to do.
    const again = ok(await runRetention({ orm: t.orm, config, now }));
    expect(Object.values(again.deleted).every((n) => n === 0)).toBe(true);
  });

  it('closes open drops of past buckets into venue_metrics, then deletes the buckets with their slots and state', async () => {
    const config = testConfig();
    const now = new Date();
    const today = marketToday('nyc', now);
    const yesterday = addDays(today, -1);
    const past = `nyc_${yesterday}_20:30`;
    const current = `nyc_${today}_15:00`;
    const openedAt = new Date(now.getTime() - 2 * 3_600_000);
    await c.query(
      `insert into discovery_buckets (bucket_id, market, date, time_slot) values ($1, 'nyc', $2, '20:30'), ($3, 'nyc', $4, '15:00')`,
      [past, yesterday, current, today],
    );
    await c.query(
      `insert into bucket_slots (bucket_id, slot_key, venue_id, in_prev) select b, g, 'sim:p', true from unnest($1::text[]) b, generate_series(1, 3) g`,
      [[past, current]],
    );
    const pastDrop = await insertDrop(c, { openedAt, venueId: 'sim:p', bucketId: past, slotDate: yesterday });
    const liveDrop = await insertDrop(c, { openedAt, venueId: 'sim:p', bucketId: current, slotDate: today });
    for (const [bucket, d] of [
      [past, pastDrop],
      [current, liveDrop],
    ] as const) {
      await c.query(
        `insert into availability_state (bucket_id, slot_key, drop_event_id, drop_opened_minute, venue_id, market, slot_date, opened_at)
         values ($1, 1, $2, $3, 'sim:p', 'nyc', $4::date, $5)`,
        [bucket, d.id, d.openedMinute, bucket === past ? yesterday : today, openedAt],
      );
    }

    const preview = await previewRetention({ orm: t.orm, config, now });
    expect(preview.dropsToClose).toBe(1);
    const stats = ok(await runRetention({ orm: t.orm, config, now }));
    expect(stats.dropsClosed).toBe(1);
    expect(stats.deleted).toMatchObject({ discovery_buckets: 1, bucket_slots: 3, availability_state: 1 });
    expect(stats.deleted).toEqual(preview.wouldDelete);

    const { rows } = await c.query<{ id: string; closed_at: Date | null; duration_seconds: number | null }>(
      'select id::text, closed_at, duration_seconds from drop_events where id = any($1::bigint[]) order by id',
      [[pastDrop.id, liveDrop.id]],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(pastDrop.id)?.closed_at?.getTime()).toBe(now.getTime());
    expect(byId.get(pastDrop.id)?.duration_seconds).toBe(7200);
    expect(byId.get(liveDrop.id)?.closed_at).toBeNull();
    const { rows: metrics } = await c.query<{ closes: number; open_seconds_sum: string }>(
      `select closes, open_seconds_sum::text from venue_metrics where venue_id = 'sim:p' and day = $1::date`,
      [utcDay(openedAt)],
    );
    expect(metrics).toEqual([{ closes: 1, open_seconds_sum: '7200' }]);
    expect(await count(c, 'select count(*) from discovery_buckets where bucket_id = $1', [past])).toBe(0);
    expect(await count(c, 'select count(*) from bucket_slots where bucket_id = $1', [current])).toBe(3);
    expect(await count(c, 'select count(*) from availability_state where bucket_id = $1', [current])).toBe(1);

    // Run again: nothing closes twice, nothing is counted twice.
    ok(await runRetention({ orm: t.orm, config, now }));
    expect(
      await count(c, `select closes from venue_metrics where venue_id = 'sim:p' and day = $1::date`, [
        utcDay(openedAt),
      ]),
    ).toBe(1);
  });

  it('makes the partitions of the coming days, and a drop for tomorrow lands in its own', async () => {
    const config = testConfig();
    const now = new Date();
    const last = addDays(utcDay(now), config.PARTITION_PREMAKE_DAYS);
    // Take away the furthest one (empty) so the run has something to make.
    await c.query(
      `drop table if exists ${partitionName('drop_events', last)}, ${partitionName('user_notifications', last)}`,
    );

    const stats = ok(await runRetention({ orm: t.orm, config, now }));
    expect(stats.partitions.created).toBe(2);
    for (let d = 0; d <= config.PARTITION_PREMAKE_DAYS; d++) {
      const day = addDays(utcDay(now), d);
      expect(await tableExists(c, partitionName('drop_events', day))).toBe(true);
      expect(await tableExists(c, partitionName('user_notifications', day))).toBe(true);
    }
    const tomorrow = addDays(utcDay(now), 1);
    const drop = await insertDrop(c, { openedAt: new Date(`${tomorrow}T12:00:00Z`), venueId: 'sim:t' });
    const { rows } = await c.query<{ part: string }>(
      'select tableoid::regclass::text as part from drop_events where id = $1',
      [drop.id],
    );
    expect(rows[0]?.part).toBe(partitionName('drop_events', tomorrow));
  });

  it('refuses retention settings out of range', () => {
    expect(() => loadConfig({ DROP_EVENTS_RETENTION_DAYS: '6' })).toThrow(ConfigError);
    expect(() => loadConfig({ NOTIFICATIONS_RETENTION_DAYS: '91' })).toThrow(/NOTIFICATIONS_RETENTION_DAYS/);
    expect(() => loadConfig({ ...testConfig(), DROP_EVENTS_RETENTION_DAYS: 31 })).toThrow(/DROP_EVENTS_RETENTION_DAYS/);
  });
});
