import { describe, expect, it } from 'vitest';
import { compareVariants, formatTable, type ResultRow } from '../src/harness.js';
import { median, p99, quantile } from '../src/stats.js';

describe('stats', () => {
  it('uses nearest-rank quantiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted input
    expect(median(xs)).toBe(50);
    expect(p99(xs)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('compareVariants', () => {
  it('interleaves and rotates variants after the warm-up and reports medians, extras and the ratio to the first', async () => {
    const order: string[] = [];
    const results: ResultRow[] = [];
    let n = 0;
    await compareVariants(
      'demo',
      {
        case: 'tiny',
        rounds: 3,
        warmup: 1,
        variants: [
          { name: 'A', run: () => (order.push('A'), Promise.resolve({ rows: 10 })) },
          { name: 'B', run: () => (order.push('B'), Promise.resolve({ rows: ++n })) },
        ],
      },
      { rounds: 99, warmup: 99 },
      results,
    );
    expect(order).toEqual(['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']);
    expect(results.map((r) => [r.variant, r.runs, r.metrics.rows])).toEqual([
      ['A', 3, 10],
      ['B', 3, 3], // rows 2, 3, 4 after the warm-up's 1
    ]);
    expect(results[0]!.ratio).toBe(1);
    expect(results[1]!.ratio).toBeGreaterThan(0);
    const table = formatTable(results);
    expect(table).toContain('demo');
    expect(table.split('\n')).toHaveLength(4);
  });
});
