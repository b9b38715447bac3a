import { performance } from 'node:perf_hooks';
import type { MikroORM } from '@dropwatch/db';
import { median, p99 } from './stats.js';

export interface VariantSpec {
  readonly name: string;
  /** One measured run; may return extra metrics (rows written, WAL bytes, …) aggregated by median. */
  readonly run: () => Promise<Record<string, number> | void>;
}

export interface CompareSpec {
  /** The input size or shape this comparison is about, e.g. "1 market". */
  readonly case: string;
  /** The first variant is the reference of the ratio column. */
  readonly variants: readonly VariantSpec[];
  readonly rounds?: number;
  readonly warmup?: number;
}

export interface ResultRow {
  readonly scenario: string;
  readonly case: string;
  readonly variant: string;
  /** Milliseconds, when timed by compare(). */
  readonly medianMs?: number;
  readonly p99Ms?: number;
  /** This variant's median time divided by the first variant's. */
  readonly ratio?: number;
  readonly runs?: number;
  readonly metrics: Record<string, number>;
}

export interface BenchContext {
  readonly adminUrl: string;
  /** A fresh migrated scratch database for this scenario. */
  readonly databaseUrl: string;
  readonly orm: MikroORM;
  readonly rounds: number;
  readonly warmup: number;
  compare(spec: CompareSpec): Promise<void>;
  record(row: { case: string; variant: string; metrics: Record<string, number> }): void;
  log(message: string): void;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<void>;
}

/**
 * Runs the variants interleaved and rotated (A B C, B C A, …) so drift of a noisy machine hits all of them alike,
 * after `warmup` unmeasured rounds, and appends one row per variant to `results`.
 */
export async function compareVariants(
  scenario: string,
  spec: CompareSpec,
  defaults: { rounds: number; warmup: number },
  results: ResultRow[],
): Promise<void> {
  const rounds = spec.rounds ?? defaults.rounds;
  const warmup = spec.warmup ?? defaults.warmup;
  const times = spec.variants.map(() => [] as number[]);
  const extras = spec.variants.map(() => new Map<string, number[]>());
  const n = spec.variants.length;
  for (let round = 0; round < warmup + rounds; round++) {
    // Each round starts with the next variant, so none always runs first (cold caches, GC debt).
    for (let k = 0; k < n; k++) {
      const i = (round + k) % n;
      const variant = spec.variants[i]!;
      const start = performance.now();
      const metrics = await variant.run();
      const elapsed = performance.now() - start;
      if (round < warmup) continue;
      times[i]!.push(elapsed);
      for (const [k, v] of Object.entries(metrics ?? {})) {
        const list = extras[i]!.get(k) ?? [];
        list.push(v);
        extras[i]!.set(k, list);
      }
    }
  }
  const reference = median(times[0]!);
  for (const [i, variant] of spec.variants.entries()) {
    const m = median(times[i]!);
    results.push({
      scenario,
      case: spec.case,
      variant: variant.name,
      medianMs: m,
      p99Ms: p99(times[i]!),
      ratio: m / reference,
      runs: times[i]!.length,
      metrics: Object.fromEntries([...extras[i]!].map(([k, v]) => [k, median(v)])),
    });
  }
}

const fmt = (n: number | undefined, digits = 2) =>
  n === undefined || Number.isNaN(n) ? '' : Math.abs(n) >= 1000 ? n.toFixed(0) : n.toFixed(digits);

/** A plain-text table: one line per variant, grouped by scenario and case. */
export function formatTable(rows: readonly ResultRow[]): string {
  const header = ['scenario', 'case', 'variant', 'median ms', 'p99 ms', 'ratio (vs first)', 'metrics'];
  const body = rows.map((r) => [
    r.scenario,
    r.case,
    r.variant,
    fmt(r.medianMs, 3),
    fmt(r.p99Ms, 3),
    r.ratio === undefined ? '' : `${fmt(r.ratio, 3)}×`,
    Object.entries(r.metrics)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
