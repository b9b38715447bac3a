import { Migration } from '@mikro-orm/migrations';

/**
 * The whole schema. drop_events and user_notifications are partitioned by UTC day
 * with no default partition: DETACH … CONCURRENTLY refuses to run while a default partition
 * exists, and retention depends on it. Partitions are made by dropwatch_ensure_partitions(),
 * which the migration, the server start, each discovery tick and the retention job call.
 */
export class Migration20261128000000_initial extends Migration {
  override up(): void {
    this.addSql(`
create table discovery_buckets (
  bucket_id text primary key,
  market text not null,
  date date not null,
  time_slot text not null,
  baseline_polls int not null default 0,
  baseline_complete boolean not null default false,
  scanned_at timestamptz null,
  slot_count int not null default 0,
  poll_count int not null default 0,
  suspect_polls int not null default 0,
  last_error text null,
  last_error_at timestamptz null,
  created_at timestamptz not null default now()
);
create index discovery_buckets_market_date_idx on discovery_buckets (market, date);
create index discovery_buckets_scanned_at_idx on discovery_buckets (scanned_at nulls first);

-- One row per slot a bucket knows: its baseline and its previous accepted snapshot.
-- slot_key is the first 64 bits of the slot fingerprint (a bigint key is ~25% faster than text).
create table bucket_slots (
  bucket_id text not null references discovery_buckets (bucket_id) on delete cascade,
  slot_key bigint not null,
  venue_id text not null,
  in_baseline boolean not null default false,
  in_prev boolean not null default false,
  first_seen_at timestamptz not null default now(),
  primary key (bucket_id, slot_key)
);

create table venues (
  venue_id text primary key,
  provider text not null,
  market text not null,
  name text not null,
  neighborhood text null,
  cuisine text null,
  price_range int null,
  rating real null,
  image_url text null,
  booking_url text null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  last_drop_at timestamptz null
);
create index venues_last_seen_at_idx on venues (last_seen_at);
create index venues_market_name_idx on venues (market, lower(name));

create table drop_events (
  id bigint generated always as identity,
  tx_id xid8 not null default pg_current_xact_id(),
  bucket_id text not null,
  slot_id text not null,
  slot_key bigint not null,
  venue_id text not null,
  market text not null,
  slot_date date not null,
  slot_time text not null,
  party_sizes int[] not null default '{}',
  booking_url text null,
  opened_at timestamptz not null default now(),
  opened_minute timestamptz not null default date_trunc('minute', now()),
  closed_at timestamptz null,
  duration_seconds int null,
  constraint drop_events_opened_minute_check check (opened_minute = date_trunc('minute', opened_at)),
  primary key (opened_minute, id),
  constraint drop_events_dedupe_key unique (bucket_id, slot_key, opened_minute)
) partition by range (opened_minute);
create index drop_events_opened_at_idx on drop_events (opened_at desc);
create index drop_events_tx_id_idx on drop_events (tx_id, id);
create index drop_events_bucket_opened_idx on drop_events (bucket_id, opened_at);
create index drop_events_venue_opened_idx on drop_events (venue_id, opened_at);

-- One row per currently open dropped slot; bounded by definition.
create table availability_state (
  bucket_id text not null references discovery_buckets (bucket_id) on delete cascade,
  slot_key bigint not null,
  drop_event_id bigint not null,
  drop_opened_minute timestamptz not null,
  venue_id text not null,
  market text not null,
  slot_date date not null,
  opened_at timestamptz not null,
  last_seen_at timestamptz not null default now(),
  primary key (bucket_id, slot_key)
);
create index availability_state_market_opened_idx on availability_state (market, opened_at desc);

create table venue_metrics (
  venue_id text not null,
  day date not null,
  drops int not null default 0,
  closes int not null default 0,
  open_seconds_sum bigint not null default 0,
  open_seconds_sq double precision not null default 0,
  prime_drops int not null default 0,
  primary key (venue_id, day)
);
create index venue_metrics_day_idx on venue_metrics (day);

create table feed_cache (
  key text primary key,
  payload jsonb not null,
  built_at timestamptz not null default now(),
  cursor text null,
  version bigint not null default 0
);

create table users (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  role text not null default 'user' check (role in ('user', 'admin')),
  webhook_url text null,
  webhook_secret text null,
  created_at timestamptz not null default now()
);

create table api_tokens (
  token_hash text primary key,
  user_id uuid not null references users (id) on delete cascade,
  label text null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz null,
  revoked_at timestamptz null
);
create index api_tokens_user_id_idx on api_tokens (user_id);

create table watches (
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  kind text not null default 'include' check (kind in ('include', 'exclude')),
  venue_id text null,
  venue_name text null,
  venue_key text generated always as (coalesce(venue_id, 'name:' || venue_name)) stored,
  market text null,
  party_size int null,
  date_from date null,
  date_to date null,
  time_from text null,
  time_to text null,
  created_at timestamptz not null default now(),
  constraint watches_venue_check check (venue_id is not null or venue_name is not null),
  constraint watches_user_venue_key unique (user_id, venue_key)
);
create index watches_venue_id_idx on watches (venue_id) where venue_id is not null;
create index watches_venue_name_idx on watches (venue_name) where venue_name is not null;

create table user_notifications (
  id bigint generated always as identity,
  user_id uuid not null,
  drop_event_id bigint not null,
  drop_opened_minute timestamptz not null,
  kind text not null default 'drop',
  payload jsonb not null,
  created_at timestamptz not null default now(),
  read_at timestamptz null,
  primary key (drop_opened_minute, id),
  constraint user_notifications_dedupe_key unique (user_id, drop_event_id, drop_opened_minute)
) partition by range (drop_opened_minute);
create index user_notifications_user_created_idx on user_notifications (user_id, created_at desc);

create table webhook_deliveries (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  notification_id bigint not null,
  url text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text null,
  created_at timestamptz not null default now(),
  delivered_at timestamptz null
);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_created_at_idx on webhook_deliveries (created_at);

create table consumer_cursors (
  name text primary key,
  tx_id xid8 not null default '0'::xid8,
  id bigint not null default 0,
  updated_at timestamptz not null default now()
);

create table job_leases (
  name text primary key,
  holder text not null,
  expires_at timestamptz not null,
  acquired_at timestamptz not null default now()
);

create table job_runs (
  id bigint generated always as identity primary key,
  job text not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz null,
  status text not null check (status in ('running', 'ok', 'failed', 'skipped')),
  stats jsonb not null default '{}',
  error text null
);
create index job_runs_job_started_idx on job_runs (job, started_at desc);
create index job_runs_started_at_idx on job_runs (started_at);

-- Creates the missing UTC-day partitions of both partitioned tables for [p_from, p_to].
-- Idempotent and safe under concurrency (serialized by a transaction advisory lock).
create or replace function dropwatch_ensure_partitions(p_from date, p_to date) returns int
language plpgsql as $fn$
declare
  d date;
  t text;
  made int := 0;
begin
  perform pg_advisory_xact_lock(hashtext('dropwatch_ensure_partitions'));
  foreach t in array array['drop_events', 'user_notifications'] loop
    d := p_from;
    while d <= p_to loop
      if to_regclass(format('%s_p%s', t, to_char(d, 'YYYYMMDD'))) is null then
        execute format(
          'create table %I partition of %I for values from (%L) to (%L)',
          format('%s_p%s', t, to_char(d, 'YYYYMMDD')), t,
          d::timestamp at time zone 'UTC', (d + 1)::timestamp at time zone 'UTC');
        made := made + 1;
      end if;
      d := d + 1;
    end loop;
  end loop;
  return made;
end
$fn$;

select dropwatch_ensure_partitions((now() at time zone 'UTC')::date - 1, (now() at time zone 'UTC')::date + 3);
`);
  }

  override down(): void {
    this.addSql(`
drop function if exists dropwatch_ensure_partitions(date, date);
drop table if exists job_runs, job_leases, consumer_cursors, webhook_deliveries, user_notifications,
  watches, api_tokens, users, feed_cache, venue_metrics, availability_state, drop_events, venues,
  bucket_slots, discovery_buckets cascade;
`);
  }
}
