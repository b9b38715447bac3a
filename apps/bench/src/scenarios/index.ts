import type { Scenario } from '../harness.js';
import { bucketHealthScenario } from './bucket-health.js';
import { detectionScenario } from './detection.js';
import { ensureBucketsScenario } from './ensure-buckets.js';
import { fanoutScenario } from './fanout.js';
import { fanoutChannelsScenario } from './fanout-channels.js';
import { feedReadsScenario } from './feed-reads.js';
import { httpScenario } from './http.js';
import { idleScenario } from './idle.js';
import { pruneScenario } from './prune.js';
import { scheduleModelScenario } from './schedule-model.js';
import { tickScenario } from './tick.js';
import { watchesCrudScenario } from './watches-crud.js';

/** Every scenario `npm run bench` knows, in the order it runs them. */
export const SCENARIOS: Scenario[] = [
  ensureBucketsScenario,
  bucketHealthScenario,
  pruneScenario,
  tickScenario,
  feedReadsScenario,
  watchesCrudScenario,
  httpScenario,
  fanoutScenario,
  fanoutChannelsScenario,
  scheduleModelScenario,
  detectionScenario,
  idleScenario,
];
