import { isMainThread } from 'node:worker_threads';
import { runNotifyLoop } from '../job-loops/notify-loop.js';
import { runLoops } from '../job-loops/run-loops.js';

/**
 * Bree job `notify`, for a process that schedules notify without discovery: one long-lived worker
 * (started once, restarted if it dies) running the notify loop until 'cancel'. With discovery
 * beside it, the scheduler runs `discovery-notify` instead (one thread for both).
 */
if (!isMainThread) await runLoops('notify', [runNotifyLoop]);
