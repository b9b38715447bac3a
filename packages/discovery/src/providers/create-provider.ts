import type { Config } from '@dropwatch/core';
import type { Logger } from 'pino';
import type { Provider } from './provider.js';
import { ResyProvider } from './resy/resy-provider.js';
import { SimulatedProvider } from './simulated/simulated-provider.js';

/** One step of the simulated market: polls within a step see the same snapshot. */
export const SIM_STEP_MS = 30_000;

/** The real Resy client when RESY_API_KEY is set, else the simulated market. */
export function createProvider(config: Config, logger?: Logger): Provider {
  if (config.RESY_API_KEY) {
    return new ResyProvider({
      baseUrl: config.RESY_BASE_URL,
      apiKey: config.RESY_API_KEY,
      authToken: config.RESY_AUTH_TOKEN,
      perPage: config.RESY_PER_PAGE,
      maxPages: config.RESY_MAX_PAGES,
      maxRps: config.RESY_MAX_RPS,
      timeoutMs: config.RESY_TIMEOUT_MS,
      fastLaneShare: config.DISCOVERY_FAST_LANE_SHARE,
      logger: logger?.child({ provider: 'resy' }),
    });
  }
  return new SimulatedProvider({
    seed: config.SIM_SEED,
    venues: config.SIM_VENUES,
    slotsPerBucket: config.SIM_SLOTS_PER_BUCKET,
    churn: config.SIM_CHURN,
    stepMs: SIM_STEP_MS,
    maxRps: config.RESY_MAX_RPS,
  });
}
