// The live feed with its filters. Market is a server-side filter (feed.live and feed.onDrop take
// it); party size, date and time of day are applied here, to drops already received, so changing
// them is instant and needs no new subscription.
import { useQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { DropDto } from '@dropwatch/client';
import { errorText } from '../format';
import { publicQueryClient } from '../query-client';
import { usePublicTRPC } from '../trpc';
import { Board } from './Board';
import { DropItem } from './DropItem';
import { MARKETS, type Market } from './markets';

/** Drops kept for filtering (older ones fall off), and shown at most. */
const FEED_KEEP = 500;
export const FEED_SHOWN = 100;
/** feed.live is served from the server's cache (ETag/304), so re-reading it for the board is cheap. */
const LIVE_EVERY_MS = 60_000;
/** After a drop arrives live, the board is re-read this much later (once for a burst of drops). */
const BOARD_AFTER_DROP_MS = 5_000;

/** Time-of-day filter ranges, by the venue-local slot time (HH:MM compares as text). */
const TIMES_OF_DAY = {
  any: { label: 'Any time', test: () => true },
  morning: { label: 'Morning (5–12)', test: (t: string) => t >= '05:00' && t < '12:00' },
  afternoon: { label: 'Afternoon (12–17)', test: (t: string) => t >= '12:00' && t < '17:00' },
  evening: { label: 'Evening (17–22)', test: (t: string) => t >= '17:00' && t < '22:00' },
  late: { label: 'Late (22–5)', test: (t: string) => t >= '22:00' || t < '05:00' },
} as const;
type TimeOfDay = keyof typeof TIMES_OF_DAY;

interface Filters {
  readonly party: string;
  readonly date: string;
  readonly time: TimeOfDay;
}
const NO_FILTERS: Filters = { party: '', date: '', time: 'any' };

function matches(d: DropDto, f: Filters): boolean {
  if (f.party && !d.partySizes.includes(Number(f.party))) return false;
  if (f.date && d.slotDate !== f.date) return false;
  return TIMES_OF_DAY[f.time].test(d.slotTime);
}

export function Feed() {
  const trpc = usePublicTRPC();
  // The markets this server polls are the ones with buckets (the API refuses the others).
  const buckets = useQuery(trpc.health.buckets.queryOptions(), publicQueryClient);
  const polled = MARKETS.filter((m) => buckets.data?.buckets.some((b) => b.market === m.slug));
  const [chosen, setMarket] = useState<Market | null>(null);
  const market: Market = chosen ?? polled[0]?.slug ?? 'nyc';
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  /** Drops that arrived over SSE since this market was chosen, newest first (highlighted). */
  const [received, setReceived] = useState<{ market: Market; drops: DropDto[] }>({ market, drops: [] });
  const arrived = received.market === market ? received.drops : [];

  const live = useQuery(
    { ...trpc.feed.live.queryOptions({ market, limit: FEED_SHOWN }), refetchInterval: LIVE_EVERY_MS },
    publicQueryClient,
  );
  // A new drop may change the board: re-read feed.live shortly after (one read per burst).
  const boardTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetchLive = live.refetch;
  const boardSoon = useCallback(() => {
    boardTimer.current ??= setTimeout(() => {
      boardTimer.current = null;
      void refetchLive();
    }, BOARD_AFTER_DROP_MS);
  }, [refetchLive]);
  useEffect(
    () => () => {
      if (boardTimer.current) clearTimeout(boardTimer.current);
    },
    [],
  );

  const stream = useSubscription(
    trpc.feed.onDrop.subscriptionOptions(
      { market },
      {
        onData: (e) => {
          boardSoon();
          setReceived((r) => {
            const list = r.market === market ? r.drops : [];
            if (list.some((x) => x.id === e.data.id)) return r;
            return { market, drops: [e.data, ...list].slice(0, FEED_KEEP) };
          });
        },
      },
    ),
  );

  const fresh = useMemo(() => new Set(arrived.map((d) => d.id)), [arrived]);
  const drops = useMemo(() => {
    const older = (live.data?.justOpened ?? []).filter((d) => !fresh.has(d.id));
    return [...arrived, ...older].slice(0, FEED_KEEP);
  }, [arrived, fresh, live.data]);
  const shown = drops.filter((d) => matches(d, filters)).slice(0, FEED_SHOWN);
  const filtered = filters.party !== '' || filters.date !== '' || filters.time !== 'any';

  let state: { kind: 'loading' | 'empty' | 'error'; text: string } | null = null;
  if (live.isPending && arrived.length === 0) state = { kind: 'loading', text: 'Loading drops…' };
  else if (shown.length > 0) state = null;
  else if (live.isError && arrived.length === 0)
    state = { kind: 'error', text: `Feed unavailable: ${errorText(live.error)}` };
  else if (drops.length > 0 && filtered)
    state = { kind: 'empty', text: `None of the ${drops.length} drops received match these filters.` };
  else state = { kind: 'empty', text: 'No drops yet: the poller is still looking.' };

  const liveState =
    stream.status === 'pending'
      ? 'live'
      : stream.status === 'error'
        ? `live updates stopped: ${errorText(stream.error)}`
        : stream.status === 'connecting' && stream.error
          ? 'reconnecting…'
          : 'connecting…';

  return (
    <>
      <section aria-labelledby="feed-title" className="wide">
        <div className="section-head">
          <h2 id="feed-title">Live drops</h2>
          <label htmlFor="market">Market</label>
          <select id="market" value={market} onChange={(e) => setMarket(e.target.value as Market)}>
            {(polled.length > 0 ? polled : MARKETS.filter((m) => m.slug === market)).map((m) => (
              <option key={m.slug} value={m.slug}>
                {m.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            onClick={() => void live.refetch()}
            disabled={live.isFetching}
            aria-label="Refresh the feed and the board"
          >
            Refresh
          </button>
          <span id="live-state" role="status" aria-live="polite">
            {liveState}
          </span>
        </div>
        <form
          id="filters"
          aria-label="Filter the feed"
          onSubmit={(e) => e.preventDefault()}
          onReset={() => setFilters(NO_FILTERS)}
        >
          <label htmlFor="filter-party">Party size</label>
          <input
            id="filter-party"
            type="number"
            min={1}
            max={20}
            inputMode="numeric"
            value={filters.party}
            onChange={(e) => setFilters({ ...filters, party: e.target.value })}
          />
          <label htmlFor="filter-date">Date</label>
          <input
            id="filter-date"
            type="date"
            value={filters.date}
            onChange={(e) => setFilters({ ...filters, date: e.target.value })}
          />
          <label htmlFor="filter-time">Time of day</label>
          <select
            id="filter-time"
            value={filters.time}
            onChange={(e) => setFilters({ ...filters, time: e.target.value as TimeOfDay })}
          >
            {Object.entries(TIMES_OF_DAY).map(([value, t]) => (
              <option key={value} value={value}>
                {t.label}
              </option>
            ))}
          </select>
          <button type="reset">Clear filters</button>
        </form>
        <p id="feed-state" className="muted" role="status" data-state={state?.kind ?? 'ready'} hidden={!state}>
          {state?.text}
        </p>
        <ul id="feed" aria-label="Just opened reservations" aria-live="polite">
          {shown.map((d) => (
            <DropItem key={d.id} drop={d} isNew={fresh.has(d.id)} />
          ))}
        </ul>
      </section>
      <Board live={live} />
    </>
  );
}
