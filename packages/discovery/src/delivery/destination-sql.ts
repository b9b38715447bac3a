import type { DestinationChannelName } from '@dropwatch/db';
import type { DestinationTarget } from './delivery-channel.js';

/**
 * SQL over `destinations` shared by the fan-out, the delivery loop and the API. Quiet hours are
 * computed by the database function dropwatch_quiet_until(start, end, zone, at) (its migration
 * says how), so the fan-out and the loop agree on them.
 */

/** When quiet hours of destination `d` that hold now end (null when they do not hold). */
export const quietUntilSql = (d: string) =>
  `dropwatch_quiet_until(${d}.quiet_start, ${d}.quiet_end, ${d}.quiet_time_zone, now())`;

export interface DestinationTargetRow {
  id: string;
  user_id: string;
  channel: DestinationChannelName;
  settings: Record<string, unknown>;
  secrets: Record<string, unknown>;
  quiet_until: Date | string | null;
}

/** Destinations that can receive now (enabled, not gone). -- destinations_pkey. */
export const DESTINATION_TARGETS_SQL = `
select d.id::text, d.user_id::text, d.channel, d.settings, d.secrets, ${quietUntilSql('d')} as quiet_until
from destinations d
where d.id = any($1::bigint[]) and d.enabled and d.disabled_at is null`;

export const toTarget = (r: DestinationTargetRow): DestinationTarget => ({
  id: r.id,
  userId: r.user_id,
  channel: r.channel,
  settings: r.settings,
  secrets: r.secrets,
  quietUntil: r.quiet_until === null ? null : new Date(r.quiet_until),
});

/** A delivered attempt: the row is done, the destination's failures reset. */
export const DELIVERED_SQL = `
with w as (
  update webhook_deliveries
  set status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_error = null
  where id = $1
  returning destination_id
)
update destinations d
set last_status = 'delivered', last_attempt_at = now(), last_error = null, failure_count = 0
from w where d.id = w.destination_id`;

/** attempts + 1; failed at the limit ($3), else due again after $4 ms; the destination counts the failure. */
export const FAILED_ATTEMPT_SQL = `
with w as (
  update webhook_deliveries
  set attempts = attempts + 1,
      last_error = $2,
      status = case when attempts + 1 >= $3 then 'failed' else 'pending' end,
      next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
  where id = $1
  returning status, destination_id
), d as (
  update destinations d
  set last_status = case when w.status = 'failed' then 'failed' else 'retrying' end,
      last_attempt_at = now(), last_error = $2, failure_count = d.failure_count + 1
  from w where d.id = w.destination_id
)
select status from w`;

/** During quiet hours: due again when they end, no attempt counted. */
export const DEFER_SQL = 'update webhook_deliveries set next_attempt_at = $2 where id = $1';

/** A destination that is gone (or removed): its pending deliveries end. -- webhook_deliveries_destination_idx. */
export const CANCEL_DESTINATION_SQL = `
update webhook_deliveries set status = 'failed', last_error = $2
where destination_id = $1 and status = 'pending'`;

export const DISABLE_DESTINATION_SQL = `
update destinations set disabled_at = now(), disabled_reason = $2
where id = $1 and disabled_at is null`;

export const REMOVE_DESTINATION_SQL = 'delete from destinations where id = $1';
