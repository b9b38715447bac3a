import { Migration } from '@mikro-orm/migrations';

/**
 * Delivery destinations: a user has several, each one channel (webhook, ntfy, telegram, email,
 * webpush) with its settings, and the outbox gets one row per (notification, destination).
 *
 * - destinations: public settings (jsonb) and secret ones (`secrets` jsonb: signing secrets, bot
 *   and access tokens, push subscription keys) apart, so only the senders read the secrets; the
 *   enabled flag; optional quiet hours (local HH:MM to HH:MM in an IANA zone); the watches that
 *   route to it (null = all); the last delivery's outcome and the failures since the last success.
 * - The webhook that lived on `users` becomes a destination of channel `webhook` (same URL, secrets,
 *   rotation window and disabled state); its outbox rows point at it; the user columns go.
 * - webhook_deliveries (still the outbox of every channel): `destination_id`, unique per
 *   notification, so a pair can never be queued twice; the claim index is per channel.
 * - server_keys: keys the server makes for itself (the VAPID pair of Web Push when none is set).
 * - dropwatch_quiet_until(start, end, zone, at): when quiet hours holding at `at` end (null when
 *   they do not hold), shared by the fan-out and the delivery loop.
 */
export class Migration20261215000000_destinations extends Migration {
  override up(): void {
    this.addSql(`
create table if not exists destinations (
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  channel text not null check (channel in ('webhook', 'ntfy', 'telegram', 'email', 'webpush')),
  name text null,
  settings jsonb not null default '{}',
  secrets jsonb not null default '{}',
  enabled boolean not null default true,
  quiet_start text null,
  quiet_end text null,
  quiet_time_zone text null,
  watch_ids bigint[] null,
  disabled_at timestamptz null,
  disabled_reason text null,
  last_status text null check (last_status in ('delivered', 'retrying', 'failed')),
  last_attempt_at timestamptz null,
  last_error text null,
  failure_count int not null default 0,
  created_at timestamptz not null default now(),
  constraint destinations_quiet_check check (
    (quiet_start is null and quiet_end is null and quiet_time_zone is null)
    or (quiet_start is not null and quiet_end is not null and quiet_time_zone is not null))
);
create index if not exists destinations_user_idx on destinations (user_id, id);
create index if not exists destinations_disabled_at_idx on destinations (disabled_at) where disabled_at is not null;

create table if not exists server_keys (
  name text primary key,
  public_key text not null,
  private_key text not null,
  created_at timestamptz not null default now()
);

create or replace function dropwatch_quiet_until(qs text, qe text, tz text, at timestamptz)
returns timestamptz language sql stable as $fn$
  select case
    when qs is null or qe is null or tz is null or qs = qe then null
    else (
      select case
        when qs < qe and lt::time >= qs::time and lt::time < qe::time then (lt::date + qe::time) at time zone tz
        when qs > qe and lt::time >= qs::time then ((lt::date + 1) + qe::time) at time zone tz
        when qs > qe and lt::time < qe::time then (lt::date + qe::time) at time zone tz
      end
      from (select at at time zone tz as lt) l)
  end
$fn$;

insert into destinations (user_id, channel, settings, secrets, disabled_at, disabled_reason, created_at)
select u.id, 'webhook', jsonb_build_object('url', u.webhook_url),
       jsonb_strip_nulls(jsonb_build_object(
         'signingSecret', u.webhook_secret,
         'previousSecret', u.webhook_secret_previous,
         'previousUntil', to_char(u.webhook_secret_previous_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
       u.webhook_disabled_at, u.webhook_disabled_reason, u.created_at
from users u
where u.webhook_url is not null and u.webhook_secret is not null
  and not exists (select 1 from destinations d where d.user_id = u.id and d.channel = 'webhook');

alter table webhook_deliveries add column if not exists destination_id bigint null references destinations (id) on delete set null;
update webhook_deliveries w set destination_id = d.id
from destinations d
where d.user_id = w.user_id and d.channel = 'webhook' and w.channel = 'webhook' and w.destination_id is null;
create unique index if not exists webhook_deliveries_notification_destination_key
  on webhook_deliveries (notification_id, destination_id);
create index if not exists webhook_deliveries_destination_idx on webhook_deliveries (destination_id) where status = 'pending';
create index if not exists webhook_deliveries_channel_due_idx
  on webhook_deliveries (channel, next_attempt_at) where status = 'pending';
drop index if exists webhook_deliveries_due_idx;

alter table users
  drop column if exists webhook_url,
  drop column if exists webhook_secret,
  drop column if exists webhook_secret_previous,
  drop column if exists webhook_secret_previous_until,
  drop column if exists webhook_disabled_at,
  drop column if exists webhook_disabled_reason;
`);
  }

  override down(): void {
    this.addSql(`
alter table users
  add column if not exists webhook_url text null,
  add column if not exists webhook_secret text null,
  add column if not exists webhook_secret_previous text null,
  add column if not exists webhook_secret_previous_until timestamptz null,
  add column if not exists webhook_disabled_at timestamptz null,
  add column if not exists webhook_disabled_reason text null;
update users u set webhook_url = d.settings ->> 'url', webhook_secret = d.secrets ->> 'signingSecret',
       webhook_secret_previous = d.secrets ->> 'previousSecret',
       webhook_secret_previous_until = (d.secrets ->> 'previousUntil')::timestamptz,
       webhook_disabled_at = d.disabled_at, webhook_disabled_reason = d.disabled_reason
from (select distinct on (user_id) * from destinations where channel = 'webhook' order by user_id, id) d
where d.user_id = u.id;
create index if not exists webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending';
drop index if exists webhook_deliveries_channel_due_idx;
drop index if exists webhook_deliveries_destination_idx;
drop index if exists webhook_deliveries_notification_destination_key;
alter table webhook_deliveries drop column if exists destination_id;
drop function if exists dropwatch_quiet_until(text, text, text, timestamptz);
drop table if exists server_keys;
drop table if exists destinations;
`);
  }
}
