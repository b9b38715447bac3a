// A venue's page: what it is, how often its tables drop and how long they stay open, its drop
// history, and a link to book.
import { useQuery } from '@tanstack/react-query';
import type { DropDto, RouterOutputs } from '@dropwatch/client';
import { dateTime, duration, errorCode, errorText, safeHref } from '../format';
import { publicQueryClient } from '../query-client';
import { usePublicTRPC } from '../trpc';
import { BarChart, type Bar } from './BarChart';

type History = RouterOutputs['venues']['history'];

/** "<1m", "1–5m", "15m–1h", …, "12h+": a duration class from its bounds. */
export function classLabel(from: number, upTo: number | null): string {
  const unit = (s: number) => (s < 3600 ? 'm' : 'h');
  const value = (s: number) => (s < 3600 ? s / 60 : s / 3600);
  const short = (s: number) => `${value(s)}${unit(s)}`;
  if (upTo === null) return `${short(from)}+`;
  if (from === 0) return `<${short(upTo)}`;
  return unit(from) === unit(upTo) ? `${value(from)}–${short(upTo)}` : `${short(from)}–${short(upTo)}`;
}

export function durationBars(h: History): Bar[] {
  return h.openDurations.map((c, i) => ({
    label: classLabel(h.openDurations[i - 1]?.upToSeconds ?? 0, c.upToSeconds),
    value: c.drops,
  }));
}

export function hourBars(h: History): Bar[] {
  return h.openedByHour.map((value, hour) => ({ label: String(hour).padStart(2, '0'), value }));
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
  const history = useQuery(trpc.venues.history.queryOptions({ venueId }), publicQueryClient);

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

  const { venue: v, metrics: m } = venue.data;
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
        {history.isPending && (
          <p id="venue-history-state" className="muted" role="status" data-state="loading">
            Loading the drop history…
          </p>
        )}
        {history.isError && (
          <p id="venue-history-state" role="status" data-state="error">
            Could not load the drop history: {errorText(history.error)}
          </p>
        )}
        {history.data && history.data.total === 0 && (
          <p id="venue-history-empty" className="muted" data-state="empty">
            No drops in the last {history.data.days} days.
          </p>
        )}
        {history.data && history.data.total > 0 && (
          <>
            <p className="muted" id="venue-history-summary">
              {history.data.total} drop{history.data.total === 1 ? '' : 's'} in the last {history.data.days} days
              {history.data.stillOpen > 0 && `, ${history.data.stillOpen} still open`}.
            </p>
            <div className="charts">
              <BarChart
                id="chart-durations"
                title="How long drops stayed open"
                unit="drops"
                bars={durationBars(history.data)}
              />
              <BarChart
                id="chart-hours"
                title={`Hour the drop appeared (${history.data.timeZone})`}
                unit="drops"
                bars={hourBars(history.data)}
                labelEvery={3}
              />
            </div>
          </>
        )}
      </section>
      <section aria-labelledby="venue-history-title" className="wide">
        <h2 id="venue-history-title">Drop history</h2>
        {history.data && history.data.drops.length === 0 && <p className="muted">No drops recorded yet.</p>}
        {history.data && history.data.drops.length > 0 && <HistoryTable drops={history.data.drops} />}
      </section>
    </>
  );
}
