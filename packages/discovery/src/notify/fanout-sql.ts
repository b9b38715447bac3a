import { assertChannelNames, DELIVERY_CHANNELS } from '../delivery/channels.js';
import { DROP_OPENED_EVENT_SQL } from '../delivery/delivery-event.js';
import { quietUntilSql } from '../delivery/destination-sql.js';

/**
 * The notify job's one fan-out statement ($n placeholders, arrays bound natively by pg). The batch
 * of drops (read through the exactly-once cursor) arrives as parallel arrays and is joined to
 * watches in SQL -- never a JS loop over watches:
 *
 * 1. `matched`: every (watch, drop) pair whose venue matches (by provider id, or by normalized name)
 *    and whose optional filters hold (market, party size, slot date range, slot time range).
 *    -- uses watches_venue_id_idx / watches_venue_name_idx (partial indexes): one probe per drop.
 * 2. `wanted`: (user, drop) pairs with an include hit and NO exclude hit: excludes win; with the
 *    ids of the include watches that hit (a destination may take only some watches).
 * 3. `fresh`: the per-user, per-venue cooldown. A pair is dropped when the user was notified of the
 *    venue within the cooldown (looked up in user_notifications -- uses
 *    user_notifications_user_created_idx (user_id, created_at desc), a short range per user), and
 *    within one batch only the first drop of a venue per user is kept (when the cooldown is > 0).
 * 4. `ins`: user_notifications, ON CONFLICT on the dedupe key DO NOTHING (idempotent re-runs).
 * 5. `outbox`: one outbox row (webhook_deliveries) per inserted notification and destination of
 *    its user that is enabled, not gone, of a registered channel, and routed from one of the
 *    watches that hit (watch_ids null = all) -- destinations_user_idx. In this same transaction:
 *    a crash never loses or doubles one (unique (notification_id, destination_id) besides), and
 *    the row's id is the idempotency key. A destination in its quiet hours gets the row due when
 *    they end. The delivery loop sends them after the transaction.
 *
 * The (user, drop) pairs carry only keys through the sorts; the payload joins back from `b` at
 * the insert (carrying it through measured ~2× slower at 10 000 pairs: the sorts spilled to disk).
 *
 * Parameters: $1 drop ids bigint[], $2 opened_minute timestamptz[], $3 venue ids text[],
 * $4 normalized venue names text[], $5 markets text[], $6 slot dates date[], $7 slot times text[]
 * (HH:MM), $8 party sizes as int[] literals text[], $9 payloads jsonb[], $10 cooldown minutes.
 */
/** A watch's optional filters, against the batch row `b`. */
const WATCH_FILTERS = `
    (w.market is null or w.market = b.market)
    and (w.party_size is null or w.party_size = any(b.party_sizes::int[]))
    and (w.date_from is null or b.slot_date >= w.date_from)
    and (w.date_to is null or b.slot_date <= w.date_to)
    and (w.time_from is null or b.slot_time >= w.time_from)
    and (w.time_to is null or b.slot_time <= w.time_to)`;

/** The fan-out statement for these channels. */
export function buildFanoutSql(channels: readonly { readonly name: string }[]): string {
  assertChannelNames(channels);
  const names = channels.length > 0 ? channels.map((c) => `'${c.name}'`).join(', ') : 'null';
  const outbox = `, outbox as (
  insert into webhook_deliveries (channel, user_id, notification_id, destination_id, payload, next_attempt_at)
  select d.channel, i.user_id, i.id, d.id, ${DROP_OPENED_EVENT_SQL}, coalesce(${quietUntilSql('d')}, now())
  from ins i
  join fresh f on f.user_id = i.user_id and f.drop_id = i.drop_event_id
  join destinations d on d.user_id = i.user_id
  where d.enabled and d.disabled_at is null and d.channel in (${names})
    and (d.watch_ids is null or d.watch_ids && f.watch_ids)
  returning id
)`;
  return `
with b as (
  select *
  from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[], $9::jsonb[])
    as b(drop_id, opened_minute, venue_id, venue_name, market, slot_date, slot_time, party_sizes, payload)
), matched as (
  select w.user_id, w.id as watch_id, w.kind, b.drop_id, b.venue_id
  from b join watches w on w.venue_id = b.venue_id
  where ${WATCH_FILTERS}
  union all
  select w.user_id, w.id as watch_id, w.kind, b.drop_id, b.venue_id
  from b join watches w on w.venue_name = b.venue_name and w.venue_id is null
  where ${WATCH_FILTERS}
), wanted as (
  select m.user_id, m.drop_id, m.venue_id, array_agg(m.watch_id) as watch_ids
  from matched m
  where m.kind = 'include'
    and not exists (
      select 1 from matched x where x.kind = 'exclude' and x.user_id = m.user_id and x.drop_id = m.drop_id)
  group by m.user_id, m.drop_id, m.venue_id
), fresh as (
  select *
  from (
    select wd.*, row_number() over (partition by wd.user_id, wd.venue_id order by wd.drop_id) as nth
    from wanted wd
  ) r
  where ($10::int = 0 or r.nth = 1)
    and ($10::int = 0 or not exists (
      select 1 from user_notifications n
      where n.user_id = r.user_id
        and n.created_at > now() - make_interval(mins => $10::int)
        and n.payload -> 'venue' ->> 'id' = r.venue_id))
), ins as (
  insert into user_notifications (user_id, drop_event_id, drop_opened_minute, kind, payload)
  select f.user_id, f.drop_id, b.opened_minute, 'drop', b.payload
  from fresh f
  join b on b.drop_id = f.drop_id
  on conflict (user_id, drop_event_id, drop_opened_minute) do nothing
  returning id, user_id, drop_event_id, payload, created_at
)${outbox}
select (select count(*) from matched)::int as matched,
       (select count(*) from wanted)::int as wanted,
       (select count(*) from ins)::int as inserted,
       (select count(*) from outbox)::int as deliveries`;
}

export const FANOUT_SQL = buildFanoutSql(DELIVERY_CHANNELS);
