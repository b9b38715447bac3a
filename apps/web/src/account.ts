// Signing in with a token: watches (add, remove), notifications listed and arriving live as
// toasts, and marking them read.
import { createDropwatchClient, TRPCClientError, type DropwatchClient, type RouterOutputs } from '@dropwatch/client';
import { $, button, el, errorText } from './dom.js';
import { dropItem } from './feed.js';

type Watch = RouterOutputs['watches']['list']['items'][number];
type Notification = RouterOutputs['notifications']['list']['items'][number];
interface Unsubscribable {
  unsubscribe(): void;
}

const NOTIFICATIONS_MAX = 50;
/** Toasts on screen at most; the oldest goes first (all stay in the notifications list). */
const TOASTS_MAX = 3;
/** The token lives for this tab only (not in localStorage, never in a URL). */
const TOKEN_KEY = 'dropwatch.token';

export function startAccount(url: string): void {
  const signin = $<HTMLFormElement>('signin');
  const tokenInput = $<HTMLInputElement>('token');
  const signout = $<HTMLButtonElement>('signout');
  const account = $('account');
  const accountMessage = $('account-message');
  const watchesList = $<HTMLUListElement>('watches');
  const watchesEmpty = $('watches-empty');
  const notificationsList = $<HTMLUListElement>('notifications');
  const notificationsEmpty = $('notifications-empty');
  const markAll = $<HTMLButtonElement>('mark-all-read');
  const toasts = $('toasts');
  const addWatch = $<HTMLFormElement>('add-watch');
  let user: DropwatchClient | null = null;
  let notificationSub: Unsubscribable | null = null;

  const unreadIds = () =>
    [...notificationsList.querySelectorAll<HTMLElement>('li.unread')]
      .map((li) => li.dataset.notificationId ?? '')
      .filter(Boolean);
  const updateMarkAll = () => (markAll.hidden = unreadIds().length === 0);

  async function markRead(ids: string[]): Promise<void> {
    if (!user || ids.length === 0) return;
    try {
      await user.notifications.markRead.mutate({ ids });
      for (const id of ids) {
        const sel = `[data-notification-id="${CSS.escape(id)}"]`;
        const li = notificationsList.querySelector(sel);
        li?.classList.remove('unread');
        li?.querySelector('button.mark-read')?.remove();
        toasts.querySelector(sel)?.remove();
      }
      updateMarkAll();
      accountMessage.textContent = '';
    } catch (err) {
      accountMessage.textContent = `Could not mark read: ${errorText(err)}`;
    }
  }

  function watchItem(w: Watch): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.watchId = w.id;
    const label = `${w.venueName ?? w.venueId ?? '?'}${w.partySize ? ` · party ${w.partySize}` : ''}${w.kind === 'exclude' ? ' (excluded)' : ''}`;
    li.append(
      el('span', label),
      button('Remove', `Remove watch ${label}`, () => void removeWatch(w.id)),
    );
    return li;
  }

  function notificationItem(n: Notification, isNew: boolean): HTMLLIElement {
    const li = dropItem(n.drop, isNew);
    li.dataset.notificationId = n.id;
    if (!n.readAt) {
      li.classList.add('unread');
      const b = button(
        'Mark read',
        `Mark read: ${n.drop.venue.name} ${n.drop.slotDate} ${n.drop.slotTime}`,
        () => void markRead([n.id]),
      );
      b.classList.add('mark-read');
      li.append(b);
    }
    return li;
  }

  function toast(n: Notification): void {
    const box = el('div', '', 'toast');
    box.dataset.notificationId = n.id;
    box.append(
      el('strong', 'New drop'),
      el('span', `${n.drop.venue.name} · ${n.drop.slotDate} ${n.drop.slotTime} · party ${n.drop.partySizes.join('/')}`),
    );
    const what = `${n.drop.venue.name} ${n.drop.slotDate} ${n.drop.slotTime}`;
    const mark = button('Mark read', `Mark read: ${what}`, () => void markRead([n.id]));
    mark.classList.add('mark-read');
    box.append(
      mark,
      button('Dismiss', `Dismiss notification: ${what}`, () => box.remove()),
    );
    toasts.prepend(box);
    while (toasts.children.length > TOASTS_MAX) toasts.lastElementChild?.remove();
  }

  function showNotification(n: Notification, isNew: boolean): void {
    if (notificationsList.querySelector(`[data-notification-id="${CSS.escape(n.id)}"]`)) return;
    const item = notificationItem(n, isNew);
    if (isNew) notificationsList.prepend(item);
    else notificationsList.append(item);
    while (notificationsList.children.length > NOTIFICATIONS_MAX) notificationsList.lastElementChild?.remove();
    notificationsEmpty.hidden = notificationsList.children.length > 0;
    if (isNew && !n.readAt) toast(n);
    updateMarkAll();
  }

  async function refreshWatches(): Promise<void> {
    if (!user) return;
    const { items } = await user.watches.list.query();
    watchesList.replaceChildren(...items.map(watchItem));
    watchesEmpty.hidden = items.length > 0;
  }

  async function removeWatch(id: string): Promise<void> {
    if (!user) return;
    try {
      await user.watches.remove.mutate({ id });
      await refreshWatches();
      accountMessage.textContent = '';
    } catch (err) {
      accountMessage.textContent = errorText(err);
    }
  }

  async function signIn(token: string): Promise<void> {
    const client = createDropwatchClient({ url, token });
    accountMessage.textContent = 'Signing in…';
    try {
      const [{ items }, notes] = await Promise.all([
        client.watches.list.query(),
        client.notifications.list.query({ limit: NOTIFICATIONS_MAX }),
      ]);
      user = client;
      sessionStorage.setItem(TOKEN_KEY, token);
      watchesList.replaceChildren(...items.map(watchItem));
      watchesEmpty.hidden = items.length > 0;
      notificationsList.replaceChildren();
      for (const n of notes.items) showNotification(n, false);
      notificationsEmpty.hidden = notes.items.length > 0;
      accountMessage.textContent = '';
    } catch (err) {
      const unauthorized =
        err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED';
      accountMessage.textContent = unauthorized
        ? 'That token is not valid (unknown or revoked).'
        : `Could not sign in: ${errorText(err)}`;
      sessionStorage.removeItem(TOKEN_KEY);
      return;
    }
    account.hidden = false;
    signout.hidden = false;
    tokenInput.value = '';
    // The SDK authenticates this stream with a single-use ticket: the token stays out of the URL.
    notificationSub = client.notifications.onNew.subscribe(
      {},
      {
        onData: (e) => showNotification(e.data, true),
        onError: (err) => (accountMessage.textContent = `Live notifications stopped: ${errorText(err)}`),
      },
    );
  }

  function signOut(): void {
    notificationSub?.unsubscribe();
    notificationSub = null;
    user = null;
    sessionStorage.removeItem(TOKEN_KEY);
    account.hidden = true;
    signout.hidden = true;
    watchesList.replaceChildren();
    notificationsList.replaceChildren();
    toasts.replaceChildren();
  }

  signin.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = tokenInput.value.trim();
    if (token) {
      signOut();
      void signIn(token);
    }
  });
  signout.addEventListener('click', signOut);
  markAll.addEventListener('click', () => void markRead(unreadIds()));

  addWatch.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!user) return;
    const venue = $<HTMLInputElement>('watch-venue').value.trim();
    const party = $<HTMLInputElement>('watch-party').value.trim();
    const input = {
      ...(/^[a-z][a-z0-9]*:[A-Za-z0-9_-]+$/.test(venue) ? { venueId: venue } : { venueName: venue }),
      ...(party ? { partySize: Number(party) } : {}),
    };
    const client = user;
    void (async () => {
      try {
        await client.watches.add.mutate(input);
        addWatch.reset();
        accountMessage.textContent = '';
        await refreshWatches();
      } catch (err) {
        accountMessage.textContent = errorText(err);
      }
    })();
  });

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void signIn(saved);
}
