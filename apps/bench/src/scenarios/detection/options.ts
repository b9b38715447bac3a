/** The detection scenario's knobs, all from BENCH_DETECTION_* (the bench reads its own environment). */
export interface DetectionOptions {
  /** Market sizes, one comparison each. */
  readonly sizes: readonly number[];
  readonly variants: readonly VariantName[];
  /** Measured seconds after calibration. */
  readonly seconds: number;
  /** RESY_MAX_RPS of each variant's provider. */
  readonly rps: number;
  /** Hard-to-book venues a user watches (the new poller's fast lane). */
  readonly watched: number;
  /** Share of search calls the fake answers with an empty page. */
  readonly emptyShare: number;
  /** Upper bound on the calibration phase. */
  readonly calibrationMaxSeconds: number;
  readonly seed: number;
  readonly logLevel: 'warn' | 'error' | 'silent' | 'info';
  /**
   * A directory to write, per variant and size, every search the fake answered (JSON lines) and
   * the false drops and closes with the market's ground truth, to find out why they happened.
   */
  readonly dumpDir: string | undefined;
}

export const VARIANT_NAMES = ['old', 'new'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

export function readDetectionOptions(env: Readonly<Record<string, string | undefined>>): DetectionOptions {
  const num = (name: string, def: number, ok: (n: number) => boolean): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`${name}: invalid value ${raw}`);
    return n;
  };
  const sizes = (env.BENCH_DETECTION_VENUES ?? '300,2000').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 10 || n > 100_000)) {
    throw new Error(`BENCH_DETECTION_VENUES: expected integers 10–100000, got ${env.BENCH_DETECTION_VENUES}`);
  }
  const variants = (env.BENCH_DETECTION_VARIANTS ?? 'old,new').split(',').map((v) => v.trim());
  const unknown = variants.filter((v) => !(VARIANT_NAMES as readonly string[]).includes(v));
  if (unknown.length > 0 || variants.length === 0)
    throw new Error(`BENCH_DETECTION_VARIANTS: expected old and/or new, got ${env.BENCH_DETECTION_VARIANTS}`);
  const logLevel = env.BENCH_DETECTION_LOG_LEVEL ?? 'warn';
  if (!['warn', 'error', 'silent', 'info'].includes(logLevel))
    throw new Error(`BENCH_DETECTION_LOG_LEVEL: ${logLevel}`);
  return {
    sizes,
    variants: [...new Set(variants)] as VariantName[],
    seconds: num('BENCH_DETECTION_SECONDS', 300, (n) => n >= 10 && n <= 7_200),
    rps: num('BENCH_DETECTION_RPS', 10, (n) => n >= 0.1 && n <= 100),
    watched: num('BENCH_DETECTION_WATCHED', 10, (n) => Number.isInteger(n) && n >= 0 && n <= 1_000),
    emptyShare: num('BENCH_DETECTION_EMPTY_SHARE', 1 / 7, (n) => n >= 0 && n < 1),
    calibrationMaxSeconds: num('BENCH_DETECTION_CALIBRATION_MAX_SECONDS', 600, (n) => n >= 10 && n <= 3_600),
    seed: num('BENCH_DETECTION_SEED', 1, Number.isInteger),
    logLevel: logLevel as DetectionOptions['logLevel'],
    dumpDir: env.BENCH_DETECTION_DUMP?.trim() || undefined,
  };
}
