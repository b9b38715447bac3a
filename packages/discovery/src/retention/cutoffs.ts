import { addDays } from '@dropwatch/core';
import type { RetentionConfig } from './retention-config.js';

const DAY_MS = 86_400_000;

/** Every boundary one retention pass uses, computed once from one `now`. */
export interface RetentionCutoffs {
  readonly now: Date;
  /** drop_events opened before this are outside the window… */
  readonly dropEvents: Date;
  /** …but go by whole UTC-day partitions: the partition of this day (the cutoff's) stays. */
  readonly dropEventsKeepFromDay: string;
  readonly notifications: Date;
  readonly notificationsKeepFromDay: string;
  /** venue_metrics rows with day before this go. */
  readonly venueMetricsBeforeDay: string;
  /** job_runs.started_at and webhook_deliveries.created_at before this go. */
  readonly jobRuns: Date;
  /** Venues last seen before this go, unless a kept drop or an open slot refers to them. */
  readonly venues: Date;
  /** UTC today and the last day partitions are made for. */
  readonly partitionsFromDay: string;
  readonly partitionsToDay: string;
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);
const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);

/** Days before today whose partitions are also made (late writers near midnight), as @dropwatch/db does. */
const PARTITION_LOOKBACK_DAYS = 1;

export function retentionCutoffs(config: RetentionConfig, now: Date): RetentionCutoffs {
  const dropEvents = daysBefore(now, config.DROP_EVENTS_RETENTION_DAYS);
  const notifications = daysBefore(now, config.NOTIFICATIONS_RETENTION_DAYS);
  const today = utcDay(now);
  return {
    now,
    dropEvents,
    dropEventsKeepFromDay: utcDay(dropEvents),
    notifications,
    notificationsKeepFromDay: utcDay(notifications),
    venueMetricsBeforeDay: utcDay(daysBefore(now, config.VENUE_METRICS_RETENTION_DAYS)),
    jobRuns: daysBefore(now, config.JOB_RUNS_RETENTION_DAYS),
    venues: daysBefore(now, config.VENUE_RETENTION_DAYS),
    partitionsFromDay: addDays(today, -PARTITION_LOOKBACK_DAYS),
    partitionsToDay: addDays(today, config.PARTITION_PREMAKE_DAYS),
  };
}

/** The instant a UTC day starts: the lower bound of its partition. */
export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}
