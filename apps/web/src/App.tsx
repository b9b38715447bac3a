// The dashboard: live drops with filters, the ranked board and the bucket heat-map for anyone;
// a page per venue; watches, live notifications, notification settings and (for admin tokens)
// retention and table sizes after signing in. It talks to the server only through
// @dropwatch/client, as any frontend would.
import { QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { createDropwatchClient } from '@dropwatch/client';
import { Account } from './account/Account';
import { NotificationsLive, Toasts } from './account/live';
import { AdminPage } from './admin/AdminPage';
import { Feed } from './feed/Feed';
import { Health } from './Health';
import { Heatmap } from './heatmap/Heatmap';
import { publicQueryClient } from './query-client';
import { useRoute, type Route } from './route';
import { AccountProviders, SessionProvider } from './session';
import { SettingsPage } from './settings/SettingsPage';
import { PublicTRPCProvider } from './trpc';
import { VenuePage } from './venue/VenuePage';

const url = window.location.origin;
/**
 * The browser's HTTP cache revalidates every read (`no-cache`: If-None-Match, 304 when unchanged)
 * instead of reusing an answer for its max-age: a refresh always shows the server's newest feed,
 * and an unchanged feed.live costs a 304 without a body.
 */
const anonymous = createDropwatchClient({
  url,
  fetch: (input, init) => globalThis.fetch(input, { ...init, cache: 'no-cache' }),
});

const TITLES: Record<Route['page'], string> = {
  dashboard: 'dropwatch',
  venue: 'Venue · dropwatch',
  settings: 'Notification settings · dropwatch',
  admin: 'Admin · dropwatch',
};

function Nav({ route }: { route: Route }) {
  const link = (page: Route['page'], href: string, text: string) => (
    <a href={href} aria-current={route.page === page ? 'page' : undefined}>
      {text}
    </a>
  );
  return (
    <nav aria-label="Pages">
      {link('dashboard', '#/', 'Dashboard')}
      {link('settings', '#/settings', 'Notification settings')}
      {link('admin', '#/admin', 'Admin')}
    </nav>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'dashboard':
      return (
        <>
          <Feed />
          <Heatmap />
          <Account />
        </>
      );
    case 'venue':
      return <VenuePage venueId={route.venueId} />;
    case 'settings':
      return <SettingsPage />;
    case 'admin':
      return <AdminPage />;
  }
}

function Shell() {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = TITLES[route.page];
    // After following a link to another view, move focus to it (as a page load would).
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [route]);
  return (
    <>
      <header>
        <h1>
          <a href="#/">dropwatch</a>
        </h1>
        <Nav route={route} />
        <Health />
      </header>
      <main ref={main} tabIndex={-1}>
        <Page route={route} />
      </main>
      <Toasts />
    </>
  );
}

export function App() {
  return (
    <QueryClientProvider client={publicQueryClient}>
      <PublicTRPCProvider trpcClient={anonymous} queryClient={publicQueryClient}>
        <SessionProvider url={url}>
          <AccountProviders anonymous={anonymous} publicQueryClient={publicQueryClient}>
            <NotificationsLive>
              <Shell />
            </NotificationsLive>
          </AccountProviders>
        </SessionProvider>
      </PublicTRPCProvider>
    </QueryClientProvider>
  );
}
