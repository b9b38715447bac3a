import { DROPS_CHANNEL, FEED_CHANGES_CHANNEL, NOTIFICATIONS_CHANNEL } from '@dropwatch/db';
import { DropsListener, type DropsWakeReason } from '@dropwatch/discovery';
import type { Logger } from 'pino';

/** Application name of the API's LISTEN connection. */
const LISTEN_APPLICATION_NAME = 'dropwatch-listen';

/**
 * Why subscribers are woken: a NOTIFY arrived; drops NOTIFY'd earlier have become readable by
 * the cursor (no new feed_cache version); or the LISTEN connection was re-opened.
 */
export type WakeReason = DropsWakeReason;

export interface DropSignal {
  /** Calls fn on every notification (and after the LISTEN connection was re-opened). */
  subscribe(fn: (reason: WakeReason) => void): () => void;
  /** Resolves at the next notification, after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** The notify job's channel, fanned out the same way (PgDropListener listens to both). */
  readonly notifications?: DropSignal;
  /**
   * `NOTIFY dropwatch_feed_changes` (drops already recorded closed or reopened, venues rewritten,
   * retention), and 'reconnect'. Live subscribers do not hang off it: nothing new to read.
   */
  readonly feedChanges?: DropSignal;
  /**
   * True when a read started now may be kept until the next wake: LISTEN is in place (no
   * notification can be missed) and no NOTIFY'd drops are still possibly hidden from the cursor
   * by an older open transaction (whose end might then wake nobody).
   */
  readonly settled?: boolean;
}

/** Fan-out without a source: `fire()` wakes every waiter. The LISTEN listener builds on it. */
export class LocalDropSignal implements DropSignal {
  private readonly listeners = new Set<(reason: WakeReason) => void>();

  subscribe(fn: (reason: WakeReason) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      const unsubscribe = this.subscribe(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  fire(reason: WakeReason = 'notify'): void {
    for (const fn of [...this.listeners]) fn(reason);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}

/**
 * ONE dedicated connection per process runs `LISTEN dropwatch_drops` and
 * `LISTEN dropwatch_notifications` (discovery's DropsListener) and fans each notification out
 * in-process: subscribers never hold a database connection while they wait. Drops that a NOTIFY
 * announced but an older open transaction still hides from the cursor wake subscribers again once
 * they are visible ('visible'); after the connection was re-opened everyone is woken ('reconnect')
 * to re-read what they might have missed.
 */
export class PgDropListener extends LocalDropSignal {
  private readonly listener: DropsListener;
  private notificationsSeen = 0;
  /** `NOTIFY dropwatch_notifications`, fanned out to notifications.onNew subscribers. */
  readonly notifications = new LocalDropSignal();
  readonly feedChanges = new LocalDropSignal();

  constructor(databaseUrl: string, logger: Pick<Logger, 'warn' | 'debug' | 'info'>) {
    super();
    this.listener = new DropsListener({
      databaseUrl,
      logger,
      applicationName: LISTEN_APPLICATION_NAME,
      channels: [DROPS_CHANNEL, NOTIFICATIONS_CHANNEL, FEED_CHANGES_CHANNEL],
      onWake: (reason, channel) => {
        if (reason === 'reconnect') {
          this.fire('reconnect');
          this.notifications.fire('reconnect');
          this.feedChanges.fire('reconnect');
        } else if (channel === NOTIFICATIONS_CHANNEL) {
          this.notifications.fire();
        } else if (channel === FEED_CHANGES_CHANNEL) {
          this.feedChanges.fire();
        } else {
          if (reason === 'notify') this.notificationsSeen++;
          this.fire(reason);
        }
      },
    });
  }

  /** Resolves once the first LISTEN is in place (throws if the first connect fails). */
  async start(): Promise<void> {
    await this.listener.start();
  }

  get settled(): boolean {
    return this.listener.listening && !this.listener.visibilityPending;
  }

  get notificationCount(): number {
    return this.notificationsSeen;
  }

  async stop(): Promise<void> {
    await this.listener.stop();
    this.fire();
    this.notifications.fire();
    this.feedChanges.fire();
  }
}
