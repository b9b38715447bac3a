import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { CLIENT_MAX_URL_LENGTH, createDropwatchClient } from '../src/index.js';

/**
 * A fetch that answers every tRPC call with `{ path }` in tRPC's wire format (a batch gets an
 * array, a single call one envelope) and records each request's URL: the links' routing is
 * what is under test, so the server is not needed.
 */
function recordingFetch() {
  const urls: URL[] = [];
  const fetch: typeof globalThis.fetch = (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    urls.push(url);
    const paths = url.pathname.replace(/^\/trpc\//, '').split(',');
    const envelope = (path: string) => ({ result: { data: superjson.serialize({ path }) } });
    const body = url.searchParams.has('batch') ? paths.map(envelope) : envelope(paths[0]!);
    return Promise.resolve(new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } }));
  };
  return { urls, fetch };
}

describe('the client links', () => {
  it('sends feed.live alone (its cacheable URL) while calls made with it are still batched', async () => {
    const { urls, fetch } = recordingFetch();
    const client = createDropwatchClient({ url: 'http://dropwatch.test', fetch });
    const answers = await Promise.all([
      client.feed.live.query({ market: 'nyc' }),
      client.health.status.query(),
      client.health.buckets.query(),
    ]);
    expect(answers.map((a) => (a as unknown as { path: string }).path)).toEqual([
      'feed.live',
      'health.status',
      'health.buckets',
    ]);

    const requests = urls
      .map((u) => ({ path: u.pathname, batch: u.searchParams.get('batch') }))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(requests).toEqual([
      { path: '/trpc/feed.live', batch: null },
      { path: '/trpc/health.status,health.buckets', batch: '1' },
    ]);
    const live = urls.find((u) => u.pathname === '/trpc/feed.live')!;
    expect(superjson.parse(live.searchParams.get('input')!)).toEqual({ market: 'nyc' });
  });

  it('splits a burst of queries whose inputs would make one batch URL too long', async () => {
    const { urls, fetch } = recordingFetch();
    const client = createDropwatchClient({ url: 'http://dropwatch.test', fetch });
    // Each input alone is far below the limit; twenty together are far above it.
    const venueIds = Array.from({ length: 20 }, (_, i) => `resy-${String(i).padStart(3, '0')}-${'x'.repeat(200)}`);
    const answers = await Promise.all(venueIds.map((id) => client.venues.get.query({ venueId: id })));
    expect(answers).toHaveLength(20);

    expect(urls.length).toBeGreaterThan(1);
    for (const url of urls) expect(url.href.length).toBeLessThanOrEqual(CLIENT_MAX_URL_LENGTH);
    const calls = urls.flatMap((u) => u.pathname.replace(/^\/trpc\//, '').split(','));
    expect(calls).toEqual(venueIds.map(() => 'venues.get'));
  });

  it('sends a query whose input alone is past the URL limit by itself, for the server to judge', async () => {
    const { urls, fetch } = recordingFetch();
    const client = createDropwatchClient({ url: 'http://dropwatch.test', fetch });
    const big = { venueId: `resy:${'9'.repeat(CLIENT_MAX_URL_LENGTH)}` };
    const [alone, other] = await Promise.all([client.venues.get.query(big), client.health.status.query()]);
    expect((alone as unknown as { path: string }).path).toBe('venues.get');
    expect((other as unknown as { path: string }).path).toBe('health.status');
    const single = urls.find((u) => u.pathname === '/trpc/venues.get')!;
    expect(single.searchParams.get('batch')).toBeNull();
    expect(superjson.parse(single.searchParams.get('input')!)).toEqual(big);
  });
});
