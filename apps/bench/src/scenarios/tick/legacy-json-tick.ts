import type { PgClient } from '@dropwatch/db';
import type { PreparedSnapshot } from '@dropwatch/discovery/internals';

/**
 * The pattern dropwatch replaced, rebuilt faithfully for comparison: each bucket row holds its
 * baseline, baseline venues, prev and open drops as JSON arrays; a poll reads the row, diffs in
 * JS, inserts/closes drop events, adds the same venue_metrics counters as ours, upserts every
 * venue it saw (touching last_seen_at, setting last_drop_at), and writes the whole prev/open
 * arrays back.
 */
export const LEGACY_TABLE_DDL = `
create table if not exists bench_legacy_buckets (
  bucket_id text primary key,
  baseline jsonb not null default '[]',
  baseline_venues jsonb not null default '[]',
  prev jsonb not null default '[]',
  open jsonb not null default '{}',
  baseline_polls int not null default 0,
  scanned_at timestamptz null
)`;

export interface LegacyResult {
  rowsWritten: number;
  drops: number;
  closes: number;
}

export async function legacyApply(
  client: PgClient,
  bucketId: string,
  market: string,
  snap: PreparedSnapshot,
  now: Date,
  baselinePolls: number,
): Promise<LegacyResult> {
  const legacyId = `legacy_${bucketId}`;
  await client.query('begin');
  try {
    await client.query('insert into bench_legacy_buckets (bucket_id) values ($1) on conflict do nothing', [legacyId]);
    const { rows } = await client.query<{
      baseline: string[];
      baseline_venues: string[];
      prev: string[];
      open: Record<string, { id: string; minute: string }>;
      baseline_polls: number;
    }>(
      'select baseline, baseline_venues, prev, open, baseline_polls from bench_legacy_buckets where bucket_id = $1 for update',
      [legacyId],
    );
    const row = rows[0]!;
    const curr = snap.slots;
    const currIds = new Set(curr.map((s) => s.slotId));
    let rowsWritten = 0;
    let droppedVenues = new Set<string>();
    let drops = 0;
    let closes = 0;
    if (row.baseline_polls < baselinePolls) {
      const baseline = [...new Set([...row.baseline, ...currIds])];
      const venues = [...new Set([...row.baseline_venues, ...curr.map((s) => s.venueId)])];
      await client.query(
        `update bench_legacy_buckets set baseline = $2::jsonb, baseline_venues = $3::jsonb, prev = $4::jsonb,
           baseline_polls = baseline_polls + 1, scanned_at = $5 where bucket_id = $1`,
        [legacyId, JSON.stringify(baseline), JSON.stringify(venues), JSON.stringify([...currIds]), now],
      );
      rowsWritten += 1;
    } else {
      const prev = new Set(row.prev);
      const baseline = new Set(row.baseline);
      const baseVenues = new Set(row.baseline_venues);
      const open = { ...row.open };
      const dropped = curr.filter(
        (s) =>
          !prev.has(s.slotId) && !baseline.has(s.slotId) && !baseVenues.has(s.venueId) && open[s.slotId] === undefined,
      );
      if (dropped.length > 0) {
        const ins = await client.query<{ id: string; opened_minute: string; slot_id: string }>(
          `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes, opened_at, opened_minute)
           select $1, d.slot_id, d.slot_key, d.venue_id, $2, d.slot_date, d.slot_time, string_to_array(d.sizes, ',')::int[], $3, date_trunc('minute', $3::timestamptz)
           from unnest($4::text[], $5::bigint[], $6::text[], $7::date[], $8::text[], $9::text[]) as d(slot_id, slot_key, venue_id, slot_date, slot_time, sizes)
           on conflict do nothing
           returning id::text, opened_minute::text, slot_id`,
          [
            legacyId,
            market,
            now,
            dropped.map((s) => s.slotId),
            dropped.map((s) => s.key),
            dropped.map((s) => s.venueId),
            dropped.map((s) => s.slotDate),
            dropped.map((s) => s.slotTime),
            dropped.map((s) => s.partySizes.join(',')),
          ],
        );
        for (const r of ins.rows) open[r.slot_id] = { id: r.id, minute: r.opened_minute };
        drops = ins.rowCount ?? 0;
        rowsWritten += drops;
      }
      const gone = Object.keys(open).filter((id) => !currIds.has(id));
      let closedRows: { venue_id: string; day: string; secs: number }[] = [];
      if (gone.length > 0) {
        const res = await client.query<{ venue_id: string; day: string; secs: number }>(
          `update drop_events d set closed_at = $1, duration_seconds = extract(epoch from ($1::timestamptz - d.opened_at))::int
           from unnest($2::bigint[], $3::timestamptz[]) as x(id, minute)
           where d.opened_minute = x.minute and d.id = x.id and d.closed_at is null
           returning d.venue_id, (d.opened_minute at time zone 'UTC')::date::text as day, d.duration_seconds as secs`,
          [now, gone.map((id) => open[id]!.id), gone.map((id) => open[id]!.minute)],
        );
        closedRows = res.rows;
        closes = res.rowCount ?? 0;
        rowsWritten += closes;
        for (const id of gone) delete open[id];
      }
      // The same per-venue counters as ours (drops, prime drops, closes, open seconds), sorted.
      const day = now.toISOString().slice(0, 10);
      const deltas = new Map<string, { drops: number; prime: number; closes: number; secs: number; sq: number }>();
      const at = (venue: string, d: string) => {
        const key = `${venue}|${d}`;
        let v = deltas.get(key);
        if (!v) deltas.set(key, (v = { drops: 0, prime: 0, closes: 0, secs: 0, sq: 0 }));
        return v;
      };
      for (const s of dropped) {
        const v = at(s.venueId, day);
        v.drops++;
        if (s.slotTime >= '18:00' && s.slotTime < '21:00') v.prime++;
      }
      for (const r of closedRows) {
        const v = at(r.venue_id, r.day);
        v.closes++;
        v.secs += r.secs;
        v.sq += r.secs * r.secs;
      }
      if (deltas.size > 0) {
        const keys = [...deltas.keys()].sort();
        const m = await client.query(
          `insert into venue_metrics as m (venue_id, day, drops, closes, open_seconds_sum, open_seconds_sq, prime_drops)
           select * from unnest($1::text[], $2::date[], $3::int[], $4::int[], $5::bigint[], $6::float8[], $7::int[])
           on conflict (venue_id, day) do update set drops = m.drops + excluded.drops, closes = m.closes + excluded.closes,
             open_seconds_sum = m.open_seconds_sum + excluded.open_seconds_sum,
             open_seconds_sq = m.open_seconds_sq + excluded.open_seconds_sq, prime_drops = m.prime_drops + excluded.prime_drops`,
          [
            keys.map((k) => k.split('|')[0]),
            keys.map((k) => k.split('|')[1]),
            keys.map((k) => deltas.get(k)!.drops),
            keys.map((k) => deltas.get(k)!.closes),
            keys.map((k) => deltas.get(k)!.secs),
            keys.map((k) => deltas.get(k)!.sq),
            keys.map((k) => deltas.get(k)!.prime),
          ],
        );
        rowsWritten += m.rowCount ?? 0;
      }
      droppedVenues = new Set(dropped.map((s) => s.venueId));
      await client.query(
        `update bench_legacy_buckets set prev = $2::jsonb, open = $3::jsonb, scanned_at = $4 where bucket_id = $1`,
        [legacyId, JSON.stringify([...currIds]), JSON.stringify(open), now],
      );
      rowsWritten += 1;
    }
    // Every venue of the poll, every poll (sorted, to spare the legacy variant its deadlocks here).
    const venues = [...snap.venues.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const v = await client.query(
      `insert into venues (venue_id, provider, market, name, neighborhood, image_url, booking_url, last_seen_at, last_drop_at)
       select id, 'sim', $1, name, hood, img, url, $2, case when dropped then $2::timestamptz end
       from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[]) as v(id, name, hood, img, url, dropped)
       on conflict (venue_id) do update set name = excluded.name, neighborhood = excluded.neighborhood,
         image_url = excluded.image_url, booking_url = excluded.booking_url, last_seen_at = excluded.last_seen_at,
         last_drop_at = coalesce(excluded.last_drop_at, venues.last_drop_at)`,
      [
        market,
        now,
        venues.map((x) => x.id),
        venues.map((x) => x.name),
        venues.map((x) => x.neighborhood),
        venues.map((x) => x.imageUrl),
        venues.map((x) => x.bookingUrl),
        venues.map((x) => droppedVenues.has(x.id)),
      ],
    );
    rowsWritten += v.rowCount ?? 0;
    await client.query('commit');
    return { rowsWritten, drops, closes };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}
