import type { DropDto } from '@dropwatch/db';

/**
 * The versioned event every channel delivers. `type` names the event and its version: a
 * change that is not backwards compatible gets a new type (`drop.opened.v2`), never a new
 * meaning for an old one. The fan-out builds it in SQL (DROP_OPENED_EVENT_SQL) so the stored
 * body is byte-for-byte what every retry sends.
 */
export type DeliveryEvent =
  | {
      readonly type: 'drop.opened';
      readonly timestamp: string;
      readonly data: { readonly notificationId: string; readonly drop: DropDto };
    }
  | {
      /** What `webhooks.test` (webhook.test) and `destinations.test` (destination.test) send. */
      readonly type: 'webhook.test' | 'destination.test';
      readonly timestamp: string;
      readonly data: Record<string, never>;
    };

export const DROP_OPENED_EVENT_TYPE = 'drop.opened';

/**
 * The `drop.opened` event of an inserted notification `i` (id, created_at, payload = the drop
 * DTO), with an ISO-8601 UTC timestamp (Z) of when the notification was made.
 */
export const DROP_OPENED_EVENT_SQL = `jsonb_build_object(
    'type', '${DROP_OPENED_EVENT_TYPE}',
    'timestamp', to_char(i.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'data', jsonb_build_object('notificationId', i.id::text, 'drop', i.payload))`;
