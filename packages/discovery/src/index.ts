export * from './job-leases.js';
export * from './job-runs.js';
export * from './providers/provider.js';
export { RequestBudget, type BudgetLane } from './budget/request-budget.js';
export * from './providers/create-provider.js';
export { SimulatedProvider, SIM_PROVIDER_NAME, type SimulatedMarketOptions } from './providers/simulated/simulated-provider.js';
export { ResyProvider, RESY_PROVIDER_NAME, hourFilters, type ResyProviderOptions } from './providers/resy/resy-provider.js';
export { parseRetryAfter, RESY_MAX_TRIES } from './providers/resy/resy-http.js';
export * from './retention/index.js';
export { runDiscoveryTick, DUE_BUCKETS_LIMIT, type DiscoveryTickOptions, type DiscoveryTickStats } from './tick/run-tick.js';
export {
  DROPS_CHANNEL,
  FEED_BOARD_CAP,
  FEED_JUST_OPENED_MINUTES,
  FEED_PAYLOAD_MAX_BYTES,
  feedCacheKey,
  buildFeedPayload,
  type FeedCacheDrop,
  type FeedCachePayload,
} from './tick/feed-cache.js';
export { VenueCache } from './tick/venue-writes.js';
export { prepareSnapshot, PRIME_TIME_FROM, PRIME_TIME_TO, type PreparedSnapshot, type PreparedSlot } from './tick/prepared-snapshot.js';
export { applySnapshot, type ApplyOutcome, type BucketToApply } from './tick/apply-snapshot.js';
export { SUSPECT_MIN_PREV, SUSPECT_SHRINK_RATIO } from './suspect-rules.js';
export { withPgConnection, type PgClient } from './tick/pg-session.js';
export * from './drop-cursor/index.js';
export * from './notify/index.js';
export * from './webhooks/index.js';
export { runPoller, type PollEvent, type PollerOptions, type PollerStats } from './poller/run-poller.js';
