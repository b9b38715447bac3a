import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, waitFor, type ApiHarness } from './api-fixtures.js';

/** The value of one sample line of Prometheus text (`name{labels} value`), or null. */
function sample(text: string, name: string, labels = ''): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

describe('/metrics counts what this process did', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    // Role all: the discovery worker runs in this process against the simulated market.
    h = await startApiHarness({
      DROPWATCH_ROLE: 'all',
      DISCOVERY_TICK_SECONDS: '2',
      DISCOVERY_BUCKET_COOLDOWN_SECONDS: '2',
      DISCOVERY_MARKETS: 'nyc',
      SIM_VENUES: '40',
    });
  });
  afterAll(() => h?.stop());

  const scrape = async () => (await fetch(`${h.app.url}/metrics`)).text();

  it('poll durations come from the worker of this process, with default process metrics beside them', async () => {
    let text = '';
    await waitFor(
      async () => {
        text = await scrape();
        return (sample(text, 'dropwatch_discovery_poll_duration_seconds_count') ?? 0) > 0 ? true : undefined;
      },
      80_000,
      'a bucket poll counted in /metrics',
    );
    expect(text).toMatch(/^# TYPE dropwatch_discovery_drops_total counter$/m);
    expect(text).toMatch(/^# TYPE dropwatch_provider_errors_total counter$/m);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).not.toBeNull();
    expect(sample(text, 'nodejs_heap_size_used_bytes')).not.toBeNull();
  }, 90_000);

  it('an SSE subscription is counted as a request but kept out of the latency histogram', async () => {
    const c = h.client();
    await new Promise<void>((resolve, reject) => {
      const sub = c.feed.onDrop.subscribe(
        {},
        {
          onStarted: () => {
            sub.unsubscribe();
            resolve();
          },
          onError: reject,
        },
      );
    });
    let text = '';
    await waitFor(
      async () => {
        text = await scrape();
        return text.includes('dropwatch_http_requests_total{procedure="feed.onDrop"') ? true : undefined;
      },
      10_000,
      'the subscription counted as a request',
    );
    expect(text).not.toContain('dropwatch_http_request_duration_seconds_count{procedure="feed.onDrop"}');
  });
});
