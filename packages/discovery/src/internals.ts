/**
 * `@dropwatch/discovery/internals`: the parts of discovery that only its benchmarks and tests
 * drive directly — the round-robin tick the continuous poller replaced (kept as the reference the
 * detection and tick benchmarks measure against), the bucket transaction's steps, and the
 * provider's request budget, how replicas split buckets and show they live, and the scheduler's bucket score
 * (the schedule model drives it without a network). Production code imports the package root, which does not export them.
 */
export {
  runDiscoveryTick,
  DUE_BUCKETS_LIMIT,
  type DiscoveryTickOptions,
  type DiscoveryTickStats,
} from './tick/run-tick.js';
export { VenueCache } from './tick/venue-writes.js';
export { prepareSnapshot, type PreparedSnapshot, type PreparedSlot } from './tick/prepared-snapshot.js';
export { applySnapshot, type ApplyOutcome, type BucketToApply } from './tick/apply-snapshot.js';
export { RequestBudget, type BudgetLane } from './budget/request-budget.js';
export { hourFilters } from './providers/resy/resy-provider.js';
export { ownerOf, workerSessionName, WORKER_LEASE_PREFIX } from './poller/replica-set.js';
export {
  bucketScore,
  DROP_LIFE_SECONDS,
  isStarvingScore,
  StarvingShare,
  type BucketView,
} from './poller/bucket-priority.js';
