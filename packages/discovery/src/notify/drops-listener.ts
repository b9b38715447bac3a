import pg from 'pg';
import type { Logger } from 'pino';
import { DROPS_CHANNEL } from '@dropwatch/db';
import { isFeedRebuildNotice } from '../tick/feed-cache.js';
import {
  NOTIFY_LISTEN_RETRY_MAX_MS,
  NOTIFY_LISTEN_RETRY_MIN_MS,
  NOTIFY_VISIBILITY_MAX_WAIT_MS,
  NOTIFY_VISIBILITY_POLL_MS,
} from './notify-limits.js';

/** Application name of the notify worker's LISTEN connection (tests find its backend by it). */
export const NOTIFY_LISTEN_APPLICATION_NAME = 'dropwatch-notify-listen';

/**
 * Why the listener wakes its owner: a NOTIFY arrived on one of its channels; drops NOTIFY'd earlier
 * have become readable by the exactly-once cursor; or the LISTEN connection was re-opened (a
 * notification may have been missed while it was down).
 */
export type DropsWakeReason = 'notify' | 'visible' | 'reconnect';

export interface DropsListenerOptions {
  readonly databaseUrl: string;
  readonly logger: Pick<Logger, 'warn' | 'info' | 'debug'>;
  /** `channel` is the NOTIFY's channel for 'notify', undefined for the other reasons. */
  readonly onWake: (reason: DropsWakeReason, channel?: string) => void;
  /** Channels to LISTEN on (default: dropwatch_drops alone); visibility is watched for dropwatch_drops. */
  readonly channels?: readonly string[];
  readonly applicationName?: string;
  /**
   * Notifications this owner has no use for (by channel and payload): they neither wake it nor
   * start a visibility check.
   */
  readonly ignore?: (channel: string, payload: string | undefined) => boolean;
}

/**
 * A dedicated connection running `LISTEN dropwatch_drops` (and any other channels asked for): the
 * notify worker's wake-up, and the API's PgDropListener for its live subscribers. The discovery
 * poller NOTIFYs inside each bucket transaction that records drops, so it arrives at COMMIT.
 *
 * A drop NOTIFY'd now may still be hidden from the cursor (`tx_id < pg_snapshot_xmin`) by an older
 * transaction open anywhere in the cluster, so a read at once can find nothing. The listener
 * then remembers the snapshot's xmax at the notification and, one cheap query every
 * NOTIFY_VISIBILITY_POLL_MS while something is pending, waits for the xmin to pass it: every
 * transaction that was open has ended, and the owner is woken once more ('visible').
 *
 * If the connection breaks it is re-opened with backoff and the owner is woken ('reconnect').
 * Its timers never keep a process alive on their own.
 */
export class DropsListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = NOTIFY_LISTEN_RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** xmax at the latest NOTIFY still waiting for the cluster's xmin to pass it. */
  private visibleTarget: bigint | null = null;
  private visibilityTimer: NodeJS.Timeout | undefined;
  private visibilitySince = 0;
  /** The listener's own queries, one at a time (a burst of NOTIFYs must not pile queries onto one client). */
  private queries: Promise<unknown> = Promise.resolve();
  /** Visibility checks started by a NOTIFY whose first answer has not come back yet. */
  private visibilityChecks = 0;
  /** Times the connection was re-opened after it broke. */
  reconnects = 0;

  constructor(private readonly options: DropsListenerOptions) {}

  /** Resolves once the first LISTEN is in place; throws if that first connect fails. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** LISTEN is in place now (false while the connection is down and being re-opened). */
  get listening(): boolean {
    return this.client !== undefined && !this.stopped;
  }

  /**
   * A NOTIFY on dropwatch_drops was received and it is not settled yet whether its drops are
   * readable by the cursor: until then a read may miss them, and no 'visible' wake may follow
   * if the transaction hiding them ends before the check runs.
   */
  get visibilityPending(): boolean {
    return this.visibilityChecks > 0 || this.visibilityTimer !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.visibilityTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }

  private async connect(): Promise<void> {
    const channels = this.options.channels ?? [DROPS_CHANNEL];
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: this.options.applicationName ?? NOTIFY_LISTEN_APPLICATION_NAME,
    });
    client.on('notification', (msg) => {
      if (!channels.includes(msg.channel) || this.stopped) return;
      if (this.options.ignore?.(msg.channel, msg.payload)) return;
      this.options.onWake('notify', msg.channel);
      // A feed rebuild's NOTIFY announces no drop: nothing of it can be hidden from the cursor.
      if (msg.channel === DROPS_CHANNEL && !isFeedRebuildNotice(msg.payload)) this.watchVisibility(client);
    });
    client.on('error', (err) => {
      this.options.logger.warn({ err: err.message }, 'notify LISTEN connection failed; re-opening');
      this.reconnectLater(client);
    });
    client.on('end', () => this.reconnectLater(client));
    try {
      await client.connect();
      await client.query(channels.map((c) => `listen ${c}`).join('; '));
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = NOTIFY_LISTEN_RETRY_MIN_MS;
  }

  private query<T extends pg.QueryResultRow>(client: pg.Client, sql: string): Promise<pg.QueryResult<T>> {
    const result = this.queries.then(() => client.query<T>(sql));
    this.queries = result.catch(() => undefined);
    return result;
  }

  private watchVisibility(client: pg.Client): void {
    this.visibilityChecks++;
    let counted = true;
    const settle = () => {
      if (counted) this.visibilityChecks--;
      counted = false;
    };
    this.query<{ xmin: string; xmax: string }>(
      client,
      'select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax from pg_current_snapshot() s',
    )
      .then(({ rows }) => {
        settle();
        const xmin = BigInt(rows[0]?.xmin ?? '0');
        const xmax = BigInt(rows[0]?.xmax ?? '0');
        if (xmin >= xmax) return; // nothing in flight: the pass the NOTIFY started sees everything
        if (this.visibleTarget === null || xmax > this.visibleTarget) this.visibleTarget = xmax;
        if (!this.visibilityTimer) {
          this.visibilitySince = Date.now();
          this.pollVisibility(client);
        }
      })
      .catch(() => {
        // A broken connection is handled by its 'error'/'end' handlers (it wakes with 'reconnect').
        settle();
      });
  }

  private pollVisibility(client: pg.Client): void {
    this.visibilityTimer = setTimeout(() => {
      this.query<{ xmin: string }>(client, 'select pg_snapshot_xmin(pg_current_snapshot())::text as xmin')
        .then(({ rows }) => {
          const target = this.visibleTarget;
          const xmin = BigInt(rows[0]?.xmin ?? '0');
          if (target === null || xmin >= target || Date.now() - this.visibilitySince > NOTIFY_VISIBILITY_MAX_WAIT_MS) {
            this.visibilityTimer = undefined;
            this.visibleTarget = null;
            if (!this.stopped) this.options.onWake('visible');
            return;
          }
          if (!this.stopped && this.client === client) this.pollVisibility(client);
          else this.visibilityTimer = undefined;
        })
        .catch(() => {
          this.visibilityTimer = undefined;
        });
    }, NOTIFY_VISIBILITY_POLL_MS);
    this.visibilityTimer.unref();
  }

  private reconnectLater(broken: pg.Client): void {
    if (this.stopped || this.client !== broken) return;
    this.client = undefined;
    broken.removeAllListeners('end');
    void broken.end().catch(() => undefined);
    clearTimeout(this.visibilityTimer);
    this.visibilityTimer = undefined;
    this.visibleTarget = null;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().then(
        () => {
          if (this.stopped) return;
          this.reconnects++;
          this.options.logger.info({ reconnects: this.reconnects }, 'notify LISTEN connection re-opened');
          this.options.onWake('reconnect');
        },
        (err: unknown) => {
          this.options.logger.warn(
            { err: (err as Error).message, retryMs: this.retryMs },
            'notify LISTEN reconnect failed',
          );
          this.retryMs = Math.min(this.retryMs * 2, NOTIFY_LISTEN_RETRY_MAX_MS);
          this.scheduleReconnect();
        },
      );
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
