import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getMarket, type Config } from '@dropwatch/core';
import type Bree from 'bree';
import type { Logger } from '../logger.js';
import { jobWorkerData } from './worker-data.js';
import { JobSupervisor } from './supervisor.js';
import { TsxBree } from './tsx-bree.js';

/** Jobs this process schedules. */
export type JobName = 'discovery' | 'retention' | 'notify';
/**
 * Discovery and notify run in long-lived worker threads, from start() until stop() sends
 * 'cancel': no interval, so no worker boot (a fresh import of the whole module graph) per run.
 * The supervisor restarts one that dies. Scheduled together they share ONE thread, the Bree job
 * `discovery-notify`: each thread is a V8 isolate with its own copy of the module graph and its
 * own heap, tens of MB each. Retention stays a cron job.
 */
const longLivedJobs = (names: readonly JobName[]): string[] =>
  names.includes('discovery') && names.includes('notify')
    ? ['discovery-notify']
    : names.filter((name) => name !== 'retention');

export interface JobMessage {
  readonly name: string;
  readonly message: unknown;
}

export interface SchedulerOptions {
  readonly config: Config;
  /** The resolved database URL (DATABASE_URL or the embedded one); passed to jobs in workerData. */
  readonly databaseUrl: string;
  readonly logger: Logger;
  /** Jobs to schedule (default: discovery, retention and notify). */
  readonly jobs?: readonly JobName[];
  /** Job directory and extension (default: this build's own jobs, `.ts` under tsx, `.js` when compiled). */
  readonly jobsDir?: string;
  readonly extension?: 'ts' | 'js';
  /** Called with what a job posts (its stats) and with each restart of a long-lived job, and with each failure. */
  readonly onMessage?: (m: JobMessage) => void;
  readonly onError?: (name: string, err: Error) => void;
}

export interface Scheduler {
  readonly bree: Bree;
  /** Restarts of each long-lived job since start (a crashed or unexpectedly ended worker). */
  readonly restarts: ReadonlyMap<string, number>;
  start(): Promise<void>;
  /** Stops scheduling, asks running jobs to cancel, waits up to timeoutMs, then terminates them. */
  stop(timeoutMs: number): Promise<void>;
}

const here = fileURLToPath(import.meta.url);
const DEFAULT_EXTENSION: 'ts' | 'js' = here.endsWith('.ts') ? 'ts' : 'js';
const DEFAULT_JOBS_DIR = path.join(path.dirname(here), '..', 'jobs');

const text = (msg: unknown): string => (msg instanceof Error ? msg.message : String(msg));

/**
 * A worker thread's V8 heap starts with a young generation sized for throughput (tens of MB
 * each); the long-lived jobs allocate little per second, and a smaller nursery keeps the
 * process's resident memory down when all threads start at once.
 */
const LONG_LIVED_LIMITS = { maxYoungGenerationSizeMb: 8 } as const;

/** Bree with discovery and notify as long-lived workers (one thread for both), and retention on RETENTION_CRON. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { config, databaseUrl, logger } = options;
  const log = logger.child({ component: 'scheduler' });
  const names = options.jobs ?? ['discovery', 'retention', 'notify'];
  const workerData = jobWorkerData(config, databaseUrl);
  const jobs: Bree.JobOptions[] = [];
  // `timeout: false`: Bree itself never starts them; the supervisor does, once, at start().
  // Notify is a singleton across replicas by its lease, held for the worker's life.
  const longLived = longLivedJobs(names);
  for (const name of longLived) {
    jobs.push({ name, timeout: false, worker: { workerData, resourceLimits: LONG_LIVED_LIMITS } });
  }
  if (names.includes('retention')) {
    jobs.push({
      name: 'retention',
      cron: config.RETENTION_CRON,
      timezone: getMarket(config.DISCOVERY_MARKETS[0] ?? 'nyc').timeZone,
      worker: { workerData },
    });
  }
  const extension = options.extension ?? DEFAULT_EXTENSION;
  const bree = new TsxBree({
    root: options.jobsDir ?? DEFAULT_JOBS_DIR,
    defaultExtension: extension,
    acceptedExtensions: ['.ts', '.js', '.mjs'],
    jobs,
    // Bree's own chatter goes to debug; never with worker metadata (workerData holds secrets).
    outputWorkerMetadata: false,
    logger: {
      info: (msg: unknown) => log.debug(text(msg)),
      warn: (msg: unknown) => log.warn(text(msg)),
      error: (msg: unknown) => log.error(text(msg)),
    },
    errorHandler: (error: unknown, meta: { name: string }) => {
      const err = error instanceof Error ? error : new Error(String(error));
      log.error({ job: meta.name, err: err.message }, 'job failed');
      options.onError?.(meta.name, err);
    },
    workerMessageHandler: (m: { name: string; message: unknown }) => {
      if (m.message !== 'done' && m.message !== 'cancelled') log.debug({ job: m.name }, 'job message');
      options.onMessage?.({ name: m.name, message: m.message });
    },
  });
  const supervisor = new JobSupervisor({
    bree,
    jobs: longLived,
    logger: log,
    onRestart: (name, event) => options.onMessage?.({ name, message: event }),
    onError: options.onError,
  });
  let stopping: Promise<void> | undefined;
  return {
    bree,
    get restarts() {
      return supervisor.restarts;
    },
    start: async () => {
      await bree.start(); // the cron jobs
      supervisor.start();
      log.info({ jobs: jobs.map((j) => j.name), tickSeconds: config.DISCOVERY_TICK_SECONDS }, 'scheduler started');
    },
    stop: (timeoutMs) =>
      (stopping ??= (async () => {
        supervisor.stop();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
        const result = await Promise.race([bree.stop().then(() => 'stopped' as const), timedOut]);
        clearTimeout(timer);
        if (result === 'timeout') {
          log.warn({ running: [...bree.workers.keys()] }, 'jobs did not finish in time; terminating them');
          await Promise.all([...bree.workers.values()].map((w) => w.terminate()));
        }
        log.info('scheduler stopped');
      })()),
  };
}
