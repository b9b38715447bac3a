// Notifications arriving live (notifications.onNew over SSE) for the signed-in account: they join
// the top of the notifications list, highlighted, and pop up as toasts until read or dismissed.
import { skipToken, useMutation, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { RouterOutputs } from '@dropwatch/client';
import { errorText } from '../format';
import { NOTIFICATIONS_MAX, useSession } from '../session';
import { useAccountTRPC } from '../trpc';

export type Notification = RouterOutputs['notifications']['list']['items'][number];
type List = RouterOutputs['notifications']['list'];

/** Toasts on screen at most; the oldest goes first (all stay in the notifications list). */
const TOASTS_MAX = 3;

interface LiveNotifications {
  /** Ids that arrived live during this session (highlighted in the list). */
  readonly fresh: ReadonlySet<string>;
  readonly toasts: readonly Notification[];
  readonly dismiss: (id: string) => void;
  readonly markRead: (ids: string[] | 'all') => void;
}

const LiveContext = createContext<LiveNotifications | null>(null);

export function useLiveNotifications(): LiveNotifications {
  const v = useContext(LiveContext);
  if (!v) throw new Error('useLiveNotifications outside <NotificationsLive>');
  return v;
}

export function NotificationsLive({ children }: { children: ReactNode }) {
  const { session, setMessage } = useSession();
  const trpc = useAccountTRPC();
  const queryClient = useQueryClient();
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [toasts, setToasts] = useState<readonly Notification[]>([]);

  // A new session starts with no highlights and no toasts.
  const [owner, setOwner] = useState(session);
  if (owner !== session) {
    setOwner(session);
    setFresh(new Set());
    setToasts([]);
  }

  useSubscription(
    trpc.notifications.onNew.subscriptionOptions(session ? {} : skipToken, {
      onData: ({ data: n }) => {
        queryClient.setQueryData<List>(trpc.notifications.list.queryKey({ limit: NOTIFICATIONS_MAX }), (old) => {
          if (old?.items.some((x) => x.id === n.id)) return old;
          return { items: [n, ...(old?.items ?? [])].slice(0, NOTIFICATIONS_MAX), nextCursor: old?.nextCursor ?? null };
        });
        setFresh((s) => new Set(s).add(n.id));
        if (!n.readAt) setToasts((t) => [n, ...t.filter((x) => x.id !== n.id)].slice(0, TOASTS_MAX));
      },
      onError: (err) => setMessage(`Live notifications stopped: ${errorText(err)}`),
    }),
  );

  const markOne = useMutation(trpc.notifications.markRead.mutationOptions());
  const markAll = useMutation(trpc.notifications.markAllRead.mutationOptions());
  const markRead = useCallback(
    (ids: string[] | 'all') => {
      const done = () => {
        const readAt = new Date();
        const isRead = (id: string) => ids === 'all' || ids.includes(id);
        queryClient.setQueryData<List>(trpc.notifications.list.queryKey({ limit: NOTIFICATIONS_MAX }), (old) =>
          old ? { ...old, items: old.items.map((n) => (isRead(n.id) && !n.readAt ? { ...n, readAt } : n)) } : old,
        );
        setToasts((t) => t.filter((n) => !isRead(n.id)));
        setMessage('');
      };
      const failed = (err: unknown) => setMessage(`Could not mark read: ${errorText(err)}`);
      if (ids === 'all') markAll.mutate(undefined, { onSuccess: done, onError: failed });
      else if (ids.length > 0) markOne.mutate({ ids }, { onSuccess: done, onError: failed });
    },
    [trpc, queryClient, markOne.mutate, markAll.mutate, setMessage],
  );
  const dismiss = useCallback((id: string) => setToasts((t) => t.filter((n) => n.id !== id)), []);

  const value = useMemo(() => ({ fresh, toasts, dismiss, markRead }), [fresh, toasts, dismiss, markRead]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function Toasts() {
  const { toasts, dismiss, markRead } = useLiveNotifications();
  return (
    <div id="toasts" role="status" aria-live="polite" aria-label="New notifications">
      {toasts.map((n) => {
        const what = `${n.drop.venue.name} ${n.drop.slotDate} ${n.drop.slotTime}`;
        return (
          <div key={n.id} className="toast" data-notification-id={n.id}>
            <strong>New drop</strong>
            <span>
              {n.drop.venue.name} · {n.drop.slotDate} {n.drop.slotTime} · party {n.drop.partySizes.join('/')}
            </span>
            <button
              type="button"
              className="mark-read"
              aria-label={`Mark read: ${what}`}
              onClick={() => markRead([n.id])}
            >
              Mark read
            </button>
            <button type="button" aria-label={`Dismiss notification: ${what}`} onClick={() => dismiss(n.id)}>
              Dismiss
            </button>
          </div>
        );
      })}
    </div>
  );
}
