import { isMainThread } from 'node:worker_threads';
import { runDiscoveryLoop } from '../job-loops/discovery-loop.js';
import { runNotifyLoop } from '../job-loops/notify-loop.js';
import { runLoops } from '../job-loops/run-loops.js';

/**
 * Bree job `discovery-notify`: the poller and the notifier in ONE long-lived worker thread, each
 * with its own ORM and connections. Every worker thread is a V8 isolate of its own that loads the
 * whole module graph (MikroORM and the discovery package) and keeps its own heap; sharing one
 * saves that a second time (see docs/architecture.md, "Threads and memory"). One loop failing
 * restarts both.
 */
if (!isMainThread) await runLoops('discovery-notify', [runDiscoveryLoop, runNotifyLoop]);
