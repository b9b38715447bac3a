import { hostname } from 'node:os';
import { DROPS_CHANNEL } from '@dropwatch/db';
import { releaseLease, renewLease, takeLease, type LeaseOptions } from '../job-leases.js';
import { recordJobRun } from '../job-runs.js';
import { CoalescingRunner, type RunRequestOutcome } from './coalescing-runner.js';
import { DropsListener, type DropsWakeReason } from './drops-listener.js';
import {
  NOTIFY_IDLE_RECORD_MS,
  NOTIFY_LEASE_CHECK_MS,
  NOTIFY_LEASE_NAME,
  NOTIFY_LEASE_TTL_MS,
  NOTIFY_MAX_FAILED_PASSES,
  NOTIFY_PASS_RETRY_MIN_MS,
  NOTIFY_SWEEP_MS,
} from './notify-limits.js';
import { emptyNotifyStats, runNotifyPass, type NotifyOptions, type NotifyStats } from './run-notify.js';
import { closeEmailTransports } from '../delivery/email/email-channel.js';
import { isFeedRebuildNotice } from '../tick/feed-cache.js';

/**
 * Why a pass ran: the worker started or took the lease; the LISTEN connection woke it (see
 * DropsWakeReason); the safety-net sweep; the previous pass left work; a failed pass is retried.
 */
export type NotifyWakeReason = DropsWakeReason | 'start' | 'lease' | 'sweep' | 'more' | 'retry';

/**
 * Wake-ups that announce new drops and nothing else: their pass sends only the deliveries its own
 * fan-out queued. What falls due by time (a retry, a lapsed claim, quiet hours' end) waits for a
 * pass of another reason, the sweep at the latest.
 */
const NEW_DROPS_ONLY: ReadonlySet<NotifyWakeReason> = new Set(['notify', 'visible']);

export interface NotifyWorkerOptions extends Omit<NotifyOptions, 'holder'> {
  /** For the worker's own LISTEN connection (outside the ORM's pool: it stays open). */
  readonly databaseUrl: string;
  /** Aborting stops the worker: no new pass, the pass in flight finishes, the lease is released. */
  readonly signal: AbortSignal;
  /** Lease holder id (default host:pid: a worker restarted in the same process takes its lease back at once). */
  readonly holder?: string;
  /** Safety-net sweep period (default NOTIFY_SWEEP_MS; tests make it huge so only LISTEN wakes it). */
  readonly sweepMs?: number;
  /** Called after every pass, with its error if it failed. */
  readonly onPass?: ((stats: NotifyStats, reason: NotifyWakeReason, error?: Error) => void) | undefined;
  /** Called on every wake-up with what it did ('ignored': stopping, or not holding the lease). */
  readonly onWake?: ((reason: NotifyWakeReason, outcome: RunRequestOutcome | 'ignored') => void) | undefined;
}

export interface NotifyWorkerStats {
  passes: number;
  failedPasses: number;
  drops: number;
  notifications: number;
  delivered: number;
  leaseAcquired: number;
  leaseLost: number;
  listenReconnects: number;
}

/**
 * The notify job as ONE long-lived worker: holds the `notify` lease for its life
 * (renewed every NOTIFY_LEASE_CHECK_MS; a standby replica keeps trying to take it and takes over
 * when it expires), LISTENs on dropwatch_drops, and on each wake-up runs a pass (runNotifyPass:
 * fan-out batches through the exactly-once cursor, NOTIFY dropwatch_notifications, then due
 * deliveries). Wake-ups during a pass coalesce into exactly one more pass after it. A failed pass
 * is retried with backoff; NOTIFY_MAX_FAILED_PASSES in a row make the worker throw (its
 * scheduler restarts it). Resolves with its totals once `signal` aborts.
 */
export async function runNotifyWorker(opts: NotifyWorkerOptions): Promise<NotifyWorkerStats> {
  const { orm, signal } = opts;
  const log = opts.logger.child({ job: 'notify' });
  const passOptions: NotifyOptions = { ...opts, logger: log };
  const lease: LeaseOptions = {
    name: NOTIFY_LEASE_NAME,
    holder: opts.holder ?? `${hostname()}:${process.pid}`,
    ttlMs: NOTIFY_LEASE_TTL_MS,
  };
  const totals: NotifyWorkerStats = {
    passes: 0,
    failedPasses: 0,
    drops: 0,
    notifications: 0,
    delivered: 0,
    leaseAcquired: 0,
    leaseLost: 0,
    listenReconnects: 0,
  };

  /** Local time until which the lease is surely ours (measured from before the statement that took it). */
  let leaseValidUntil = 0;
  const holding = () => Date.now() < leaseValidUntil;
  let failedInARow = 0;
  let lastRecordedAt = 0;
  let fatal: Error | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let leaseTimer: NodeJS.Timeout | undefined;
  let leaseCheck: Promise<void> | undefined;

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const ended = () => signal.aborted || fatal !== undefined;

  /** One pass; never throws (a failure is recorded and retried, or ends the worker). */
  const onePass = async (reason: NotifyWakeReason): Promise<NotifyStats | undefined> => {
    const started = Date.now();
    const stats = emptyNotifyStats();
    try {
      await runNotifyPass(passOptions, stats, { deliverQueuedOnly: NEW_DROPS_ONLY.has(reason) });
      stats.durationMs = Date.now() - started;
      failedInARow = 0;
      const worked = stats.drops > 0 || stats.resizedDrops > 0 || stats.delivery.claimed > 0 || stats.cursorRaces > 0;
      // Drops that matched no watch change nothing anyone reads: such a pass is recorded as an idle one.
      const notable = stats.matched > 0 || stats.delivery.claimed > 0 || stats.cursorRaces > 0;
      if (opts.recordRun !== false && (notable || started - lastRecordedAt >= NOTIFY_IDLE_RECORD_MS)) {
        await recordJobRun(orm.em.fork(), {
          job: 'notify',
          startedAt: new Date(started),
          status: 'ok',
          stats: { ...stats, reason },
        });
        lastRecordedAt = started;
      }
      totals.passes++;
      totals.drops += stats.drops;
      totals.notifications += stats.notifications;
      totals.delivered += stats.delivery.delivered;
      if (worked) log.debug({ stats, reason }, 'notify pass');
      opts.onPass?.(stats, reason);
      return stats;
    } catch (caught) {
      const err = caught instanceof Error ? caught : new Error(String(caught));
      stats.durationMs = Date.now() - started;
      failedInARow++;
      totals.failedPasses++;
      if (opts.recordRun !== false) {
        await recordJobRun(orm.em.fork(), {
          job: 'notify',
          startedAt: new Date(started),
          status: 'failed',
          stats: { ...stats, reason },
          error: err.message,
        }).catch(() => undefined);
      }
      opts.onPass?.(stats, reason, err);
      if (failedInARow >= NOTIFY_MAX_FAILED_PASSES) {
        log.error({ err: err.message, failedInARow }, 'notify passes keep failing; giving up');
        fatal = err;
        finish();
        return undefined;
      }
      const retryMs = NOTIFY_PASS_RETRY_MIN_MS * 2 ** (failedInARow - 1);
      log.warn({ err: err.message, failedInARow, retryMs }, 'notify pass failed; retrying');
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => wake('retry'), retryMs);
      return undefined;
    }
  };

  const passes = new CoalescingRunner<NotifyWakeReason>(
    async (reason) => ((await onePass(reason))?.more ? 'more' : undefined),
    () => !ended() && holding(),
  );
  function wake(reason: NotifyWakeReason): void {
    const outcome = ended() || !holding() ? 'ignored' : passes.request(reason);
    opts.onWake?.(reason, outcome);
  }

  const checkLease = async (): Promise<void> => {
    const em = orm.em.fork();
    const asOf = Date.now();
    try {
      if (holding()) {
        if (await renewLease(em, lease)) leaseValidUntil = asOf + lease.ttlMs;
        else {
          leaseValidUntil = 0;
          totals.leaseLost++;
          log.warn({ holder: lease.holder }, 'notify lease lost to another holder; standing by');
        }
      } else if (await takeLease(em, lease)) {
        leaseValidUntil = asOf + lease.ttlMs;
        totals.leaseAcquired++;
        log.info({ holder: lease.holder }, 'notify lease taken');
        wake(totals.leaseAcquired === 1 ? 'start' : 'lease');
      }
    } catch (err) {
      // Transient: the next check retries. The lease stays ours only until leaseValidUntil.
      log.warn({ err: (err as Error).message }, 'notify lease check failed');
    }
  };
  const scheduleLeaseCheck = () => {
    leaseTimer = setTimeout(() => {
      leaseCheck = checkLease().finally(() => {
        leaseCheck = undefined;
        if (!ended()) scheduleLeaseCheck();
      });
    }, NOTIFY_LEASE_CHECK_MS);
  };

  const listener = new DropsListener({
    databaseUrl: opts.databaseUrl,
    logger: log,
    onWake: (reason) => wake(reason),
    // Every drop it covers was announced by its own transaction's NOTIFY.
    ignore: (channel, payload) => channel === DROPS_CHANNEL && isFeedRebuildNotice(payload),
  });
  if (signal.aborted) return totals;
  await listener.start();
  const onAbort = () => finish();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) finish();
  const sweep = setInterval(() => wake('sweep'), opts.sweepMs ?? NOTIFY_SWEEP_MS);
  try {
    await checkLease();
    if (!ended()) scheduleLeaseCheck();
    await finished;
  } finally {
    signal.removeEventListener('abort', onAbort);
    clearInterval(sweep);
    clearTimeout(leaseTimer);
    await listener.stop();
    totals.listenReconnects = listener.reconnects;
    await leaseCheck;
    await passes.idle();
    clearTimeout(retryTimer);
    // Pooled SMTP connections would keep the worker thread alive after its last pass.
    closeEmailTransports();
    if (totals.leaseAcquired > 0) {
      await releaseLease(orm.em.fork(), lease.name, lease.holder).catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'notify lease release failed (it expires by itself)'),
      );
    }
  }
  log.info({ totals }, 'notify worker stopped');
  if (fatal) throw fatal;
  return totals;
}
