/**
 * The hot path of discovery (docs/architecture.md, "The diff"): every statement a bucket poll runs, with the
 * plan each relies on. The snapshot travels as arrays (`unnest`); the diff is SQL, and only
 * rows that change are written (anti-joins, never `ON CONFLICT DO UPDATE … WHERE false`, which
 * locks and WAL-logs every conflicting row anyway).
 *
 * Lock order, the same in every bucket transaction, so concurrent buckets cannot deadlock:
 * bucket-own rows (advisory lock, discovery_buckets, bucket_slots, availability_state,
 * drop_events) → venue_metrics in (venue_id, day) order, in one statement → venues in venue_id
 * order, in one statement.
 */

/**
 * The statements every poll runs go as named prepared statements: a connection parses each
 * once and, after PostgreSQL's first custom plans, reuses a generic plan, whose partition
 * pruning of drop_events happens at executor start-up instead. Parse analysis and planning of
 * SQL_APPLY_DROPS alone measured ~2 ms a call, several times its execution at low churn.
 * Behind a transaction pooler (DATABASE_POOLER=transaction) they go unnamed: node-postgres
 * prepares a name once per client connection, but each transaction may land on another server
 * connection, where the name is missing or already taken by another client (PgBouncer < 1.21).
 */
function named(name: string, text: string) {
  return (values: unknown[]) => ({ name, text, values });
}

function unnamed(text: string) {
  return (values: unknown[]) => ({ text, values });
}

/**
 * The bucket's advisory lock (transaction-scoped, so a crashed worker never leaves it held) and,
 * only when it is held, the bucket row, in one round trip. No row: the bucket is gone (stale).
 * The statement's snapshot predates the lock, so a plain read can return the row as it was
 * before a poll another engine committed between the two (and apply that poll again). A row
 * lock that conflicts with that engine's UPDATE makes PostgreSQL re-read the latest committed
 * version; FOR KEY SHARE does not conflict with a non-key UPDATE and returns the old version
 * (checked on 15: two engines then polled one bucket twice in a round). FOR NO KEY UPDATE is
 * the lock this transaction's own UPDATE of the row takes anyway, and it still lets the foreign
 * keys of concurrent inserts (KEY SHARE) through.
 * $1 bucket, $2 scanned_at as the due query returned it.
 * -- uses discovery_buckets_pkey
 */
export const SQL_LOCK_AND_READ_BUCKET = `
select l.locked, b.baseline_polls, b.suspect_polls, b.slot_count, b.unchanged
from (select pg_try_advisory_xact_lock(hashtextextended('dropwatch.bucket:' || $1, 0)) as locked) l
left join lateral (
  select baseline_polls, suspect_polls, slot_count, scanned_at is not distinct from $2::timestamptz as unchanged
  from discovery_buckets where l.locked and bucket_id = $1
  for no key update
) b on true`;

/** Every poll's update of the bucket row sets the interval since the previous poll (null on the first). */
const pollInterval = (now: string) => `poll_interval_seconds = extract(epoch from (${now}::timestamptz - scanned_at))`;

/** A suspect snapshot (step 6): remembered, nothing else changes. */
export const SQL_SUSPECT_POLL = `
update discovery_buckets
set suspect_polls = suspect_polls + 1, ${pollInterval('$2')}, scanned_at = $2, poll_count = poll_count + 1, last_error = null, last_error_at = null
where bucket_id = $1`;

/** An empty poll during calibration: not counted towards the baseline. */
export const SQL_EMPTY_CALIBRATION_POLL = `
update discovery_buckets
set ${pollInterval('$2')}, scanned_at = $2, poll_count = poll_count + 1, last_error = null, last_error_at = null
where bucket_id = $1`;

/** A provider error (step 7): the bucket keeps everything but records the error and waits its cooldown. */
export const SQL_RECORD_ERROR = `
update discovery_buckets set last_error = $2, last_error_at = $3, ${pollInterval('$3')}, scanned_at = $3 where bucket_id = $1`;

/**
 * Calibration (step 4): union the snapshot into the baseline, prev = snapshot.
 * $1 bucket, $2 slot keys, $3 venue ids, $4 now, $5 BUCKET_SLOT_CAP, $6 DISCOVERY_BASELINE_POLLS.
 * -- bucket_slots_pkey (bucket_id, slot_key): one index range scan of the bucket; hash joins with curr.
 */
export const SQL_CALIBRATE = `
with curr as (
  select c.slot_key, c.venue_id from unnest($2::bigint[], $3::text[]) as c(slot_key, venue_id)
),
known as materialized (
  select s.slot_key, s.in_baseline, s.in_prev from bucket_slots s where s.bucket_id = $1
),
unset_prev as (
  update bucket_slots s set in_prev = false
  from known k
  where s.bucket_id = $1 and s.slot_key = k.slot_key and k.in_prev
    and not exists (select 1 from curr c where c.slot_key = k.slot_key)
  returning 1
),
set_flags as (
  update bucket_slots s set in_baseline = true, in_prev = true
  from curr c join known k on k.slot_key = c.slot_key
  where s.bucket_id = $1 and s.slot_key = c.slot_key and not (k.in_baseline and k.in_prev)
  returning 1
),
new_rows as (
  insert into bucket_slots (bucket_id, slot_key, venue_id, in_baseline, in_prev, first_seen_at)
  select $1, c.slot_key, c.venue_id, true, true, $4
  from curr c
  where not exists (select 1 from known k where k.slot_key = c.slot_key)
  order by c.slot_key
  limit greatest(0, $5::int - (select count(*) from known))
  returning 1
),
bucket as (
  update discovery_buckets
  set baseline_polls = baseline_polls + 1, baseline_complete = baseline_polls + 1 >= $6::int,
      ${pollInterval('$4')}, scanned_at = $4, slot_count = cardinality($2::bigint[]), poll_count = poll_count + 1,
      suspect_polls = 0, last_error = null, last_error_at = null
  where bucket_id = $1
  returning baseline_complete
)
select (select count(*) from unset_prev) + (select count(*) from set_flags) + (select count(*) from new_rows) as slot_rows,
       (select baseline_complete from bucket) as baseline_complete`;

/**
 * Open slots of bucket $1 (`open_now`: slot_key, party_mask) that `curr` (slot_key, mask) shows at
 * a party size their drop lacks: the sizes join the mask and the row is marked resized (the notify
 * job fans the drop out again). The join is of the few open slots, not a probe per slot of curr.
 * -- availability_state_pkey, only for the rows that change.
 */
export const WIDENED_CTE = `widened as (
  update availability_state a set party_mask = a.party_mask | c.mask, resized = true
  from open_now o join curr c on c.slot_key = o.slot_key
  where a.bucket_id = $1 and a.slot_key = o.slot_key and c.mask & ~o.party_mask <> 0
  returning a.drop_event_id, a.drop_opened_minute, a.party_mask
)`;

/**
 * The drops `widened` returned (ids, opened minutes, masks) get the party sizes of their masks.
 * $1 ids, $2 opened minutes, $3 masks, $4/$5 the least and greatest minute (partition pruning).
 * Party sizes are 1–20 (DISCOVERY_PARTY_SIZES, watches).
 * -- drop_events_pkey (opened_minute, id).
 */
export const SQL_RESIZE_DROPS = `
update drop_events d
set party_sizes = array(select n from generate_series(1, 20) n where x.mask & (1 << n) <> 0)
from unnest($1::bigint[], $2::timestamptz[], $3::int[]) as x(id, opened_minute, mask)
where d.opened_minute = x.opened_minute and d.id = x.id
  and d.opened_minute = any ($2::timestamptz[]) and d.id = any ($1::bigint[])
  and d.opened_minute between $4::timestamptz and $5::timestamptz`;

/**
 * The diff, phase 1 (step 5): prev/baseline bookkeeping on slot keys only, closes of open
 * drops no longer seen, and the drop candidates (added − baseline slots − slots of baseline
 * venues − already open). A baseline venue is one with a baseline slot still bookable: a venue
 * with regular tables keeps some of them, while a hard-to-book venue whose one table happened to
 * be open while the baseline was taken would otherwise never drop in that bucket again. Detail columns of candidates travel only in phase 2.
 * $1 bucket, $2 slot keys (int8[] literal), $3 venue ordinal of each slot (int[] literal, 1-based
 * into $4), $4 distinct venue ids, $5 now, $6 BUCKET_SLOT_CAP, $7 when the snapshot's fetch began,
 * $8 whether the snapshot is partial (Snapshot.partial: nothing leaves prev, nothing closes),
 * $9 each slot's party sizes as a mask (int[] literal, bit n for size n).
 * An open slot seen at a party size its drop was not recorded with gains it (`widened`, returned
 * for resizeDrops, which updates the drop) and is marked for the notify job to fan out again.
 * A snapshot says nothing of a drop opened (or reopened) after its fetch began — the fast lane
 * records one while a bucket poll's pages are still being read — so it neither closes such a drop
 * nor takes its slot out of prev; the next poll does, if it is gone.
 * One pass over the bucket: a hash full join of the snapshot with the bucket's rows
 * (bucket_slots_pkey range) keeps only the rows that differ (`delta`, small at low churn); every
 * write then touches delta rows only, by primary key: `slot_key = any (array(…))` is an index
 * condition whatever size the planner guesses for delta (joined instead, it hash-joined the
 * whole bucket once more per write). Baseline venues and the row count (for the cap) are read
 * only when there is something to check (lazy subplans).
 */
export const SQL_DIFF_SLOTS = `
with curr as (
  select c.slot_key, c.venue_ord, c.mask from unnest($2::bigint[], $3::int[], $9::int[]) as c(slot_key, venue_ord, mask)
),
delta as materialized (
  select coalesce(c.slot_key, k.slot_key) as slot_key, c.venue_ord, k.venue_id as known_venue,
         c.slot_key is not null as in_curr, k.slot_key is not null as known, coalesce(k.in_baseline, false) as in_baseline
  from curr c
  full join (select slot_key, venue_id, in_baseline, in_prev from bucket_slots where bucket_id = $1) k on k.slot_key = c.slot_key
  where (c.slot_key is null and k.in_prev and not $8::boolean
         and not exists (select 1 from availability_state a
                         where a.bucket_id = $1 and a.slot_key = k.slot_key and a.last_seen_at >= $7::timestamptz))
     or (c.slot_key is not null and k.in_prev is not true)
),
added as materialized (
  select d.slot_key, coalesce(d.known_venue, v.venue_id) as venue_id, d.known, d.in_baseline
  from delta d join unnest($4::text[]) with ordinality as v(venue_id, ord) on v.ord = d.venue_ord
  where d.in_curr
),
open_now as materialized (
  select a.slot_key, a.drop_event_id, a.drop_opened_minute, a.party_mask from availability_state a where a.bucket_id = $1
),
set_prev as (
  update bucket_slots s set in_prev = true
  where s.bucket_id = $1 and s.slot_key = any (array(select slot_key from added where known))
  returning 1
),
new_rows as (
  insert into bucket_slots (bucket_id, slot_key, venue_id, in_prev, first_seen_at)
  select $1, ad.slot_key, ad.venue_id, true, $5
  from added ad where not ad.known
  order by ad.slot_key
  limit case when exists (select 1 from added where not known)
             then greatest(0, $6::int - (select count(*) from bucket_slots where bucket_id = $1)) else 0 end
  returning slot_key
),
candidates as (
  select ad.slot_key from added ad
  where not ad.in_baseline
    -- a baseline venue is one whose baseline slots are still bookable (seen by the last poll or
    -- this one): a venue that had one table during calibration, gone since, drops like any other
    and ad.venue_id not in (
      select venue_id from bucket_slots
      where bucket_id = $1 and in_baseline and (in_prev or slot_key in (select slot_key from curr))
    )
    and not exists (select 1 from open_now o where o.slot_key = ad.slot_key)
    -- an open slot always has its bucket_slots row (so it closes through delta): a slot the
    -- cap left out is not a candidate
    and (ad.known or ad.slot_key in (select slot_key from new_rows))
),
unset_prev as (
  update bucket_slots s set in_prev = false
  where s.bucket_id = $1 and s.slot_key = any (array(select slot_key from delta where not in_curr and in_baseline))
  returning 1
),
forget as (
  delete from bucket_slots s
  where s.bucket_id = $1 and s.slot_key = any (array(select slot_key from delta where not in_curr and not in_baseline))
  returning 1
),
closing as (
  delete from availability_state a using delta d
  where a.bucket_id = $1 and a.slot_key = d.slot_key and not d.in_curr
  returning a.drop_event_id, a.drop_opened_minute
),
${WIDENED_CTE},
bucket as (
  update discovery_buckets
  set ${pollInterval('$5')}, scanned_at = $5, poll_count = poll_count + 1, last_error = null, last_error_at = null,
      slot_count = case when $8::boolean then slot_count + (select count(*) from set_prev) + (select count(*) from new_rows)
                        else cardinality($2::bigint[]) end,
      -- a partial snapshot confirms no suspect poll: the next complete one decides
      suspect_polls = case when $8::boolean then suspect_polls else 0 end
  where bucket_id = $1
  returning 1
)
select 'candidate' as kind, slot_key::text as slot_key, null::text as event_id, null::timestamptz as minute, 0::bigint as n
  from candidates
union all
select 'closing', null, drop_event_id::text, drop_opened_minute, 0 from closing
union all
select 'widened', null, drop_event_id::text, drop_opened_minute, party_mask from widened
union all
select 'written', null, null, null,
  (select count(*) from set_prev) + (select count(*) from new_rows) + (select count(*) from unset_prev)
  + (select count(*) from forget) + (select count(*) from closing) + (select count(*) from bucket)`;

/**
 * The diff, phase 2: flap guard, drop_events, availability_state, closes and the venue_metrics
 * deltas of both, in one statement so the metrics rows are written once, in key order.
 * Idempotent by construction: closes count only rows this statement moved from open to closed.
 * $1 bucket, $2 market, $3 now, $4 DROP_DEDUPE_MINUTES,
 * $5..$12 candidates (slot_key, slot_id, venue_id, slot_date, slot_time, party sizes csv, booking url, prime),
 * $13/$14 closing drops (id, opened_minute), $15/$16 the least and greatest of those minutes,
 * $17 the candidates' party sizes as masks (bit n for size n; availability_state.party_mask).
 * -- drop_events_bucket_opened_idx (bucket_id, opened_at) for the flap guard; drop_events_pkey
 *    (opened_minute, id) for closes and reopens; venue_metrics_pkey for the upsert.
 * Every reference to drop_events carries explicit opened_minute bounds so the partitions
 * concerned are pruned: without them planning alone (all day partitions, for each CTE)
 * measured 7 ms with 5 partitions and grows with retention. Prepared, it runs a generic plan
 * (pruned at executor start-up), which guesses every array at a few rows and so joins
 * the reopen and close updates with every drop between the least and greatest minute. Their
 * keys therefore also go as `= any (array)` conditions: the pkey scan then reads only the drops
 * opened in those very minutes (the id is a filter there; the pairwise join keeps it exact).
 */
export const SQL_APPLY_DROPS = `
with cand as (
  select * from unnest($5::bigint[], $6::text[], $7::text[], $8::date[], $9::text[], $10::text[], $11::text[], $12::boolean[],
                       $17::int[])
    as c(slot_key, slot_id, venue_id, slot_date, slot_time, party_sizes, booking_url, prime, mask)
),
recent as materialized (
  select distinct on (d.slot_key) d.slot_key, d.id, d.opened_minute, d.opened_at, d.venue_id, d.closed_at, d.duration_seconds
  from drop_events d
  where d.bucket_id = $1
    and d.slot_key = any($5::bigint[])
    and d.opened_at > $3::timestamptz - make_interval(mins => $4::int)
    and d.opened_minute between date_trunc('minute', $3::timestamptz - make_interval(mins => $4::int))
                            and date_trunc('minute', $3::timestamptz)
  order by d.slot_key, d.opened_at desc
),
reopened as (
  update drop_events d set closed_at = null, duration_seconds = null
  from recent r
  where d.opened_minute = r.opened_minute and d.id = r.id and d.closed_at is not null
    and d.opened_minute = any (array(select opened_minute from recent)) and d.id = any (array(select id from recent))
    and d.opened_minute between date_trunc('minute', $3::timestamptz - make_interval(mins => $4::int))
                            and date_trunc('minute', $3::timestamptz)
  returning d.venue_id, d.opened_minute, r.duration_seconds as old_duration
),
inserted as (
  insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes,
                           booking_url, opened_at, opened_minute)
  select $1, c.slot_id, c.slot_key, c.venue_id, $2, c.slot_date, c.slot_time, string_to_array(c.party_sizes, ',')::int[],
         c.booking_url, $3, date_trunc('minute', $3::timestamptz)
  from cand c
  where not exists (select 1 from recent r where r.slot_key = c.slot_key)
  order by c.slot_key
  on conflict (bucket_id, slot_key, opened_minute) do nothing
  returning id, opened_minute, slot_key, venue_id, slot_date, opened_at
),
opened as (
  insert into availability_state (bucket_id, slot_key, drop_event_id, drop_opened_minute, venue_id, market, slot_date,
                                  opened_at, last_seen_at, party_mask)
  select $1, i.slot_key, i.id, i.opened_minute, i.venue_id, $2, i.slot_date, i.opened_at, $3, c.mask
  from inserted i join cand c on c.slot_key = i.slot_key
  union all
  select $1, r.slot_key, r.id, r.opened_minute, r.venue_id, $2, c.slot_date, r.opened_at, $3, c.mask
  from recent r join cand c on c.slot_key = r.slot_key
  on conflict (bucket_id, slot_key) do nothing
  returning 1
),
closed as (
  update drop_events d
  set closed_at = $3, duration_seconds = greatest(0, floor(extract(epoch from ($3::timestamptz - d.opened_at))))::int
  from unnest($13::bigint[], $14::timestamptz[]) as x(id, opened_minute)
  where d.opened_minute = x.opened_minute and d.id = x.id and d.closed_at is null
    and d.opened_minute = any ($14::timestamptz[]) and d.id = any ($13::bigint[])
    and d.opened_minute between $15::timestamptz and $16::timestamptz
  returning d.venue_id, d.opened_minute, d.duration_seconds
),
deltas as (
  select i.venue_id, (i.opened_minute at time zone 'UTC')::date as day, 1 as drops, 0 as closes,
         0::bigint as secs, 0::float8 as sq, (c.prime)::int as prime
  from inserted i join cand c on c.slot_key = i.slot_key
  union all
  select venue_id, (opened_minute at time zone 'UTC')::date, 0, 1, duration_seconds, duration_seconds::float8 ^ 2, 0
  from closed
  union all
  select venue_id, (opened_minute at time zone 'UTC')::date, 0, -1, -coalesce(old_duration, 0),
         -(coalesce(old_duration, 0)::float8 ^ 2), 0
  from reopened
),
metrics as (
  insert into venue_metrics as m (venue_id, day, drops, closes, open_seconds_sum, open_seconds_sq, prime_drops)
  select venue_id, day, sum(drops), sum(closes), sum(secs), sum(sq), sum(prime)
  from deltas group by venue_id, day
  order by venue_id, day
  on conflict (venue_id, day) do update
  set drops = m.drops + excluded.drops, closes = m.closes + excluded.closes,
      open_seconds_sum = m.open_seconds_sum + excluded.open_seconds_sum,
      open_seconds_sq = m.open_seconds_sq + excluded.open_seconds_sq,
      prime_drops = m.prime_drops + excluded.prime_drops
  returning 1
)
select 'drop' as kind, i.id::text as id, i.venue_id, 0::bigint as n from inserted i
union all
select 'written', null, null,
  (select count(*) from reopened) + (select count(*) from inserted) + (select count(*) from opened)
  + (select count(*) from closed) + (select count(*) from metrics)
union all
select 'closed', null, null, (select count(*) from closed)
union all
select 'reopened', null, null, (select count(*) from reopened)`;

/**
 * Venues seen by this poll, written only when new, changed, due a last_seen_at touch
 * (VENUE_TOUCH_MINUTES) or just dropped; in venue_id order.
 * $1..$10 arrays (venue_id, provider, market, name, neighborhood, cuisine, price_range, rating,
 * image_url, booking_url), $11 dropped flags, $12 now, $13 VENUE_TOUCH_MINUTES.
 * -- venues_pkey for the anti-join and the upsert.
 */
export const SQL_UPSERT_VENUES = `
with v as (
  select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::real[],
                       $9::text[], $10::text[], $11::boolean[])
    as v(venue_id, provider, market, name, neighborhood, cuisine, price_range, rating, image_url, booking_url, dropped)
),
changed as (
  select v.* from v left join venues x on x.venue_id = v.venue_id
  where x.venue_id is null or v.dropped
     or x.last_seen_at < $12::timestamptz - make_interval(mins => $13::int)
     or (x.name, x.neighborhood, x.cuisine, x.price_range, x.rating, x.image_url, x.booking_url)
        is distinct from (v.name, v.neighborhood, v.cuisine, v.price_range, v.rating, v.image_url, v.booking_url)
)
insert into venues as t (venue_id, provider, market, name, neighborhood, cuisine, price_range, rating, image_url,
                         booking_url, first_seen_at, last_seen_at, last_drop_at)
select venue_id, provider, market, name, neighborhood, cuisine, price_range, rating, image_url, booking_url,
       $12, $12, case when dropped then $12::timestamptz end
from changed
order by venue_id
on conflict (venue_id) do update
set name = excluded.name, neighborhood = excluded.neighborhood, cuisine = excluded.cuisine,
    price_range = excluded.price_range, rating = excluded.rating, image_url = excluded.image_url,
    booking_url = excluded.booking_url, last_seen_at = greatest(t.last_seen_at, excluded.last_seen_at),
    last_drop_at = coalesce(excluded.last_drop_at, t.last_drop_at)`;

/** The statements of every applied poll, as named prepared statements (see named()). */
export const PREPARED = {
  lockAndReadBucket: named('dropwatch_tick_lock_and_read_bucket', SQL_LOCK_AND_READ_BUCKET),
  diffSlots: named('dropwatch_tick_diff_slots', SQL_DIFF_SLOTS),
  applyDrops: named('dropwatch_tick_apply_drops', SQL_APPLY_DROPS),
  upsertVenues: named('dropwatch_tick_upsert_venues', SQL_UPSERT_VENUES),
} as const;

/** The same statements, unnamed: what a connection behind a transaction pooler may send. */
export const UNNAMED: TickStatements = {
  lockAndReadBucket: unnamed(SQL_LOCK_AND_READ_BUCKET),
  diffSlots: unnamed(SQL_DIFF_SLOTS),
  applyDrops: unnamed(SQL_APPLY_DROPS),
  upsertVenues: unnamed(SQL_UPSERT_VENUES),
};

export type TickStatements = {
  readonly [K in keyof typeof PREPARED]: (values: unknown[]) => { text: string; values: unknown[]; name?: string };
};

/** The poll's statements for this database: named (the fast path) unless DATABASE_POOLER says a pooler is in front. */
export function tickStatements(config: { readonly DATABASE_POOLER: 'none' | 'transaction' }): TickStatements {
  return config.DATABASE_POOLER === 'transaction' ? UNNAMED : PREPARED;
}
