import type Bree from 'bree';
import type { Logger } from '../logger.js';

/** A long-lived job that dies is started again after this, doubling per restart up to the max. */
export const RESTART_MIN_MS = 1_000;
export const RESTART_MAX_MS = 30_000;
/** A worker that ran at least this long before it died starts the backoff over. */
export const RESTART_RESET_AFTER_MS = 60_000;

export interface RestartEvent {
  readonly event: 'restart';
  /** Restarts of this job so far, this one included. */
  readonly restarts: number;
  readonly delayMs: number;
  /** How long the worker that died had run. */
  readonly ranMs: number;
}

export interface SupervisorOptions {
  readonly bree: Bree;
  /** The jobs that run as one long-lived worker each. */
  readonly jobs: readonly string[];
  readonly logger: Logger;
  readonly onRestart?: ((name: string, event: RestartEvent) => void) | undefined;
  readonly onError?: ((name: string, err: Error) => void) | undefined;
}

/**
 * Keeps one worker per long-lived job running: starts each with the scheduler, and when one
 * ends while the scheduler is not stopping (it crashed, or returned without being cancelled),
 * starts it again after a backoff (RESTART_MIN_MS doubling to RESTART_MAX_MS, reset once a
 * worker has run RESTART_RESET_AFTER_MS), logs it and counts it.
 */
export class JobSupervisor {
  private stopping = false;
  private readonly startedAt = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly options: SupervisorOptions) {
    options.bree.on('worker created', (name: string) => {
      if (this.isLongLived(name)) this.startedAt.set(name, Date.now());
    });
    options.bree.on('worker deleted', (name: string) => {
      if (this.isLongLived(name) && !this.stopping) this.scheduleRestart(name);
    });
  }

  /** Restarts of each long-lived job so far. */
  get restarts(): ReadonlyMap<string, number> {
    return this.counts;
  }

  start(): void {
    for (const name of this.options.jobs) this.run(name);
  }

  /** No restart from now on (pending ones are dropped); the workers themselves are Bree's to stop. */
  stop(): void {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private isLongLived(name: string): boolean {
    return this.options.jobs.includes(name);
  }

  private run(name: string): void {
    if (this.stopping) return;
    this.options.bree.run(name).catch((err: unknown) => {
      // The worker could not even be created: same backoff as a crash.
      const error = err instanceof Error ? err : new Error(String(err));
      this.options.logger.error({ job: name, err: error.message }, 'long-lived job failed to start');
      this.options.onError?.(name, error);
      if (!this.options.bree.workers.has(name)) this.scheduleRestart(name);
    });
  }

  private scheduleRestart(name: string): void {
    if (this.stopping || this.timers.has(name)) return;
    const ranMs = Date.now() - (this.startedAt.get(name) ?? Date.now());
    const attempt = ranMs >= RESTART_RESET_AFTER_MS ? 0 : (this.attempts.get(name) ?? 0);
    const delayMs = Math.min(RESTART_MIN_MS * 2 ** attempt, RESTART_MAX_MS);
    this.attempts.set(name, attempt + 1);
    const restarts = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, restarts);
    this.options.logger.warn(
      { job: name, ranMs, delayMs, restarts },
      'long-lived job ended unexpectedly; restarting it',
    );
    this.options.onRestart?.(name, { event: 'restart', restarts, delayMs, ranMs });
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        this.run(name);
      }, delayMs),
    );
  }
}
