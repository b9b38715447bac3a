// The ranked board: the rarest open drops first, with how long that venue's drops usually stay open.
import { useQueries, type UseQueryResult } from '@tanstack/react-query';
import type { RouterOutputs } from '@dropwatch/client';
import { duration, errorText } from '../format';
import { publicQueryClient } from '../query-client';
import { venueHref } from '../route';
import { usePublicTRPC } from '../trpc';

/** Board rows shown; each costs one venues.get (batched into one request, then kept a while). */
const BOARD_SHOWN = 10;
const VENUE_METRICS_FRESH_MS = 10 * 60_000;

export function Board({ live }: { live: UseQueryResult<RouterOutputs['feed']['live'], unknown> }) {
  const trpc = usePublicTRPC();
  const top = (live.data?.board ?? []).slice(0, BOARD_SHOWN);
  const venueIds = [...new Set(top.map((d) => d.venue.id))];
  // Queries started in one render go out as one batched request.
  const venues = useQueries(
    {
      queries: venueIds.map((venueId) => ({
        ...trpc.venues.get.queryOptions({ venueId }),
        staleTime: VENUE_METRICS_FRESH_MS,
      })),
    },
    publicQueryClient,
  );
  const metrics = new Map(venueIds.map((id, i) => [id, venues[i]?.data?.metrics]));

  let state: { kind: 'loading' | 'empty' | 'error'; text: string } | null = null;
  if (live.isPending) state = { kind: 'loading', text: 'Loading the board…' };
  else if (live.isError && !live.data) state = { kind: 'error', text: `Board unavailable: ${errorText(live.error)}` };
  else if (top.length === 0) state = { kind: 'empty', text: 'Nothing on the board yet.' };

  return (
    <section aria-labelledby="board-title">
      <h2 id="board-title">Rarest right now</h2>
      <p className="muted">Ranked by rarity: venues whose drops are rare come first.</p>
      <p id="board-state" className="muted" role="status" data-state={state?.kind ?? 'ready'} hidden={!state}>
        {state?.text}
      </p>
      <ol id="board" aria-labelledby="board-title">
        {top.map((d) => {
          const m = metrics.get(d.venue.id);
          const stays =
            m?.medianOpenSeconds != null ? `usually open ${duration(m.medianOpenSeconds)}` : 'open time not known yet';
          return (
            <li key={d.id} data-venue-id={d.venue.id}>
              <span>
                <a href={venueHref(d.venue.id)}>{d.venue.name}</a> · {d.slotDate} {d.slotTime}
              </span>
              <span className="muted">
                rarity {Math.round(d.rarity)}
                {m ? ` (${m.rarityLabel})` : ''} · {stays}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
