// The bucket heat-map: one grid per polled market, days across and anchor times down, each cell
// coloured by how long ago the poller last scanned it. A person sees at a glance whether polling
// is healthy: a grid of green is fine, yellow is a poller falling behind, red is a stalled one.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { RouterOutputs } from '@dropwatch/client';
import { duration, errorText } from '../format';
import { publicQueryClient } from '../query-client';
import { usePublicTRPC } from '../trpc';

type Bucket = RouterOutputs['health']['buckets']['buckets'][number];
type Freshness = 'fresh' | 'ageing' | 'stale';

/** Re-read every bucket this often: one small query (at most 420 rows), cheap for the server. */
const HEATMAP_EVERY_MS = 15_000;
/**
 * A bucket polled every few seconds is "ageing" once it is twice its own poll interval late; quiet
 * buckets are polled rarely on purpose, so nothing under this floor counts as late.
 */
const AGEING_FLOOR_SECONDS = 120;

/** Stale is the server's call (it knows the poller's settings); ageing is late for its own pace. */
function freshness(b: Bucket, now: number): Freshness {
  if (b.stale || !b.scannedAt) return 'stale';
  const age = (now - b.scannedAt.getTime()) / 1000;
  const late = Math.max(AGEING_FLOOR_SECONDS, 2 * (b.pollIntervalSeconds ?? 0));
  return age > late ? 'ageing' : 'fresh';
}

function describe(b: Bucket, f: Freshness, now: number): string {
  const scanned = b.scannedAt ? `scanned ${duration((now - b.scannedAt.getTime()) / 1000)} ago` : 'never scanned';
  return [
    `${b.market} ${b.date} ${b.timeSlot}: ${f}, ${scanned}`,
    `${b.slotCount} slot${b.slotCount === 1 ? '' : 's'}`,
    b.baselineComplete ? 'calibrated' : 'calibrating (baseline not complete)',
    b.pollIntervalSeconds === null ? 'poll interval not known yet' : `polled every ${duration(b.pollIntervalSeconds)}`,
    b.lastError
      ? `last error: ${b.lastError}${b.lastErrorAt ? ` (${duration((now - b.lastErrorAt.getTime()) / 1000)} ago)` : ''}`
      : 'no error',
  ].join(' · ');
}

function Grid({
  market,
  buckets,
  now,
  onShow,
}: {
  market: string;
  buckets: Bucket[];
  now: number;
  onShow: (id: string) => void;
}) {
  const dates = [...new Set(buckets.map((b) => b.date))].sort();
  const times = [...new Set(buckets.map((b) => b.timeSlot))].sort();
  const at = new Map(buckets.map((b) => [`${b.date} ${b.timeSlot}`, b]));
  return (
    <div className="heatmap-scroll">
      <table className="heatmap" data-market={market}>
        <caption>
          {market}: {buckets.length} buckets
        </caption>
        <thead>
          <tr>
            <th>Time</th>
            {dates.map((d) => (
              <th key={d} scope="col" title={d}>
                {d.slice(5)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {times.map((t) => (
            <tr key={t}>
              <th scope="row">{t}</th>
              {dates.map((d) => {
                const b = at.get(`${d} ${t}`);
                if (!b) return <td key={d} />;
                const f = freshness(b, now);
                const text = describe(b, f, now);
                const classes = ['bucket', f, b.lastError ? 'failing' : '', b.baselineComplete ? '' : 'calibrating'];
                // A button: focusable and announced without extra roles; the text is the slot count.
                return (
                  <td key={d}>
                    <button
                      type="button"
                      className={classes.filter(Boolean).join(' ')}
                      data-bucket-id={b.bucketId}
                      data-freshness={f}
                      title={text}
                      aria-label={text}
                      onFocus={() => onShow(b.bucketId)}
                      onMouseEnter={() => onShow(b.bucketId)}
                      onClick={() => onShow(b.bucketId)}
                    >
                      {b.slotCount}
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Heatmap() {
  const trpc = usePublicTRPC();
  const buckets = useQuery(
    { ...trpc.health.buckets.queryOptions(), refetchInterval: HEATMAP_EVERY_MS },
    publicQueryClient,
  );
  // The detail line follows the bucket (by id), so a refresh shows its newest reading; React
  // keeps the cells themselves, so keyboard focus stays where it was.
  const [shownId, setShownId] = useState<string | null>(null);
  const list = buckets.data?.buckets ?? [];
  const now = buckets.dataUpdatedAt || Date.now();
  const byMarket = new Map<string, Bucket[]>();
  for (const b of list) byMarket.set(b.market, [...(byMarket.get(b.market) ?? []), b]);
  const counts = { fresh: 0, ageing: 0, stale: 0 };
  for (const b of list) counts[freshness(b, now)] += 1;
  const failing = list.filter((b) => b.lastError).length;
  const shown = list.find((b) => b.bucketId === shownId);

  let state: { kind: 'loading' | 'empty' | 'error'; text: string } | null = null;
  if (buckets.isPending) state = { kind: 'loading', text: 'Loading buckets…' };
  else if (buckets.isError)
    // The last grid stays on screen (it says when each bucket was scanned), marked as old.
    state = {
      kind: 'error',
      text: `${buckets.data ? 'Could not refresh' : 'Could not load'} the buckets: ${errorText(buckets.error)}`,
    };
  else if (list.length === 0)
    state = { kind: 'empty', text: 'No buckets yet: the poller creates them on its first pass.' };

  return (
    <section aria-labelledby="heatmap-title" className="wide">
      <div className="section-head">
        <h2 id="heatmap-title">Polling health</h2>
        <span id="heatmap-summary" role="status">
          {list.length > 0 &&
            `${counts.fresh} fresh, ${counts.ageing} ageing, ${counts.stale} stale${failing ? `, ${failing} failing` : ''}`}
        </span>
      </div>
      <p className="muted">
        Each cell is one bucket (a day and an anchor time); the number is its slot count. Focus or hover a cell for
        details.
      </p>
      <ul className="legend" aria-label="Legend">
        <li>
          <span className="swatch fresh" />
          fresh: scanned on time
        </li>
        <li>
          <span className="swatch ageing" />
          ageing: more than twice its poll interval late
        </li>
        <li>
          <span className="swatch stale" />
          stale: not scanned for too long, or never
        </li>
        <li>
          <span className="swatch failing" />
          outlined: last poll failed
        </li>
        <li>
          <span className="swatch calibrating" />
          dotted: still calibrating
        </li>
      </ul>
      <p id="heatmap-state" className="muted" role="status" data-state={state?.kind ?? 'ready'} hidden={!state}>
        {state?.text}
      </p>
      <div id="heatmaps">
        {[...byMarket].map(([m, bs]) => (
          <Grid key={m} market={m} buckets={bs} now={now} onShow={setShownId} />
        ))}
      </div>
      <p id="bucket-detail" className="detail" aria-live="polite" data-bucket-id={shown?.bucketId}>
        {shown ? describe(shown, freshness(shown, now), now) : ''}
      </p>
    </section>
  );
}
