import { describe, expect, it } from 'vitest';
import {
  compareCursors,
  cursorBelowXmin,
  cursorInput,
  decodeCursor,
  encodeCursor,
  MAX_ID,
} from '../src/drops/cursor.js';

describe('drop cursor', () => {
  it('round-trips (tx_id, id), including 64-bit extremes', () => {
    for (const c of [
      { txId: 0n, id: 0n },
      { txId: 1234n, id: 99n },
      { txId: (1n << 64n) - 1n, id: MAX_ID },
    ]) {
      expect(decodeCursor(encodeCursor(c))).toEqual(c);
    }
  });

  it('refuses what this server did not make', () => {
    const bad = [
      '',
      '!!!',
      'abc',
      Buffer.from('12').toString('base64url'),
      Buffer.from('1:2:3').toString('base64url'),
      Buffer.from('-1:2').toString('base64url'),
      Buffer.from(`${1n << 64n}:1`).toString('base64url'),
      Buffer.from(`1:${1n << 63n}`).toString('base64url'),
      Buffer.from('01:2').toString('base64url'),
      'x'.repeat(100),
    ];
    for (const s of bad) expect(decodeCursor(s), s).toBeNull();
    expect(cursorInput.safeParse('nope').success).toBe(false);
  });

  it('the below-xmin cursor sorts after every row of older transactions and before the xmin one', () => {
    const floor = cursorBelowXmin(100n);
    expect(compareCursors(floor, { txId: 99n, id: 5_000_000n })).toBe(1);
    expect(compareCursors(floor, { txId: 100n, id: 1n })).toBe(-1);
  });
});
