// The dashboard: the live feed for anyone, watches and live notifications after signing in with
// a token. It talks to the server only through @dropwatch/client, as any frontend would.
import { createDropwatchClient, TRPCClientError, type DropDto, type DropwatchClient, type RouterOutputs } from '@dropwatch/client';

type Watch = RouterOutputs['watches']['list']['items'][number];
type Notification = RouterOutputs['notifications']['list']['items'][number];
interface Unsubscribable {
  unsubscribe(): void;
}

/** Drops shown in the feed at most (older ones fall off the end). */
const FEED_MAX = 100;
const NOTIFICATIONS_MAX = 50;
const HEALTH_EVERY_MS = 15_000;
/** The token lives for this tab only (not in localStorage, never in a URL). */
const TOKEN_KEY = 'dropwatch.token';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};

const url = window.location.origin;
const anonymous = createDropwatchClient({ url });

function el(tag: string, text: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (className) e.className = className;
  return e;
}

/** Only http(s) links from the API become links; anything else stays text. */
function safeHref(href: string | null): string | null {
  if (!href) return null;
  try {
    const u = new URL(href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

function dropItem(d: DropDto, isNew: boolean): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.dropId = d.id;
  if (isNew) li.classList.add('new');
  const what = el('span', `${d.venue.name} · ${d.slotDate} ${d.slotTime} · party ${d.partySizes.join('/')}`);
  li.append(what);
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

function errorText(err: unknown): string {
  if (err instanceof TRPCClientError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

// ---- live feed (public) ----
const feed = $<HTMLUListElement>('feed');
const feedEmpty = $('feed-empty');
const liveState = $('live-state');
const marketSelect = $<HTMLSelectElement>('market');
let feedSub: Unsubscribable | null = null;

function showDrop(d: DropDto, isNew: boolean, atTop: boolean): void {
  if (feed.querySelector(`[data-drop-id="${CSS.escape(d.id)}"]`)) return;
  const item = dropItem(d, isNew);
  if (atTop) feed.prepend(item);
  else feed.append(item);
  while (feed.children.length > FEED_MAX) feed.lastElementChild?.remove();
  feedEmpty.hidden = feed.children.length > 0;
}

async function loadFeed(): Promise<void> {
  const market = marketSelect.value as 'nyc';
  feedSub?.unsubscribe();
  feed.replaceChildren();
  feedEmpty.hidden = false;
  liveState.textContent = 'loading…';
  try {
    const live = await anonymous.feed.live.query({ market, limit: FEED_MAX });
    for (const d of live.justOpened) showDrop(d, false, false);
  } catch (err) {
    liveState.textContent = `feed unavailable: ${errorText(err)}`;
  }
  feedSub = anonymous.feed.onDrop.subscribe(
    { market },
    {
      onStarted: () => (liveState.textContent = 'live'),
      onData: (e) => showDrop(e.data, true, true),
      onError: (err) => (liveState.textContent = `live updates stopped: ${errorText(err)}`),
      onConnectionStateChange: (s) => {
        if (s.state === 'connecting') liveState.textContent = 'reconnecting…';
        else if (s.state === 'pending') liveState.textContent = 'live';
      },
    },
  );
}
marketSelect.addEventListener('change', () => void loadFeed());

// ---- health ----
const health = $('health');
async function checkHealth(): Promise<void> {
  try {
    const s = await anonymous.health.status.query();
    health.dataset.status = s.status;
    health.textContent = `Health: ${s.status}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`;
  } catch (err) {
    health.dataset.status = 'down';
    health.textContent = `Health: unreachable (${errorText(err)})`;
  }
}

// ---- account: watches and notifications ----
const signin = $<HTMLFormElement>('signin');
const tokenInput = $<HTMLInputElement>('token');
const signout = $<HTMLButtonElement>('signout');
const account = $('account');
const accountMessage = $('account-message');
const watchesList = $<HTMLUListElement>('watches');
const watchesEmpty = $('watches-empty');
const notificationsList = $<HTMLUListElement>('notifications');
const notificationsEmpty = $('notifications-empty');
const addWatch = $<HTMLFormElement>('add-watch');
let user: DropwatchClient | null = null;
let notificationSub: Unsubscribable | null = null;

function watchItem(w: Watch): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.watchId = w.id;
  const label = `${w.venueName ?? w.venueId ?? '?'}${w.partySize ? ` · party ${w.partySize}` : ''}${w.kind === 'exclude' ? ' (excluded)' : ''}`;
  li.append(el('span', label));
  const remove = el('button', 'Remove') as HTMLButtonElement;
  remove.type = 'button';
  remove.setAttribute('aria-label', `Remove watch ${label}`);
  remove.addEventListener('click', () => void removeWatch(w.id));
  li.append(remove);
  return li;
}

function notificationItem(n: Notification, isNew: boolean): HTMLLIElement {
  const li = dropItem(n.drop, isNew);
  li.dataset.notificationId = n.id;
  if (!n.readAt) li.classList.add('unread');
  return li;
}

function showNotification(n: Notification, isNew: boolean): void {
  if (notificationsList.querySelector(`[data-notification-id="${CSS.escape(n.id)}"]`)) return;
  const item = notificationItem(n, isNew);
  if (isNew) notificationsList.prepend(item);
  else notificationsList.append(item);
  while (notificationsList.children.length > NOTIFICATIONS_MAX) notificationsList.lastElementChild?.remove();
  notificationsEmpty.hidden = notificationsList.children.length > 0;
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
  accountMessage.textContent = '';
  try {
    const [{ items }, notes] = await Promise.all([client.watches.list.query(), client.notifications.list.query({ limit: NOTIFICATIONS_MAX })]);
    user = client;
    sessionStorage.setItem(TOKEN_KEY, token);
    watchesList.replaceChildren(...items.map(watchItem));
    watchesEmpty.hidden = items.length > 0;
    notificationsList.replaceChildren();
    for (const n of notes.items) showNotification(n, false);
    notificationsEmpty.hidden = notes.items.length > 0;
  } catch (err) {
    const unauthorized = err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED';
    accountMessage.textContent = unauthorized ? 'That token is not valid (unknown or revoked).' : `Could not sign in: ${errorText(err)}`;
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

void loadFeed();
void checkHealth();
setInterval(() => void checkHealth(), HEALTH_EVERY_MS);
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
