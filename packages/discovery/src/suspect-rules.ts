/**
 * When an answer is suspect (too small to be believed at once): used for a whole bucket's
 * snapshot by the diff and for each single search call by the Resy provider's call guard.
 * An answer under this share of the last one is suspect …
 */
export const SUSPECT_SHRINK_RATIO = 0.1;
/** … when the last one had at least this many slots. An empty answer after a non-empty one always is. */
export const SUSPECT_MIN_PREV = 20;

/** Whether an answer of `count` slots after one of `lastCount` is suspect by the rules above. */
export function collapsed(lastCount: number, count: number): boolean {
  return lastCount > 0 && (count === 0 || (lastCount >= SUSPECT_MIN_PREV && count < lastCount * SUSPECT_SHRINK_RATIO));
}
