export * from './job-leases.js';
export * from './job-runs.js';
export * from './providers/provider.js';
export * from './providers/create-provider.js';
export { SimulatedProvider, SIM_PROVIDER_NAME, type SimulatedMarketOptions } from './providers/simulated/simulated-provider.js';
export { ResyProvider, RESY_PROVIDER_NAME, hourFilters, type ResyProviderOptions } from './providers/resy/resy-provider.js';
export { parseRetryAfter, RESY_MAX_TRIES } from './providers/resy/resy-http.js';
export * from './retention/index.js';
