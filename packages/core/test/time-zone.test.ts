import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import { zonedToUtc } from '../src/index.js';

/**
 * zonedToUtc against Temporal's 'compatible' disambiguation (a gap maps to the instant after it,
 * a repeated time to its first occurrence), which is what zonedToUtc promises. Checked on every
 * wall time in 15-minute steps (Chatham's offsets are :45) within three hours of each DST change,
 * in zones from UTC-10 to UTC+14, and on a fixed pseudo-random sample of ordinary days.
 */
const ZONES = [
  'Pacific/Chatham',
  'Pacific/Apia',
  'Pacific/Auckland',
  'Pacific/Tongatapu',
  'Pacific/Kiritimati',
  'Australia/Lord_Howe',
  'Australia/Sydney',
  'Asia/Tehran',
  'Europe/London',
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns',
  'America/Santiago',
  'Pacific/Honolulu',
];
const FROM = Temporal.Instant.from('2009-01-01T00:00:00Z');
const UNTIL = Temporal.Instant.from('2027-01-01T00:00:00Z');
const STEP_MIN = 15;
const AROUND_MIN = 180;

const pad = (n: number) => String(n).padStart(2, '0');

function reference(wall: Temporal.PlainDateTime, zone: string): number {
  return wall.toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds;
}

function check(wall: Temporal.PlainDateTime, zone: string, mismatches: string[]): void {
  const date = wall.toPlainDate().toString();
  const time = `${pad(wall.hour)}:${pad(wall.minute)}:00`;
  const got = zonedToUtc(date, time, zone).getTime();
  const want = reference(wall, zone);
  if (got !== want)
    mismatches.push(
      `${zone} ${date} ${time}: got ${new Date(got).toISOString()}, want ${new Date(want).toISOString()}`,
    );
}

describe('zonedToUtc matches Temporal', () => {
  it('around every DST change 2009–2026 in zones from UTC-10 to UTC+14', () => {
    const mismatches: string[] = [];
    let transitions = 0;
    for (const zone of ZONES) {
      let zdt: Temporal.ZonedDateTime | null = FROM.toZonedDateTimeISO(zone);
      // Bounded: at most a few transitions a year per zone.
      for (let guard = 0; guard < 100; guard++) {
        zdt = zdt.getTimeZoneTransition('next');
        if (!zdt || Temporal.Instant.compare(zdt.toInstant(), UNTIL) >= 0) break;
        transitions++;
        const before = zdt.subtract({ nanoseconds: 1 }).toPlainDateTime();
        const start = before.round({ smallestUnit: 'minute', roundingIncrement: STEP_MIN, roundingMode: 'floor' });
        for (let m = -AROUND_MIN; m <= AROUND_MIN; m += STEP_MIN) check(start.add({ minutes: m }), zone, mismatches);
      }
    }
    expect(transitions).toBeGreaterThan(200);
    expect(mismatches).toEqual([]);
  });

  it('on a fixed pseudo-random sample of wall times', () => {
    let seed = 12;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const mismatches: string[] = [];
    const span = UNTIL.epochMilliseconds - FROM.epochMilliseconds;
    for (let i = 0; i < 3_000; i++) {
      const zone = ZONES[Math.floor(next() * ZONES.length)] ?? 'UTC';
      const instant = Temporal.Instant.fromEpochMilliseconds(FROM.epochMilliseconds + Math.floor(next() * span));
      const wall = instant.toZonedDateTimeISO('UTC').toPlainDateTime().round({ smallestUnit: 'minute' });
      check(wall, zone, mismatches);
    }
    expect(mismatches).toEqual([]);
  });
});
