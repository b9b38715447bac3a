// The dashboard's service worker: it shows the push notifications dropwatch sends (Web Push) and
// opens the booking link when one is clicked. Served from the dashboard's origin at /sw.js.
/* global self, clients */

const DASHBOARD = '/';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  const title = typeof data.title === 'string' && data.title ? data.title : 'dropwatch: new drop';
  const url = typeof data.url === 'string' && /^https?:\/\//.test(data.url) ? data.url : DASHBOARD;
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === 'string' ? data.body : '',
      // One notification per delivery: a re-sent push replaces the one already shown.
      tag: typeof data.id === 'string' ? data.id : undefined,
      data: { url },
      actions: url === DASHBOARD ? [] : [{ action: 'book', title: 'Book' }],
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || DASHBOARD;
  event.waitUntil(clients.openWindow(url));
});
