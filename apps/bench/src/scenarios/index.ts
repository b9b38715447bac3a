import type { Scenario } from '../harness.js';
import { bucketHealthScenario } from './bucket-health.js';
import { ensureBucketsScenario } from './ensure-buckets.js';
import { feedReadsScenario } from './feed-reads.js';
import { httpScenario } from './http.js';
import { pruneScenario } from './prune.js';

/** Every scenario `npm run bench` knows, in the order it runs them. */
export const SCENARIOS: Scenario[] = [ensureBucketsScenario, bucketHealthScenario, pruneScenario, feedReadsScenario, httpScenario];
