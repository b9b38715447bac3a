import { describe, expect, it } from 'vitest';
import { bucketId, bucketWindow, parseBucketId, windowDates, zonedToUtc, localDate } from '../src/index.js';

describe('bucketWindow', () => {
  it('makes 14 × 2 = 28 buckets ordered by date then time, ids sortable', () => {
    const now = new Date('2026-11-28T15:00:00Z');
    const ids = bucketWindow('nyc', now, 14, ['20:30', '15:00']).map(bucketId);
    expect(ids).toHaveLength(28);
    expect(ids[0]).toBe('nyc_2026-11-28_15:00');
    expect(ids[1]).toBe('nyc_2026-11-28_20:30');
    expect(ids[27]).toBe('nyc_2026-12-11_20:30');
    expect([...ids].sort()).toEqual(ids);
  });

  it("uses the market's own midnight, not UTC's", () => {
    // 03:30 UTC on the 29th is still the 28th in New York (UTC-5) and Los Angeles (UTC-8).
    const now = new Date('2026-11-29T03:30:00Z');
    expect(windowDates('nyc', now, 1)).toEqual(['2026-11-28']);
    expect(windowDates('la', now, 1)).toEqual(['2026-11-28']);
    // 06:00 UTC: New York has passed midnight, Los Angeles has not.
    const later = new Date('2026-11-29T06:00:00Z');
    expect(windowDates('nyc', later, 1)).toEqual(['2026-11-29']);
    expect(windowDates('sf', later, 1)).toEqual(['2026-11-28']);
  });

  it('keeps whole calendar days across DST changes', () => {
    // US DST ends 2026-11-01 and starts 2026-03-08.
    const autumn = bucketWindow('nyc', new Date('2026-10-31T12:00:00Z'), 3, ['20:30']).map((b) => b.date);
    expect(autumn).toEqual(['2026-10-31', '2026-11-01', '2026-11-02']);
    const spring = bucketWindow('la', new Date('2026-03-07T20:00:00Z'), 3, ['15:00']).map((b) => b.date);
    expect(spring).toEqual(['2026-03-07', '2026-03-08', '2026-03-09']);
  });

  it('rolls over the month and year', () => {
    const dates = windowDates('chi', new Date('2026-12-25T18:00:00Z'), 14);
    expect(dates[6]).toBe('2026-12-31');
    expect(dates[7]).toBe('2027-01-01');
  });
});

describe('zonedToUtc', () => {
  it('converts local wall time with the offset of that date', () => {
    expect(zonedToUtc('2026-07-01', '20:30', 'America/New_York').toISOString()).toBe('2026-07-02T00:30:00.000Z');
    expect(zonedToUtc('2026-12-01', '20:30', 'America/New_York').toISOString()).toBe('2026-12-02T01:30:00.000Z');
    expect(zonedToUtc('2026-12-01', '20:30', 'America/Los_Angeles').toISOString()).toBe('2026-12-02T04:30:00.000Z');
  });

  it('maps a time inside the spring-forward gap past the gap', () => {
    const t = zonedToUtc('2026-03-08', '02:30', 'America/New_York');
    expect(localDate(t, 'America/New_York')).toBe('2026-03-08');
    expect(t.toISOString()).toBe('2026-03-08T07:30:00.000Z');
  });
});

describe('parseBucketId', () => {
  it('round-trips an id', () => {
    expect(parseBucketId('nyc_2026-11-28_20:30')).toEqual({ market: 'nyc', date: '2026-11-28', timeSlot: '20:30' });
    expect(bucketId(parseBucketId('sf_2027-01-01_15:00'))).toBe('sf_2027-01-01_15:00');
  });

  it.each([
    ['', 'empty'],
    ['nyc_2026-11-28', 'no time'],
    ['nyc_2026-11-28_24:00', 'hour 24'],
    ['nyc_2026-02-30_20:30', 'no such date'],
    ['xyz_2026-11-28_20:30', 'unknown market'],
    ['nyc_2026-11-28_20:30 ', 'trailing space'],
    ['NYC_2026-11-28_20:30', 'upper case'],
    ['nyc_26-11-28_20:30', 'short year'],
  ])('rejects %j (%s)', (id) => {
    expect(() => parseBucketId(id)).toThrow(/invalid bucket id/);
  });
});
