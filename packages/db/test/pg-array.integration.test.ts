import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../src/testing/index.js';
import { pgArray } from '../src/index.js';

const t = useTestDatabase();

describe('pgArray', () => {
  it('round-trips awkward strings, numbers and nulls through a bound parameter', async () => {
    const texts = ['plain', 'with,comma', 'quote"d', 'back\\slash', '{braces}', '', 'NULL', 'spa ce', 'üñï'];
    const [row] = await t.orm.em
      .fork()
      .execute<{ t: string[]; n: string[]; x: (number | null)[] }[]>(
        'select ?::text[] as t, ?::bigint[]::text[] as n, ?::int[] as x',
        [pgArray(texts), pgArray([1n, -9223372036854775808n]), pgArray([1, null, 3])],
      );
    expect(row!.t).toEqual(texts);
    expect(row!.n).toEqual(['1', '-9223372036854775808']);
    expect(row!.x).toEqual([1, null, 3]);
  });
});
