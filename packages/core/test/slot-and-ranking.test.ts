import { describe, expect, it } from 'vitest';
import { compareForBoard, rarity, rarityLabel, slotId, slotKey } from '../src/index.js';

describe('slot fingerprint', () => {
  it('is 32 hex chars of sha256(provider|venue|start), party size not part of it', () => {
    const id = slotId('resy', 'resy:60029', '2026-11-28 20:30:00');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(slotId('resy', 'resy:60029', '2026-11-28 20:30:00')).toBe(id);
    expect(slotId('resy', 'resy:60029', '2026-11-28 20:45:00')).not.toBe(id);
    expect(slotId('resy', 'resy:60030', '2026-11-28 20:30:00')).not.toBe(id);
  });

  it('derives a signed 64-bit key from the first 16 hex chars', () => {
    expect(slotKey('ffffffffffffffff0000000000000000')).toBe(-1n);
    expect(slotKey('7fffffffffffffff0000000000000000')).toBe(9223372036854775807n);
    expect(slotKey('0000000000000001ffffffffffffffff')).toBe(1n);
  });
});

describe('rarity', () => {
  it('is 100 for a venue that never drops and falls with drops per day', () => {
    expect(rarity(0)).toBe(100);
    expect(rarity(14)).toBe(50); // one a day
    expect(rarity(28)).toBeCloseTo(33.33, 2);
    expect(rarity(7)).toBeCloseTo(66.67, 2);
  });

  it('labels', () => {
    expect(rarityLabel(rarity(0))).toBe('rare');
    expect(rarityLabel(rarity(7))).toBe('rare');
    expect(rarityLabel(rarity(14))).toBe('uncommon');
    expect(rarityLabel(rarity(28))).toBe('common');
  });

  it('orders the board by rarity, then freshness, then name', () => {
    const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);
    const drops = [
      { venueName: 'b', rarity: 50, openedAt: t(1) },
      { venueName: 'a', rarity: 50, openedAt: t(1) },
      { venueName: 'c', rarity: 50, openedAt: t(5) },
      { venueName: 'd', rarity: 90, openedAt: t(0) },
    ];
    expect([...drops].sort(compareForBoard).map((d) => d.venueName)).toEqual(['d', 'c', 'a', 'b']);
  });
});
