import pg from 'pg';
import type { Logger } from 'pino';

/** The channel the discovery tick NOTIFYs after it wrote drops and rebuilt the feed cache. */
export const DROPS_CHANNEL = 'dropwatch_drops';
/** The channel the notify job NOTIFYs after it committed user notifications (same LISTEN connection). */
export const NOTIFICATIONS_CHANNEL = 'dropwatch_notifications';
/** Delay before the LISTEN connection is re-opened after it broke, doubling up to the max. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;
/**
 * After a NOTIFY, how often the listener checks whether every transaction that was running at
 * that moment has ended (their drops can then pass the exactly-once cursor), and for how long.
 */
const VISIBILITY_POLL_MS = 100;
const VISIBILITY_MAX_WAIT_MS = 120_000;

/** In-process fan-out of `NOTIFY dropwatch_drops`. */
/**
 * Why subscribers are woken: a NOTIFY arrived; drops NOTIFY'd earlier have become readable by
 * the cursor (no new feed_cache version); or the LISTEN connection was re-opened.
 */
export type WakeReason = 'notify' | 'visible' | 'reconnect';

export interface DropSignal {
  /** Calls fn on every notification (and after the LISTEN connection was re-opened). */
  subscribe(fn: (reason: WakeReason) => void): () => void;
  /** Resolves at the next notification, after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** The notify job's channel, fanned out the same way (PgDropListener listens to both). */
  readonly notifications?: DropSignal;
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
 * ONE dedicated connection per process runs `LISTEN dropwatch_drops` and fans each notification
 * out in-process (subscribers never hold a database connection while they wait). If the
 * connection breaks it is re-opened with backoff, and subscribers are woken once so they re-read
 * whatever they might have missed meanwhile.
 */
export class PgDropListener extends LocalDropSignal {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private notificationsSeen = 0;
  /** `NOTIFY dropwatch_notifications`, fanned out to notifications.onNew subscribers. */
  readonly notifications = new LocalDropSignal();
  /** xmax at the latest NOTIFY still waiting for the cluster's xmin to pass it. */
  private visibleTarget: bigint | null = null;
  private visibilityTimer: NodeJS.Timeout | undefined;
  private visibilitySince = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Pick<Logger, 'warn' | 'debug'>,
  ) {
    super();
  }

  /** Resolves once the first LISTEN is in place (throws if the first connect fails). */
  async start(): Promise<void> {
    await this.connect();
  }

  get notificationCount(): number {
    return this.notificationsSeen;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'dropwatch-listen' });
    client.on('notification', (msg) => {
      if (msg.channel === NOTIFICATIONS_CHANNEL) return this.notifications.fire();
      if (msg.channel !== DROPS_CHANNEL) return;
      this.notificationsSeen++;
      this.fire();
      this.watchVisibility(client);
    });
    client.on('error', (err) => {
      this.logger.warn({ err: err.message }, 'LISTEN connection failed; re-opening');
      this.reconnectLater(client);
    });
    client.on('end', () => this.reconnectLater(client));
    await client.connect();
    await client.query(`listen ${DROPS_CHANNEL}; listen ${NOTIFICATIONS_CHANNEL}`);
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RECONNECT_MIN_MS;
  }

  /**
   * A drop NOTIFY'd now may still be held back from the exactly-once cursor by an older
   * transaction open anywhere in the cluster. So the listener (on its own connection, one cheap
   * query per VISIBILITY_POLL_MS, only while something is pending) waits until the snapshot's
   * xmin passes the xmax seen at the NOTIFY, then wakes subscribers once more: they read what
   * has just become visible, instead of waiting for their fallback poll.
   */
  private watchVisibility(client: pg.Client): void {
    void client
      .query<{ xmin: string; xmax: string }>(
        'select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax from pg_current_snapshot() s',
      )
      .then(({ rows }) => {
        const xmin = BigInt(rows[0]?.xmin ?? '0');
        const xmax = BigInt(rows[0]?.xmax ?? '0');
        if (xmin >= xmax) return; // nothing in flight: everything committed is visible already
        if (this.visibleTarget === null || xmax > this.visibleTarget) this.visibleTarget = xmax;
        if (!this.visibilityTimer) {
          this.visibilitySince = Date.now();
          this.pollVisibility(client);
        }
      })
      .catch(() => undefined);
  }

  private pollVisibility(client: pg.Client): void {
    this.visibilityTimer = setTimeout(() => {
      client
        .query<{ xmin: string }>('select pg_snapshot_xmin(pg_current_snapshot())::text as xmin')
        .then(({ rows }) => {
          const target = this.visibleTarget;
          const xmin = BigInt(rows[0]?.xmin ?? '0');
          if (target === null || xmin >= target || Date.now() - this.visibilitySince > VISIBILITY_MAX_WAIT_MS) {
            this.visibilityTimer = undefined;
            this.visibleTarget = null;
            if (!this.stopped) this.fire('visible');
            return;
          }
          if (!this.stopped && this.client === client) this.pollVisibility(client);
          else this.visibilityTimer = undefined;
        })
        .catch(() => {
          this.visibilityTimer = undefined;
        });
    }, VISIBILITY_POLL_MS);
    this.visibilityTimer.unref();
  }

  private reconnectLater(broken: pg.Client): void {
    if (this.stopped || this.client !== broken) return;
    this.client = undefined;
    broken.removeAllListeners('end');
    void broken.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().then(
        // Wake everyone: a notification may have been missed while the connection was down.
        () => {
          this.fire('reconnect');
          this.notifications.fire('reconnect');
        },
        (err: unknown) => {
          this.logger.warn({ err: (err as Error).message }, 'LISTEN reconnect failed');
          this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
          this.scheduleReconnect();
        },
      );
    }, this.retryMs);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.visibilityTimer);
    const client = this.client;
    this.client = undefined;
    this.fire();
    this.notifications.fire();
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
