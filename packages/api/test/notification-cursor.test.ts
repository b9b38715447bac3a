import { describe, expect, it } from 'vitest';
import {
  decodeNotificationCursor,
  encodeNotificationCursor,
  listInput,
  markReadInput,
} from '../src/routers/notifications.schemas.js';
import { watchAddInput } from '../src/routers/watches.schemas.js';

describe('notifications.list cursor', () => {
  it('round-trips (created_at with microseconds, id) and refuses anything else', () => {
    const c = { createdAt: '2026-11-28T20:30:01.123456Z', id: '42' };
    expect(decodeNotificationCursor(encodeNotificationCursor(c))).toEqual(c);
    const bad = [
      '',
      '!!',
      Buffer.from('2026-11-28T20:30:01Z|42').toString('base64url'),
      Buffer.from(`${c.createdAt}|0`).toString('base64url'),
      Buffer.from(`${c.createdAt}|-1`).toString('base64url'),
      Buffer.from(`${c.createdAt}|1|2`).toString('base64url'),
    ];
    for (const s of bad) expect(decodeNotificationCursor(s), s).toBeNull();
    expect(listInput.safeParse({ cursor: 'nope' }).success).toBe(false);
    expect(listInput.safeParse({ limit: 101 }).success).toBe(false);
    expect(listInput.parse(undefined)).toEqual({ unreadOnly: false, limit: 50 });
  });

  it('markRead ids are bounded decimal ids', () => {
    expect(markReadInput.safeParse({ ids: [] }).success).toBe(false);
    expect(markReadInput.safeParse({ ids: ['1', '99'] }).success).toBe(true);
    expect(markReadInput.safeParse({ ids: ['1; drop table'] }).success).toBe(false);
    expect(markReadInput.safeParse({ ids: Array.from({ length: 501 }, (_, i) => String(i + 1)) }).success).toBe(false);
  });

  it('a watch names exactly one venue key, with sane ranges', () => {
    expect(watchAddInput.safeParse({ venueId: 'resy:60029' }).success).toBe(true);
    expect(
      watchAddInput.safeParse({ venueName: 'Carbone', partySize: 4, timeFrom: '18:00', timeTo: '21:30' }).success,
    ).toBe(true);
    expect(watchAddInput.safeParse({}).success).toBe(false);
    expect(watchAddInput.safeParse({ venueId: 'resy:1', venueName: 'x' }).success).toBe(false);
    expect(watchAddInput.safeParse({ venueId: 'resy:1', partySize: 0 }).success).toBe(false);
    expect(watchAddInput.safeParse({ venueId: 'resy:1', timeFrom: '22:00', timeTo: '21:00' }).success).toBe(false);
    expect(watchAddInput.safeParse({ venueId: 'resy:1', market: 'atlantis' }).success).toBe(false);
  });
});
