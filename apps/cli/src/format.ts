import type { DropDto } from '@dropwatch/client';
import { paint, type Output } from './output.js';

const pad2 = (n: number) => String(n).padStart(2, '0');

/** A moment in the local time zone of whoever reads the terminal: 2025-06-01 19:04:05. */
export function localTime(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The slot's own (venue-local) date with its weekday: the date is a calendar date, not a moment. */
export function slotDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? date : `${WEEKDAYS[d.getUTCDay()]} ${date}`;
}

const partyText = (sizes: readonly number[]) => (sizes.length ? `party ${sizes.join(',')}` : 'party ?');

/** One drop on one line: when it opened, where, for when, for how many, and where to book. */
export function dropLine(out: Output, d: DropDto): string {
  const venue = d.venue.neighborhood ? `${d.venue.name} (${d.venue.neighborhood})` : d.venue.name;
  return [
    paint(out, 'dim', localTime(d.openedAt)),
    paint(out, 'bold', venue),
    `${slotDay(d.slotDate)} ${d.slotTime}`,
    partyText(d.partySizes),
    d.venue.bookingUrl ? paint(out, 'cyan', d.venue.bookingUrl) : paint(out, 'dim', '(no booking link)'),
  ].join('  ');
}
