import Bottleneck from 'bottleneck';

const limiters = new Map<number, Bottleneck>();

/**
 * The process-wide limit on Resy requests: every bucket of every tick in this process shares
 * one limiter per configured rate, so concurrent polls cannot exceed RESY_MAX_RPS together.
 */
export function resyRateLimiter(maxRps: number): Bottleneck {
  let limiter = limiters.get(maxRps);
  if (!limiter) {
    limiter = new Bottleneck({ minTime: Math.ceil(1000 / maxRps), maxConcurrent: null });
    limiters.set(maxRps, limiter);
  }
  return limiter;
}
