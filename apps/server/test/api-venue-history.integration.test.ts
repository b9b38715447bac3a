import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayFromToday, seedBucket, seedDrop, seedVenue, startApiHarness, type ApiHarness } from './api-fixtures.js';

const HOUR = 3_600_000;

describe('venues.history over HTTP (seeded drops)', () => {
  let h: ApiHarness;
  const opened: Date[] = [];

  beforeAll(async () => {
    h = await startApiHarness();
    // Day partitions for drops older than the ones the migration creates.
    await h.sql.query(`select dropwatch_ensure_partitions(current_date - 5, current_date)`);
    const bucketId = await seedBucket(h.sql, { market: 'nyc', date: dayFromToday(1), timeSlot: '20:30' });
    await seedVenue(h.sql, { venueId: 'resy:10', market: 'nyc', name: 'History Place' });
    await seedVenue(h.sql, { venueId: 'resy:11', market: 'nyc', name: 'Quiet Place' });
    const now = Date.now();
    // Newest first: one still open, three closed after 30 s, 10 min and 2 h (the last 3 days ago).
    const drops: { ageMs: number; closedAfterSeconds: number | null }[] = [
      { ageMs: 0.2 * HOUR, closedAfterSeconds: null },
      { ageMs: 1.2 * HOUR, closedAfterSeconds: 30 },
      { ageMs: 2.2 * HOUR, closedAfterSeconds: 600 },
      { ageMs: 72 * HOUR, closedAfterSeconds: 7200 },
    ];
    for (const d of drops) {
      const openedAt = new Date(now - d.ageMs);
      opened.push(openedAt);
      const { id } = await seedDrop(h.sql, {
        bucketId,
        venueId: 'resy:10',
        market: 'nyc',
        slotDate: dayFromToday(1),
        openedAt,
        open: d.closedAfterSeconds === null,
      });
      if (d.closedAfterSeconds !== null)
        await h.sql.query(
          `update drop_events set closed_at = opened_at + make_interval(secs => $2), duration_seconds = $2 where id = $1`,
          [id, d.closedAfterSeconds],
        );
    }
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('counts the window by local opening hour and open duration, and lists the newest drops', async () => {
    const c = h.client();
    const two = await c.venues.history.query({ venueId: 'resy:10', days: 2 });
    expect(two.timeZone).toBe('America/New_York');
    expect(two.days).toBe(2);
    expect(two.total).toBe(3);
    expect(two.stillOpen).toBe(1);
    // The hours, in New York time, of the three drops inside the window.
    const hourOf = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      hourCycle: 'h23',
    });
    const expected = Array.from({ length: 24 }, () => 0);
    for (const at of opened.slice(0, 3)) expected[Number(hourOf.format(at)) % 24]! += 1;
    expect(two.openedByHour).toEqual(expected);
    // Closed drops only: 30 s (< 1 min) and 10 min (5–15 min); the 2 h one is outside 2 days.
    expect(two.openDurations.map((x) => x.upToSeconds)).toEqual([60, 300, 900, 3600, 10800, 43200, null]);
    expect(two.openDurations.map((x) => x.drops)).toEqual([1, 0, 1, 0, 0, 0, 0]);
    // The list is not limited to the window: every drop, newest first.
    expect(two.drops.map((d) => d.openedAt.getTime())).toEqual(opened.map((d) => d.getTime()));
    expect(two.drops[0]!.closedAt).toBeNull();

    const all = await c.venues.history.query({ venueId: 'resy:10' });
    expect(all.days).toBe(14);
    expect(all.total).toBe(4);
    expect(all.openDurations.map((x) => x.drops)).toEqual([1, 0, 1, 0, 1, 0, 0]);
    const limited = await c.venues.history.query({ venueId: 'resy:10', limit: 2 });
    expect(limited.drops).toHaveLength(2);
    expect(limited.total).toBe(4);
  });

  it('a venue without drops has empty counts; an unknown one is NOT_FOUND; bad bounds are BAD_REQUEST', async () => {
    const c = h.client();
    const quiet = await c.venues.history.query({ venueId: 'resy:11' });
    expect(quiet.total).toBe(0);
    expect(quiet.drops).toEqual([]);
    expect(quiet.openedByHour.every((n) => n === 0)).toBe(true);
    await expect(c.venues.history.query({ venueId: 'resy:999' })).rejects.toMatchObject({
      data: { code: 'NOT_FOUND' },
    });
    await expect(c.venues.history.query({ venueId: 'resy:10', days: 0 })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
    });
    await expect(c.venues.history.query({ venueId: 'resy:10', limit: 501 })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
    });
  });
});
