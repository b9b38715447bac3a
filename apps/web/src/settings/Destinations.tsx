// Where the signed-in user's notifications go: webhooks, ntfy topics, Telegram chats, email and
// push to this browser. Each can be switched off, tested, or removed; secrets (a webhook's signing
// secret, tokens) are shown once, when the destination is added.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  DESTINATION_CHANNEL_LABELS,
  DESTINATION_CHANNELS,
  destinationTarget,
  type Destination,
  type DestinationChannel,
  type RouterInputs,
} from '@dropwatch/client';
import { dateTime, errorText } from '../format';
import { useAccountTRPC } from '../trpc';
import { pushSupported, subscribePush } from './push';

type AddInput = RouterInputs['destinations']['add'];
/** The form's channels: push to this browser has its own button (EnablePush). */
type Channel = Exclude<DestinationChannel, 'webpush'>;
const CHANNELS = DESTINATION_CHANNELS.filter((c): c is Channel => c !== 'webpush');

interface Note {
  readonly text: string;
  readonly error?: boolean;
  readonly secrets?: Record<string, string>;
}

function stateOf(d: Destination): string {
  if (d.disabledAt) return `turned off by the receiver${d.disabledReason ? `: ${d.disabledReason}` : ''}`;
  if (!d.enabled) return 'off';
  const last = d.lastDelivery;
  if (!last) return 'on, nothing sent yet';
  const at = dateTime(last.at);
  if (last.status === 'delivered') return `on, last delivered ${at}`;
  return `on, last ${last.status} ${at}${last.error ? ` (${last.error})` : ''}${d.failureCount ? `, ${d.failureCount} failures in a row` : ''}`;
}

function AddDestination({ onNote }: { onNote: (n: Note) => void }) {
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const add = useMutation(trpc.destinations.add.mutationOptions());
  const [channel, setChannel] = useState<Channel>('webhook');

  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const text = (name: string) => {
      const v = f.get(name);
      return typeof v === 'string' ? v.trim() : '';
    };
    const name = text('name') || undefined;
    let input: AddInput;
    switch (channel) {
      case 'webhook':
        input = { channel, url: text('url'), name };
        break;
      case 'ntfy':
        input = { channel, topicUrl: text('topicUrl'), accessToken: text('accessToken') || undefined, name };
        break;
      case 'telegram':
        input = { channel, chatId: text('chatId'), botToken: text('botToken'), name };
        break;
      case 'email':
        input = { channel, to: text('to'), name };
        break;
    }
    add.mutate(input, {
      onSuccess: (r) => {
        form.reset();
        const shown = Object.keys(r.secrets).length > 0;
        onNote({
          text: `Added ${destinationTarget(r.destination)}.${shown ? ' Its secrets, shown only now:' : ''}`,
          ...(shown ? { secrets: r.secrets } : {}),
        });
        void queryClient.invalidateQueries({ queryKey: trpc.destinations.list.queryKey() });
      },
      onError: (err) => onNote({ text: errorText(err), error: true }),
    });
  };

  return (
    <form id="add-destination" onSubmit={onSubmit}>
      <fieldset>
        <legend>Add a destination</legend>
        <label htmlFor="destination-channel">Send to</label>
        <select id="destination-channel" value={channel} onChange={(e) => setChannel(e.target.value as Channel)}>
          {CHANNELS.map((value) => (
            <option key={value} value={value}>
              {DESTINATION_CHANNEL_LABELS[value]}
            </option>
          ))}
        </select>
        {channel === 'webhook' && (
          <>
            <label htmlFor="destination-url">Webhook URL</label>
            <input
              id="destination-url"
              name="url"
              type="url"
              required
              placeholder="https://example.com/hooks/dropwatch"
            />
          </>
        )}
        {channel === 'ntfy' && (
          <>
            <label htmlFor="destination-topic">Topic URL</label>
            <input id="destination-topic" name="topicUrl" type="url" required placeholder="https://ntfy.sh/my-topic" />
            <label htmlFor="destination-ntfy-token">Access token (optional)</label>
            <input id="destination-ntfy-token" name="accessToken" type="password" autoComplete="off" />
          </>
        )}
        {channel === 'telegram' && (
          <>
            <label htmlFor="destination-bot">Bot token</label>
            <input id="destination-bot" name="botToken" type="password" autoComplete="off" required />
            <label htmlFor="destination-chat">Chat id</label>
            <input id="destination-chat" name="chatId" required placeholder="123456789 or @channel" />
          </>
        )}
        {channel === 'email' && (
          <>
            <label htmlFor="destination-to">Email address</label>
            <input id="destination-to" name="to" type="email" required />
          </>
        )}
        <label htmlFor="destination-name">Label (optional)</label>
        <input id="destination-name" name="name" maxLength={100} />
        <button type="submit" disabled={add.isPending}>
          Add destination
        </button>
      </fieldset>
    </form>
  );
}

function EnablePush({ onNote }: { onNote: (n: Note) => void }) {
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const client = queryClient;
  const add = useMutation(trpc.destinations.add.mutationOptions());
  const [busy, setBusy] = useState(false);
  const supported = pushSupported();

  const enable = async () => {
    setBusy(true);
    try {
      const { publicKey } = await client.fetchQuery(trpc.destinations.vapidPublicKey.queryOptions());
      const subscription = await subscribePush(publicKey);
      const r = await add.mutateAsync({ channel: 'webpush', subscription, name: 'This browser' });
      onNote({
        text: r.created
          ? 'Push notifications are on for this browser.'
          : 'This browser was already subscribed: its keys were refreshed.',
      });
      void queryClient.invalidateQueries({ queryKey: trpc.destinations.list.queryKey() });
    } catch (err) {
      onNote({ text: `Push notifications could not be enabled: ${errorText(err)}`, error: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="push">
      <button type="button" id="enable-push" onClick={() => void enable()} disabled={busy || !supported}>
        {busy ? 'Enabling…' : 'Enable push notifications'}
      </button>
      {!supported && <p className="muted">This browser cannot receive push notifications.</p>}
    </div>
  );
}

export function Destinations() {
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.destinations.list.queryOptions());
  const update = useMutation(trpc.destinations.update.mutationOptions());
  const remove = useMutation(trpc.destinations.remove.mutationOptions());
  const test = useMutation(trpc.destinations.test.mutationOptions());
  const [note, setNote] = useState<Note | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.destinations.list.queryKey() });
  const failed = (err: unknown) => setNote({ text: errorText(err), error: true });
  const items = list.data?.items ?? [];

  return (
    <section aria-labelledby="destinations-title" className="wide">
      <h2 id="destinations-title">Destinations</h2>
      <p className="muted">
        Besides this page, each new drop at a watched venue is sent to every destination that is on.
      </p>
      <EnablePush onNote={setNote} />
      {list.isPending && (
        <p className="muted" role="status" data-state="loading">
          Loading destinations…
        </p>
      )}
      {list.isError && (
        <p role="status" data-state="error">
          Could not load destinations: {errorText(list.error)}
        </p>
      )}
      {list.isSuccess && items.length === 0 && (
        <p id="destinations-empty" className="muted" data-state="empty">
          No destinations yet: notifications appear only on this page.
        </p>
      )}
      <ul id="destinations">
        {items.map((d) => {
          const label = d.name ?? destinationTarget(d);
          return (
            <li key={d.id} data-destination-id={d.id} data-channel={d.channel}>
              <span>
                <strong>{d.channel}</strong> · {label}
                {d.name && <span className="muted"> ({destinationTarget(d)})</span>}
                <br />
                <span className="muted">{stateOf(d)}</span>
                {d.quietHours && (
                  <span className="muted">
                    {' '}
                    · quiet {d.quietHours.start}–{d.quietHours.end} {d.quietHours.timeZone}
                  </span>
                )}
              </span>
              <span className="actions">
                <button
                  type="button"
                  aria-label={`${d.enabled && !d.disabledAt ? 'Turn off' : 'Turn on'} ${label}`}
                  onClick={() =>
                    update.mutate(
                      { id: d.id, enabled: !(d.enabled && !d.disabledAt) },
                      { onSuccess: refresh, onError: failed },
                    )
                  }
                >
                  {d.enabled && !d.disabledAt ? 'Turn off' : 'Turn on'}
                </button>
                <button
                  type="button"
                  aria-label={`Send a test to ${label}`}
                  disabled={test.isPending}
                  onClick={() =>
                    test.mutate(
                      { id: d.id },
                      {
                        onSuccess: (r) =>
                          setNote(
                            r.delivered
                              ? { text: `Test delivered to ${label}${r.status ? ` (HTTP ${r.status})` : ''}.` }
                              : {
                                  text: `Test to ${label} failed: ${r.error ?? `HTTP ${r.status ?? '?'}`}`,
                                  error: true,
                                },
                          ),
                        onError: failed,
                      },
                    )
                  }
                >
                  Test
                </button>
                <button
                  type="button"
                  aria-label={`Remove destination ${label}`}
                  onClick={() => remove.mutate({ id: d.id }, { onSuccess: refresh, onError: failed })}
                >
                  Remove
                </button>
              </span>
            </li>
          );
        })}
      </ul>
      <AddDestination onNote={setNote} />
      {note && (
        <div id="destination-note" role="status" data-state={note.error ? 'error' : 'ready'}>
          <p>{note.text}</p>
          {note.secrets &&
            Object.entries(note.secrets).map(([k, v]) => (
              <p key={k}>
                {k}: <code className="secret">{v}</code>
              </p>
            ))}
        </div>
      )}
    </section>
  );
}
