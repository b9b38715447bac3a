import type { Config } from '@dropwatch/core';
import {
  applyDropsQuery,
  notifyDrops,
  notifyFeedChanged,
  resizeDrops,
  sizesMask,
  type ApplyContext,
  type ApplyDropsRow,
  type WidenedDrop,
} from './apply-snapshot.js';
import { tickStatements, WIDENED_CTE } from './bucket-sql.js';
import type { PgClient } from '@dropwatch/db';
import type { PreparedSnapshot } from './prepared-snapshot.js';
import { writeVenues } from './venue-writes.js';

/**
 * The fast lane's candidates in a calibrated bucket: slots of its answer that the bucket has
 * neither in prev nor in its baseline, at a venue with no baseline slot still bookable there (as
 * the bucket diff has it), not open already.
 * They join prev (so the bucket's next full poll sees them as known, and closes them when they
 * are gone). Runs after the bucket's lock was taken, so it reads what the last poll committed.
 * Open slots it shows at a party size their drop lacks are widened, as by a full poll.
 * $1 bucket, $2 slot keys, $3 their venue ids, $4 now, $5 their party sizes as masks.
 * -- bucket_slots_pkey and availability_state_pkey lookups per slot (a handful of slots).
 */
export const SQL_FAST_LANE_CANDIDATES = `
with c as (
  select * from unnest($2::bigint[], $3::text[], $5::int[]) as c(slot_key, venue_id, mask)
),
curr as (select slot_key, mask from c),
open_now as materialized (
  select slot_key, party_mask from availability_state where bucket_id = $1 and slot_key = any ($2::bigint[])
),
${WIDENED_CTE},
cand as materialized (
  select c.slot_key, c.venue_id, s.slot_key is not null as known from c
  left join bucket_slots s on s.bucket_id = $1 and s.slot_key = c.slot_key
  where not coalesce(s.in_prev or s.in_baseline, false)
    and not exists (
      select 1 from bucket_slots b
      where b.bucket_id = $1 and b.venue_id = c.venue_id and b.in_baseline
        and (b.in_prev or b.slot_key in (select slot_key from c))
    )
    and not exists (select 1 from availability_state a where a.bucket_id = $1 and a.slot_key = c.slot_key)
),
set_prev as (
  update bucket_slots s set in_prev = true
  where s.bucket_id = $1 and s.slot_key = any (array(select slot_key from cand where known))
  returning 1
),
new_rows as (
  insert into bucket_slots (bucket_id, slot_key, venue_id, in_prev, first_seen_at)
  select $1, slot_key, venue_id, true, $4 from cand where not known
  order by slot_key
  returning 1
)
select 'candidate' as kind, slot_key::text as slot_key, null::text as event_id, null::timestamptz as minute, 0 as mask,
       (select count(*) from set_prev) + (select count(*) from new_rows) as written
from cand
union all
select 'widened', null, drop_event_id::text, drop_opened_minute, party_mask, 0 from widened`;

export interface VenueDayOutcome {
  readonly status: 'applied' | 'locked' | 'calibrating';
  readonly drops: readonly { id: string; venueId: string }[];
  /** Open drops that gained a party size. */
  readonly resized: number;
}

/**
 * A fast-lane answer (one watched venue's day) folded into one bucket, add-only: new slots go
 * through the same drop rules and statements as a full poll (flap guard, dedupe, metrics), in
 * one short transaction under the bucket's lock. Nothing closes here: a slot missing from this
 * answer closes when the bucket's next full poll no longer sees it.
 */
export async function applyVenueDay(
  client: PgClient,
  ctx: ApplyContext,
  bucket: { readonly bucketId: string; readonly market: string },
  snap: PreparedSnapshot,
  now: Date,
): Promise<VenueDayOutcome> {
  const { config } = ctx;
  await client.query('begin');
  try {
    const { rows } = await client.query<{ locked: boolean; baseline_polls: number | null }>(
      tickStatements(config).lockAndReadBucket([bucket.bucketId, null]),
    );
    const row = rows[0];
    if (!row?.locked || row.baseline_polls === null || row.baseline_polls < config.DISCOVERY_BASELINE_POLLS) {
      await client.query('rollback');
      return { status: row?.locked ? 'calibrating' : 'locked', drops: [], resized: 0 };
    }
    const found = await client.query<{
      kind: string;
      slot_key: string | null;
      event_id: string | null;
      minute: Date | null;
      mask: number;
    }>(SQL_FAST_LANE_CANDIDATES, [
      bucket.bucketId,
      snap.slots.map((s) => s.key),
      snap.slots.map((s) => s.venueId),
      now,
      snap.slots.map((s) => sizesMask(s.partySizes)),
    ]);
    const candidates: string[] = [];
    const widened: WidenedDrop[] = [];
    for (const r of found.rows) {
      if (r.kind === 'candidate' && r.slot_key !== null) candidates.push(r.slot_key);
      else if (r.kind === 'widened' && r.event_id !== null && r.minute !== null)
        widened.push({ id: r.event_id, minute: r.minute, mask: r.mask });
    }
    const { drops, reopened } = await insertDrops(client, config, bucket, snap, candidates, now);
    const resized = await resizeDrops(client, widened, now);
    if (drops.length > 0) {
      const dropped = new Set(drops.map((d) => d.venueId));
      const venues = [...snap.venues.values()].filter((v) => dropped.has(v.id));
      await writeVenues(client, bucket.market, venues, dropped, now, config);
    }
    if (drops.length > 0 || resized > 0) {
      await notifyDrops(client, bucket.bucketId, drops.length);
    } else if (reopened > 0) {
      // A drop closed a moment ago is open again (closedAt back to null): no new drop to announce.
      await notifyFeedChanged(client, bucket.bucketId);
    }
    await client.query('commit');
    return { status: 'applied', drops, resized };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

async function insertDrops(
  client: PgClient,
  config: Config,
  bucket: { readonly bucketId: string; readonly market: string },
  snap: PreparedSnapshot,
  keys: readonly string[],
  now: Date,
): Promise<{ drops: { id: string; venueId: string }[]; reopened: number }> {
  if (keys.length === 0) return { drops: [], reopened: 0 };
  const cand = keys.map((k) => snap.byKey.get(k)!);
  const res = await client.query<ApplyDropsRow>(applyDropsQuery(config, bucket, now, cand, [], []));
  const drops: { id: string; venueId: string }[] = [];
  let reopened = 0;
  for (const r of res.rows) {
    if (r.kind === 'drop' && r.id !== null && r.venue_id !== null) drops.push({ id: r.id, venueId: r.venue_id });
    else if (r.kind === 'reopened') reopened = Number(r.n);
  }
  return { drops, reopened };
}
