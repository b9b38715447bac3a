import type { Config } from '@dropwatch/core';
import { withPgClient } from '@dropwatch/db';
import { queryBuckets, queryLastJobs, queryStatus, queryTables } from '../health/health-queries.js';
import { HEARTBEAT_TICKS, SCAN_QUIET_COOLDOWNS, STALE_BUCKET_FACTOR } from '../limits.js';
import { adminProcedure, publicProcedure, router } from '../trpc.js';
import {
  bucketsInput,
  bucketsOutput,
  jobsOutput,
  lastScanOutput,
  statusOutput,
  tablesOutput,
} from './health.schemas.js';

/**
 * A bucket not scanned for this long is stale: the poller polls quiet buckets rarely, but never
 * leaves one longer than DISCOVERY_MAX_STALENESS_SECONDS when its budget allows.
 */
export function staleAfterSeconds(config: Config): number {
  return STALE_BUCKET_FACTOR * Math.max(config.DISCOVERY_MAX_STALENESS_SECONDS, config.DISCOVERY_TICK_SECONDS);
}

/**
 * How long discovery may go without one successful poll: the poller polls some bucket every
 * cooldown or so, so a few cooldowns (at least two housekeeping passes) of silence means every
 * poll is failing: degraded. Longer than the stale horizon (every bucket stale by then): down.
 */
export function scanQuietLimits(config: Config): { degradedAfter: number; downAfter: number } {
  const degradedAfter = Math.max(
    SCAN_QUIET_COOLDOWNS * config.DISCOVERY_BUCKET_COOLDOWN_SECONDS,
    2 * config.DISCOVERY_TICK_SECONDS,
  );
  return { degradedAfter, downAfter: Math.max(staleAfterSeconds(config), 2 * degradedAfter) };
}

const asRecord = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export const healthRouter = router({
  /**
   * ok | degraded | down, with the reasons: database, scheduler heartbeat, stale buckets, provider
   * auth, most buckets failing their last poll, no successful poll for a while (down when longer).
   */
  status: publicProcedure.output(statusOutput).query(async ({ ctx }) => {
    const checkedAt = new Date();
    const replica = ctx.replica && { lagSeconds: ctx.replica.lagSeconds, readsOnPrimary: ctx.replica.onPrimary };
    let row;
    try {
      row = await withPgClient(ctx.em, (db) => queryStatus(db, staleAfterSeconds(ctx.config)));
    } catch {
      // A fixed reason: the database's own error text (hosts, names) is not for anonymous callers.
      return { status: 'down' as const, reasons: ['database: unreachable'], checkedAt, replica };
    }
    const reasons: string[] = [];
    const heartbeatSeconds = HEARTBEAT_TICKS * ctx.config.DISCOVERY_TICK_SECONDS;
    const last = row?.last_discovery_at ? new Date(row.last_discovery_at) : null;
    if (!last) reasons.push('scheduler: no discovery run recorded yet');
    else if (checkedAt.getTime() - last.getTime() > heartbeatSeconds * 1000)
      reasons.push(`scheduler: last discovery run ${Math.round((checkedAt.getTime() - last.getTime()) / 1000)}s ago`);
    const stale = Number(row?.stale ?? 0);
    if (stale > 0) reasons.push(`buckets: ${stale} of ${Number(row?.buckets ?? 0)} stale`);
    const auth = Number(row?.auth_errors ?? 0);
    if (auth > 0) reasons.push(`provider: ${auth} buckets failing with auth/blocked errors`);
    const buckets = Number(row?.buckets ?? 0);
    const failed = Number(row?.failed_last ?? 0);
    if (failed > 0 && failed * 2 > buckets)
      reasons.push(`provider: ${failed} of ${buckets} buckets failed their last poll`);
    // Judged only once buckets exist (before the first pass, the heartbeat reason speaks). A
    // failed poll moves scanned_at too, so "scanned at all" and "scanned successfully" differ:
    // every bucket failing now is degraded (the provider reason above); nothing scanned at all,
    // or no success, for longer than downAfter is down.
    let down = false;
    if (buckets > 0) {
      const { degradedAfter, downAfter } = scanQuietLimits(ctx.config);
      const secondsSince = (d: Date | null) =>
        d ? Math.round((checkedAt.getTime() - new Date(d).getTime()) / 1000) : Infinity;
      const sinceGood = secondsSince(row?.last_good_scan_at ?? null);
      const sinceAny = secondsSince(row?.last_scan_at ?? null);
      if (sinceAny > degradedAfter) reasons.push(`discovery: no bucket polled for ${sinceAny}s`);
      else if (row?.last_good_scan_at && sinceGood > degradedAfter)
        reasons.push(`discovery: no successful poll for ${sinceGood}s`);
      down = sinceAny > downAfter || (row?.last_good_scan_at != null && sinceGood > downAfter);
    }
    if (ctx.replica?.reason) reasons.push(ctx.replica.reason);
    const status = down ? ('down' as const) : reasons.length === 0 ? ('ok' as const) : ('degraded' as const);
    return { status, reasons, checkedAt, replica };
  }),

  /** Every bucket of the window (or of one market) with its scan state. One query. */
  buckets: publicProcedure
    .input(bucketsInput)
    .output(bucketsOutput)
    .query(async ({ ctx, input }) => {
      const rows = await withPgClient(ctx.readEm, (db) =>
        queryBuckets(db, input.market, staleAfterSeconds(ctx.config)),
      );
      return {
        buckets: rows.map((r) => ({
          bucketId: r.bucket_id,
          market: r.market,
          date: r.date,
          timeSlot: r.time_slot,
          scannedAt: r.scanned_at ? new Date(r.scanned_at) : null,
          slotCount: Number(r.slot_count),
          pollIntervalSeconds:
            r.poll_interval_seconds === null ? null : Math.round(Number(r.poll_interval_seconds) * 10) / 10,
          baselineComplete: r.baseline_complete,
          stale: r.stale,
          lastError: r.last_error,
          lastErrorAt: r.last_error_at ? new Date(r.last_error_at) : null,
        })),
      };
    }),

  /** One round trip: newest scan time, slots in the window, venues known. */
  lastScan: publicProcedure.output(lastScanOutput).query(async ({ ctx }) => {
    const [row] = await ctx.em.execute<{ last: Date | string | null; slots: string; venues: string }[]>(
      `select (select max(scanned_at) from discovery_buckets) as last,
              (select coalesce(sum(slot_count), 0) from discovery_buckets) as slots,
              (select count(*) from venues) as venues`,
    );
    return {
      lastScanAt: row?.last ? new Date(row.last) : null,
      totalSlots: Number(row?.slots ?? 0),
      totalVenues: Number(row?.venues ?? 0),
    };
  }),

  /** The last run of each job with its stats. */
  jobs: publicProcedure.output(jobsOutput).query(async ({ ctx }) => {
    const rows = await queryLastJobs(ctx.em);
    return {
      jobs: rows.map((r) => ({
        job: r.job,
        startedAt: new Date(r.started_at),
        finishedAt: r.finished_at ? new Date(r.finished_at) : null,
        status: r.status,
        stats: asRecord(typeof r.stats === 'string' ? JSON.parse(r.stats) : r.stats),
        error: r.error,
      })),
    };
  }),

  /** Admin: row estimate and on-disk size of every table (partitioned ones summed). */
  tables: adminProcedure.output(tablesOutput).query(async ({ ctx }) => {
    const rows = await withPgClient(ctx.em, queryTables);
    return {
      tables: rows.map((r) => ({
        table: r.table,
        partitioned: r.partitioned,
        partitions: Number(r.partitions),
        rowEstimate: Number(r.row_estimate),
        bytes: Number(r.bytes),
      })),
    };
  }),
});
