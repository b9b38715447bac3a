// Hash routes (#/venue/resy:123, #/settings, #/admin): the server serves the page at / only,
// and a hash never reaches it, so every view is one static page.
import { useSyncExternalStore } from 'react';

export type Route =
  | { readonly page: 'dashboard' }
  | { readonly page: 'venue'; readonly venueId: string }
  | { readonly page: 'settings' }
  | { readonly page: 'admin' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const [head, ...rest] = path.split('/');
  if (head === 'venue' && rest.length > 0) {
    try {
      return { page: 'venue', venueId: decodeURIComponent(rest.join('/')) };
    } catch {
      return { page: 'dashboard' };
    }
  }
  if (head === 'settings') return { page: 'settings' };
  if (head === 'admin') return { page: 'admin' };
  return { page: 'dashboard' };
}

export const venueHref = (venueId: string): string => `#/venue/${encodeURIComponent(venueId)}`;

const subscribe = (onChange: () => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
