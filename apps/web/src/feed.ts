// The live feed with its filters, and the ranked board. Market is a server-side filter (feed.live
// and feed.onDrop take it); party size, date and time of day are applied here, to drops already
// received, so changing them is instant and needs no new subscription.
import type { DropDto, DropwatchClient, RouterInputs, RouterOutputs } from '@dropwatch/client';
import { $, duration, el, errorText, safeHref, setState } from './dom.js';

type Market = NonNullable<Exclude<RouterInputs['feed']['live'], void | undefined>['market']>;
type VenueMetrics = RouterOutputs['venues']['get']['metrics'];
interface Unsubscribable {
  unsubscribe(): void;
}

/** Drops kept for filtering (older ones fall off), and shown at most. */
const FEED_KEEP = 500;
const FEED_SHOWN = 100;
/** Board rows shown; each costs one venues.get (batched into one request, then remembered). */
const BOARD_SHOWN = 10;
/** feed.live is served from the server's cache (ETag/304), so re-reading the board is cheap. */
const BOARD_EVERY_MS = 60_000;

/** Time-of-day filter ranges, by the venue-local slot time (HH:MM compares as text). */
const TIMES_OF_DAY: Record<string, (hhmm: string) => boolean> = {
  any: () => true,
  morning: (t) => t >= '05:00' && t < '12:00',
  afternoon: (t) => t >= '12:00' && t < '17:00',
  evening: (t) => t >= '17:00' && t < '22:00',
  late: (t) => t >= '22:00' || t < '05:00',
};

export function dropItem(d: DropDto, isNew: boolean): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.dropId = d.id;
  li.dataset.slotDate = d.slotDate;
  li.dataset.slotTime = d.slotTime;
  li.dataset.partySizes = d.partySizes.join(' ');
  if (isNew) li.classList.add('new');
  li.append(el('span', `${d.venue.name} · ${d.slotDate} ${d.slotTime} · party ${d.partySizes.join('/')}`));
  const href = safeHref(d.venue.bookingUrl);
  if (href) {
    const a = document.createElement('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = 'Book';
    a.setAttribute('aria-label', `Book ${d.venue.name} on ${d.slotDate} at ${d.slotTime}`);
    li.append(a);
  }
  return li;
}

export function startFeed(client: DropwatchClient): void {
  const feed = $<HTMLUListElement>('feed');
  const feedState = $('feed-state');
  const liveState = $('live-state');
  const marketSelect = $<HTMLSelectElement>('market');
  const partyInput = $<HTMLInputElement>('filter-party');
  const dateInput = $<HTMLInputElement>('filter-date');
  const timeSelect = $<HTMLSelectElement>('filter-time');
  const filtersForm = $<HTMLFormElement>('filters');
  const board = $<HTMLOListElement>('board');
  const boardState = $('board-state');

  let drops: DropDto[] = [];
  const fresh = new Set<string>();
  let loading = true;
  let sub: Unsubscribable | null = null;
  const metrics = new Map<string, VenueMetrics | null>();

  const matches = (d: DropDto): boolean => {
    const party = Number(partyInput.value);
    if (partyInput.value && !d.partySizes.includes(party)) return false;
    if (dateInput.value && d.slotDate !== dateInput.value) return false;
    return (TIMES_OF_DAY[timeSelect.value] ?? TIMES_OF_DAY.any!)(d.slotTime);
  };
  const filtered = () => Boolean(partyInput.value || dateInput.value || timeSelect.value !== 'any');

  const render = () => {
    const shown = drops.filter(matches).slice(0, FEED_SHOWN);
    feed.replaceChildren(...shown.map((d) => dropItem(d, fresh.has(d.id))));
    if (loading) setState(feedState, 'loading', 'Loading drops…');
    else if (shown.length > 0) setState(feedState, 'ready');
    else if (drops.length > 0 && filtered())
      setState(feedState, 'empty', `None of the ${drops.length} drops received match these filters.`);
    else if (feedState.dataset.state !== 'error')
      setState(feedState, 'empty', 'No drops yet: the poller is still looking.');
  };

  const add = (d: DropDto) => {
    if (drops.some((x) => x.id === d.id)) return;
    drops = [d, ...drops].slice(0, FEED_KEEP);
    fresh.add(d.id);
    if (!matches(d)) return render();
    feed.prepend(dropItem(d, true));
    while (feed.children.length > FEED_SHOWN) feed.lastElementChild?.remove();
    setState(feedState, 'ready');
  };

  const renderBoard = (top: DropDto[]) => {
    board.replaceChildren(
      ...top.map((d) => {
        const li = document.createElement('li');
        li.dataset.venueId = d.venue.id;
        const m = metrics.get(d.venue.id);
        const label = m ? ` (${m.rarityLabel})` : '';
        const stays =
          m?.medianOpenSeconds != null ? `usually open ${duration(m.medianOpenSeconds)}` : 'open time not known yet';
        li.append(
          el('span', `${d.venue.name} · ${d.slotDate} ${d.slotTime}`),
          el('span', `rarity ${Math.round(d.rarity)}${label} · ${stays}`, 'muted'),
        );
        return li;
      }),
    );
    if (top.length === 0) setState(boardState, 'empty', 'Nothing on the board yet.');
    else setState(boardState, 'ready');
  };

  const loadBoard = async (market: Market, live?: RouterOutputs['feed']['live']) => {
    try {
      const answer = live ?? (await client.feed.live.query({ market, limit: FEED_SHOWN }));
      const top = answer.board.slice(0, BOARD_SHOWN);
      renderBoard(top);
      // venues.get calls in one tick go out as one batched request.
      const unknown = [...new Set(top.map((d) => d.venue.id))].filter((id) => !metrics.has(id));
      await Promise.all(
        unknown.map(async (venueId) => {
          try {
            metrics.set(venueId, (await client.venues.get.query({ venueId })).metrics);
          } catch {
            metrics.set(venueId, null);
          }
        }),
      );
      if (marketSelect.value === market) renderBoard(top);
    } catch (err) {
      setState(boardState, 'error', `Board unavailable: ${errorText(err)}`);
    }
  };

  const load = async () => {
    const market = marketSelect.value as Market;
    sub?.unsubscribe();
    drops = [];
    fresh.clear();
    loading = true;
    setState(feedState, 'loading', 'Loading drops…');
    setState(boardState, 'loading', 'Loading the board…');
    render();
    liveState.textContent = 'loading…';
    let live: RouterOutputs['feed']['live'] | undefined;
    try {
      live = await client.feed.live.query({ market, limit: FEED_SHOWN });
      for (const d of live.justOpened) if (!drops.some((x) => x.id === d.id)) drops.push(d);
      loading = false;
      render();
    } catch (err) {
      loading = false;
      setState(feedState, 'error', `Feed unavailable: ${errorText(err)}`);
      feed.replaceChildren();
    }
    if (live) void loadBoard(market, live);
    else setState(boardState, 'error', 'Board unavailable: the feed did not load.');
    sub = client.feed.onDrop.subscribe(
      { market },
      {
        onStarted: () => (liveState.textContent = 'live'),
        onData: (e) => add(e.data),
        onError: (err) => (liveState.textContent = `live updates stopped: ${errorText(err)}`),
        onConnectionStateChange: (s) => {
          if (s.state === 'connecting') liveState.textContent = 'reconnecting…';
          else if (s.state === 'pending') liveState.textContent = 'live';
        },
      },
    );
  };

  marketSelect.addEventListener('change', () => void load());
  for (const input of [partyInput, dateInput, timeSelect]) input.addEventListener('input', render);
  filtersForm.addEventListener('submit', (e) => e.preventDefault());
  filtersForm.addEventListener('reset', () => setTimeout(render));
  void load();
  setInterval(() => void loadBoard(marketSelect.value as Market), BOARD_EVERY_MS);
}
