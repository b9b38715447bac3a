import type { Config } from '@dropwatch/core';
import type { Logger } from 'pino';
import type { Provider } from './provider.js';
import { ResyProvider } from './resy/resy-provider.js';
import { SimulatedProvider } from './simulated/simulated-provider.js';

/** The real Resy client when RESY_API_KEY is set, else the simulated market (DESIGN §1). */
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
      logger: logger?.child({ provider: 'resy' }),
    });
  }
  return new SimulatedProvider({
    seed: config.SIM_SEED,
    venues: config.SIM_VENUES,
    slotsPerBucket: config.SIM_SLOTS_PER_BUCKET,
    churn: config.SIM_CHURN,
    // One market step per bucket cooldown: each poll of a bucket sees about SIM_CHURN of change.
    stepMs: config.DISCOVERY_BUCKET_COOLDOWN_SECONDS * 1000,
  });
}
