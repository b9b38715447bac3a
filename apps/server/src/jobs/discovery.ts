import { isMainThread } from 'node:worker_threads';
import { runDiscoveryLoop } from '../job-loops/discovery-loop.js';
import { runLoops } from '../job-loops/run-loops.js';

/**
 * Bree job `discovery`, for a process that schedules discovery without notify: one long-lived
 * worker (started once, restarted if it dies) running the discovery loop until 'cancel'. With
 * notify beside it, the scheduler runs `discovery-notify` instead (one thread for both).
 */
if (!isMainThread) await runLoops('discovery', [runDiscoveryLoop]);
