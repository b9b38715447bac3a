/**
 * Stateless randomness for the fake market: every draw is a hash of integers (seed, kind, …),
 * so any part of the market can be computed at any instant without replaying a generator.
 */

/** A 32-bit avalanche mix of the integer parts (murmur3's finalizer over a running combine). */
export function hash32(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Split into two 32-bit halves so integers up to 2^53 (step indexes, ids) keep all their bits.
    const lo = part >>> 0;
    const hi = Math.floor(part / 4_294_967_296) >>> 0;
    for (const word of [lo, hi]) {
      let k = Math.imul(word, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform draw in [0, 1). */
export function unit(...parts: readonly number[]): number {
  return hash32(...parts) / 4_294_967_296;
}

/** A uniform integer in [lo, hi]. */
export function intIn(lo: number, hi: number, ...parts: readonly number[]): number {
  return lo + Math.floor(unit(...parts) * (hi - lo + 1));
}

/** A standard normal draw (Box–Muller over two hashed uniforms). */
export function normal(...parts: readonly number[]): number {
  const u = Math.max(unit(...parts, 1), 1e-12);
  const v = unit(...parts, 2);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A Poisson count of mean `lambda` by inversion of one hashed uniform (lambda up to a few dozen). */
export function poisson(lambda: number, ...parts: readonly number[]): number {
  const u = unit(...parts);
  let k = 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  while (u >= cdf && k < 1_000) {
    k += 1;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

/** Index into cumulative weights (ascending, last = total) for a uniform u in [0, 1). */
export function pickWeighted(cumulative: readonly number[], u: number): number {
  const target = u * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Running sums of the weights. */
export function cumulate(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}
