// A venue's page: what it is, how often its tables drop and how long they stay open, its drop
// history, and a link to book.
import { useQuery } from '@tanstack/react-query';
import type { DropDto } from '@dropwatch/client';
import { dateTime, duration, errorCode, errorText, safeHref } from '../format';
import { publicQueryClient } from '../query-client';
import { usePublicTRPC } from '../trpc';
import { BarChart, type Bar } from './BarChart';

/** Open-duration classes of the chart: upper bounds in seconds (the last one is open-ended). */
const DURATION_CLASSES: readonly { readonly label: string; readonly upTo: number }[] = [
  { label: '<1m', upTo: 60 },
  { label: '1–5m', upTo: 300 },
  { label: '5–15m', upTo: 900 },
  { label: '15–60m', upTo: 3600 },
  { label: '1–3h', upTo: 3 * 3600 },
  { label: '3–12h', upTo: 12 * 3600 },
  { label: '12h+', upTo: Infinity },
];

export function durationBars(drops: readonly DropDto[]): Bar[] {
  const counts = DURATION_CLASSES.map(() => 0);
  for (const d of drops) {
    if (!d.closedAt) continue;
    const seconds = (d.closedAt.getTime() - d.openedAt.getTime()) / 1000;
    const i = DURATION_CLASSES.findIndex((c) => seconds < c.upTo);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return DURATION_CLASSES.map((c, i) => ({ label: c.label, value: counts[i] ?? 0 }));
}

/** Drops by the hour they opened, in the given IANA zone. */
export function hourBars(drops: readonly DropDto[], timeZone: string | undefined): Bar[] {
  const counts = Array.from({ length: 24 }, () => 0);
  const fmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone });
  for (const d of drops) {
    const h = Number(fmt.format(d.openedAt));
    if (h >= 0 && h < 24) counts[h] = (counts[h] ?? 0) + 1;
  }
  return counts.map((value, h) => ({ label: String(h).padStart(2, '0'), value }));
}

function HistoryTable({ drops }: { drops: readonly DropDto[] }) {
  return (
    <div className="table-scroll">
      <table id="venue-history" className="data">
        <caption>Drops, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Table for</th>
            <th scope="col">Party</th>
            <th scope="col">Opened</th>
            <th scope="col">Stayed open</th>
          </tr>
        </thead>
        <tbody>
          {drops.map((d) => (
            <tr key={d.id} data-drop-id={d.id}>
              <td>
                {d.slotDate} {d.slotTime}
              </td>
              <td>{d.partySizes.join('/')}</td>
              <td>{dateTime(d.openedAt)}</td>
              <td>
                {d.closedAt ? (
                  duration((d.closedAt.getTime() - d.openedAt.getTime()) / 1000)
                ) : (
                  <strong>still open</strong>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function VenuePage({ venueId }: { venueId: string }) {
  const trpc = usePublicTRPC();
  const venue = useQuery(trpc.venues.get.queryOptions({ venueId }), publicQueryClient);

  if (venue.isPending)
    return (
      <section aria-labelledby="venue-title" className="wide">
        <h2 id="venue-title">Venue</h2>
        <p id="venue-state" role="status" data-state="loading" className="muted">
          Loading {venueId}…
        </p>
      </section>
    );
  if (venue.isError)
    return (
      <section aria-labelledby="venue-title" className="wide">
        <h2 id="venue-title">Venue</h2>
        <p id="venue-state" role="status" data-state="error">
          {errorCode(venue.error) === 'NOT_FOUND'
            ? `No venue ${venueId} is known (it may not have been seen yet, or was removed by retention).`
            : `Could not load ${venueId}: ${errorText(venue.error)}`}
        </p>
        <p>
          <a href="#/">Back to the dashboard</a>
        </p>
      </section>
    );

  const { venue: v, metrics: m, recentDrops } = venue.data;
  const book = safeHref(v.bookingUrl);
  const facts = [v.neighborhood, v.cuisine, v.priceRange ? '$'.repeat(v.priceRange) : null, v.market].filter(Boolean);
  return (
    <>
      <section aria-labelledby="venue-title" className="wide venue-head" data-venue-id={v.id}>
        <h2 id="venue-title">{v.name}</h2>
        <p className="muted">{facts.join(' · ')}</p>
        {book ? (
          <a id="venue-book" className="button" href={book} target="_blank" rel="noopener noreferrer">
            Book at {v.name}
          </a>
        ) : (
          <p className="muted">No booking link known.</p>
        )}
        <dl className="facts">
          <dt>Rarity</dt>
          <dd>
            {Math.round(m.rarity)} ({m.rarityLabel})
          </dd>
          <dt>Drops in 14 days</dt>
          <dd>{m.drops}</dd>
          <dt>Usually open</dt>
          <dd>{m.medianOpenSeconds != null ? duration(m.medianOpenSeconds) : 'not known yet'}</dd>
          <dt>Last drop</dt>
          <dd>{v.lastDropAt ? dateTime(v.lastDropAt) : 'none yet'}</dd>
        </dl>
      </section>
      <section aria-labelledby="venue-charts-title" className="wide">
        <h2 id="venue-charts-title">When tables drop and how long they stay</h2>
        {recentDrops.length === 0 ? (
          <p id="venue-history-empty" className="muted" data-state="empty">
            No drops recorded for this venue yet.
          </p>
        ) : (
          <div className="charts">
            <BarChart
              id="chart-durations"
              title="How long drops stayed open"
              unit="drops"
              bars={durationBars(recentDrops)}
            />
            <BarChart
              id="chart-hours"
              title="Hour the drop appeared (your time)"
              unit="drops"
              bars={hourBars(recentDrops, undefined)}
              labelEvery={3}
            />
          </div>
        )}
      </section>
      <section aria-labelledby="venue-history-title" className="wide">
        <h2 id="venue-history-title">Drop history</h2>
        {recentDrops.length > 0 && <HistoryTable drops={recentDrops} />}
      </section>
    </>
  );
}
