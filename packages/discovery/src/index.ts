export * from './job-leases.js';
export * from './job-runs.js';
export * from './discovery-run-stats.js';
export * from './providers/provider.js';
export * from './providers/create-provider.js';
export {
  SimulatedProvider,
  SIM_PROVIDER_NAME,
  type SimulatedMarketOptions,
} from './providers/simulated/simulated-provider.js';
export { ResyProvider, RESY_PROVIDER_NAME, type ResyProviderOptions } from './providers/resy/resy-provider.js';
export * from './retention/index.js';
export * from './notify/index.js';
export * from './delivery/index.js';
export { runPoller, type PollEvent, type PollerOptions, type PollerStats } from './poller/run-poller.js';
