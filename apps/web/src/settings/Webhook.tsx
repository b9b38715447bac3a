// The signed-in user's webhook (Standard Webhooks): set its URL, see whether it is enabled, send a
// test event, rotate the signing secret (shown once), turn it back on after a 410, remove it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { dateTime, errorText } from '../format';
import { useAccountTRPC } from '../trpc';

export function Webhook() {
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const hook = useQuery(trpc.webhooks.get.queryOptions());
  const [url, setUrl] = useState('');
  const [note, setNote] = useState<{ text: string; secret?: string; error?: boolean } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.webhooks.get.queryKey() });
  const failed = (err: unknown) => setNote({ text: errorText(err), error: true });
  const set = useMutation(trpc.webhooks.set.mutationOptions());
  const rotate = useMutation(trpc.webhooks.rotateSecret.mutationOptions());
  const enable = useMutation(trpc.webhooks.enable.mutationOptions());
  const remove = useMutation(trpc.webhooks.remove.mutationOptions());
  const test = useMutation(trpc.webhooks.test.mutationOptions());
  const busy = set.isPending || rotate.isPending || enable.isPending || remove.isPending || test.isPending;

  return (
    <section aria-labelledby="webhook-title" className="wide">
      <h2 id="webhook-title">Webhook</h2>
      <p className="muted">
        dropwatch POSTs each notification to this URL, signed the Standard Webhooks way (webhook-id, webhook-timestamp,
        webhook-signature).
      </p>
      {hook.isPending && (
        <p className="muted" role="status" data-state="loading">
          Loading the webhook…
        </p>
      )}
      {hook.isError && (
        <p role="status" data-state="error">
          Could not load the webhook: {errorText(hook.error)}
        </p>
      )}
      {hook.isSuccess && !hook.data && (
        <p id="webhook-none" className="muted" data-state="empty">
          No webhook is set.
        </p>
      )}
      {hook.data && (
        <dl className="facts" id="webhook-current">
          <dt>URL</dt>
          <dd>{hook.data.url}</dd>
          <dt>State</dt>
          <dd>
            {hook.data.enabled
              ? 'enabled'
              : `disabled${hook.data.disabledReason ? `: ${hook.data.disabledReason}` : ''}${hook.data.disabledAt ? ` (${dateTime(hook.data.disabledAt)})` : ''}`}
          </dd>
          {hook.data.previousSecretValidUntil && (
            <>
              <dt>Previous secret</dt>
              <dd>still signs until {dateTime(hook.data.previousSecretValidUntil)}</dd>
            </>
          )}
        </dl>
      )}
      <form
        id="webhook-form"
        onSubmit={(e) => {
          e.preventDefault();
          set.mutate(
            { url: url.trim() },
            {
              onSuccess: (r) => {
                setUrl('');
                setNote({ text: `Webhook set to ${r.url}. Its signing secret (shown only now):`, secret: r.secret });
                void refresh();
              },
              onError: failed,
            },
          );
        }}
      >
        <label htmlFor="webhook-url">{hook.data ? 'New webhook URL' : 'Webhook URL'}</label>
        <input
          id="webhook-url"
          type="url"
          required
          maxLength={2048}
          placeholder="https://example.com/hooks/dropwatch"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
        <button type="submit" disabled={busy}>
          Save webhook
        </button>
      </form>
      {hook.data && (
        <div className="actions">
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              test.mutate(undefined, {
                onSuccess: (r) =>
                  setNote(
                    r.delivered
                      ? { text: `Test event delivered (HTTP ${r.status ?? '?'}).` }
                      : { text: `Test event not delivered: ${r.error ?? `HTTP ${r.status ?? '?'}`}`, error: true },
                  ),
                onError: failed,
              })
            }
          >
            Send a test event
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              rotate.mutate(
                { overlapHours: 24 },
                {
                  onSuccess: (r) => {
                    setNote({
                      text: 'New signing secret (shown only now); the previous one keeps signing for 24 h:',
                      secret: r.secret,
                    });
                    void refresh();
                  },
                  onError: failed,
                },
              )
            }
          >
            Rotate the secret
          </button>
          {!hook.data.enabled && (
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                enable.mutate(undefined, {
                  onSuccess: () => {
                    setNote({ text: 'Webhook enabled again.' });
                    void refresh();
                  },
                  onError: failed,
                })
              }
            >
              Enable again
            </button>
          )}
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              remove.mutate(undefined, {
                onSuccess: (r) => {
                  setNote({
                    text: `Webhook removed${r.cancelledDeliveries ? ` (${r.cancelledDeliveries} pending deliveries cancelled)` : ''}.`,
                  });
                  void refresh();
                },
                onError: failed,
              })
            }
          >
            Remove webhook
          </button>
        </div>
      )}
      {note && (
        <div id="webhook-note" role="status" data-state={note.error ? 'error' : 'ready'}>
          <p>{note.text}</p>
          {note.secret && <code className="secret">{note.secret}</code>}
        </div>
      )}
    </section>
  );
}
