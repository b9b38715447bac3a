// The signed-in part of the dashboard: watches (add by venue name or id with filters, remove) and
// notifications (listed, arriving live, marked read one by one or all at once).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { RouterInputs, RouterOutputs } from '@dropwatch/client';
import { DropItem } from '../feed/DropItem';
import { MARKETS } from '../feed/markets';
import { errorText } from '../format';
import { NOTIFICATIONS_MAX, useSession } from '../session';
import { useAccountTRPC } from '../trpc';
import { useLiveNotifications } from './live';
import { SignIn } from './SignIn';

type Watch = RouterOutputs['watches']['list']['items'][number];
type WatchInput = RouterInputs['watches']['add'];

/** A provider-prefixed venue id (resy:123) rather than a name. */
const VENUE_ID = /^[a-z][a-z0-9]*:[A-Za-z0-9_-]+$/;

function watchLabel(w: Watch): string {
  const parts = [w.venueName ?? w.venueId ?? '?'];
  if (w.market) parts.push(w.market);
  if (w.partySize) parts.push(`party ${w.partySize}`);
  if (w.dateFrom || w.dateTo) parts.push(`${w.dateFrom ?? '…'} to ${w.dateTo ?? '…'}`);
  if (w.timeFrom || w.timeTo) parts.push(`${w.timeFrom ?? '00:00'}–${w.timeTo ?? '23:59'}`);
  return `${parts.join(' · ')}${w.kind === 'exclude' ? ' (excluded)' : ''}`;
}

function AddWatch() {
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const { setMessage } = useSession();
  const add = useMutation(trpc.watches.add.mutationOptions());
  const [more, setMore] = useState(false);

  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const text = (name: string) => {
      const v = f.get(name);
      return typeof v === 'string' ? v.trim() : '';
    };
    const venue = text('venue');
    const input: WatchInput = VENUE_ID.test(venue) ? { venueId: venue } : { venueName: venue };
    if (text('partySize')) input.partySize = Number(text('partySize'));
    if (text('market')) input.market = text('market') as NonNullable<WatchInput['market']>;
    if (text('dateFrom')) input.dateFrom = text('dateFrom');
    if (text('dateTo')) input.dateTo = text('dateTo');
    if (text('timeFrom')) input.timeFrom = text('timeFrom');
    if (text('timeTo')) input.timeTo = text('timeTo');
    if (f.get('exclude')) input.kind = 'exclude';
    add.mutate(input, {
      onSuccess: () => {
        form.reset();
        setMessage('');
        void queryClient.invalidateQueries({ queryKey: trpc.watches.list.queryKey() });
      },
      onError: (err) => setMessage(errorText(err)),
    });
  };

  return (
    <form id="add-watch" onSubmit={onSubmit}>
      <fieldset>
        <legend>Add a watch</legend>
        <label htmlFor="watch-venue">Venue name or id (resy:123)</label>
        <input id="watch-venue" name="venue" required maxLength={100} />
        <label htmlFor="watch-party">Party size</label>
        <input id="watch-party" name="partySize" type="number" min={1} max={20} />
        <button type="button" aria-expanded={more} aria-controls="watch-more" onClick={() => setMore(!more)}>
          {more ? 'Fewer filters' : 'More filters'}
        </button>
        <div id="watch-more" className="watch-more" hidden={!more}>
          <label htmlFor="watch-market">In market</label>
          <select id="watch-market" name="market" defaultValue="">
            <option value="">Any market</option>
            {MARKETS.map((m) => (
              <option key={m.slug} value={m.slug}>
                {m.name}
              </option>
            ))}
          </select>
          <label htmlFor="watch-from">First day</label>
          <input id="watch-from" name="dateFrom" type="date" />
          <label htmlFor="watch-to">Last day</label>
          <input id="watch-to" name="dateTo" type="date" />
          <label htmlFor="watch-time-from">Earliest slot</label>
          <input id="watch-time-from" name="timeFrom" type="time" />
          <label htmlFor="watch-time-to">Latest slot</label>
          <input id="watch-time-to" name="timeTo" type="time" />
          <label>
            <input name="exclude" type="checkbox" /> Exclude: never notify for this venue
          </label>
        </div>
        <button type="submit" disabled={add.isPending}>
          Add watch
        </button>
      </fieldset>
    </form>
  );
}

function Watches() {
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const { setMessage } = useSession();
  const watches = useQuery(trpc.watches.list.queryOptions());
  const remove = useMutation(trpc.watches.remove.mutationOptions());
  const items = watches.data?.items ?? [];
  return (
    <>
      <h3 id="watches-title">Watches</h3>
      {watches.isPending && <p className="muted">Loading watches…</p>}
      {watches.isError && <p data-state="error">Could not load the watches: {errorText(watches.error)}</p>}
      {watches.isSuccess && items.length === 0 && (
        <p id="watches-empty" className="muted">
          No watches yet.
        </p>
      )}
      <ul id="watches" aria-labelledby="watches-title">
        {items.map((w) => {
          const label = watchLabel(w);
          return (
            <li key={w.id} data-watch-id={w.id}>
              <span>{label}</span>
              <button
                type="button"
                aria-label={`Remove watch ${label}`}
                onClick={() =>
                  remove.mutate(
                    { id: w.id },
                    {
                      onSuccess: () => {
                        setMessage('');
                        void queryClient.invalidateQueries({ queryKey: trpc.watches.list.queryKey() });
                      },
                      onError: (err) => setMessage(errorText(err)),
                    },
                  )
                }
              >
                Remove
              </button>
            </li>
          );
        })}
      </ul>
    </>
  );
}

function Notifications() {
  const trpc = useAccountTRPC();
  const { fresh, markRead } = useLiveNotifications();
  // Read at sign-in; live ones are added to this cache entry as they arrive (never refetched
  // over them: the stream is what keeps it current).
  const list = useQuery({ ...trpc.notifications.list.queryOptions({ limit: NOTIFICATIONS_MAX }), staleTime: Infinity });
  const items = list.data?.items ?? [];
  const unread = items.filter((n) => !n.readAt).length;
  return (
    <>
      <h3 id="notifications-title">Notifications</h3>
      {list.isError && <p data-state="error">Could not load notifications: {errorText(list.error)}</p>}
      {list.isSuccess && items.length === 0 && (
        <p id="notifications-empty" className="muted">
          Nothing yet. New drops at watched venues appear here live.
        </p>
      )}
      {unread > 0 && (
        <button type="button" id="mark-all-read" onClick={() => markRead('all')}>
          Mark all read
        </button>
      )}
      <ul id="notifications" aria-labelledby="notifications-title">
        {items.map((n) => (
          <DropItem
            key={n.id}
            drop={n.drop}
            isNew={fresh.has(n.id)}
            className={n.readAt ? undefined : 'unread'}
            data-notification-id={n.id}
          >
            {!n.readAt && (
              <button
                type="button"
                className="mark-read"
                aria-label={`Mark read: ${n.drop.venue.name} ${n.drop.slotDate} ${n.drop.slotTime}`}
                onClick={() => markRead([n.id])}
              >
                Mark read
              </button>
            )}
          </DropItem>
        ))}
      </ul>
    </>
  );
}

export function Account() {
  const { session } = useSession();
  return (
    <section aria-labelledby="account-title">
      <h2 id="account-title">Your watches and notifications</h2>
      <SignIn />
      {session && (
        <div id="account">
          <AddWatch />
          <Watches />
          <Notifications />
          <p className="muted">
            Where notifications are sent besides this page: <a href="#/settings">notification settings</a>.
          </p>
        </div>
      )}
    </section>
  );
}
