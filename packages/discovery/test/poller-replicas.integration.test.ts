import { getMarket, loadConfig, marketToday } from '@dropwatch/core';
import { useTestDatabase, waitFor } from '@dropwatch/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider, runPoller } from '../src/index.js';
import { startScriptedMarket } from './support/scripted-market.js';
import { captureLogger } from './support/tick-harness.js';

const t = useTestDatabase({ poolMax: 12 });
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  t.orm.em.fork().execute<T[]>(sql, params);

let market: Awaited<ReturnType<typeof startScriptedMarket>>;
const today = marketToday('nyc', new Date());
const [south, west] = getMarket('nyc').boundingBox;

beforeAll(async () => {
  market = await startScriptedMarket();
  for (let i = 1; i <= 5; i++)
    market.venues.set(i, { id: i, lat: south + 0.01 * i, lng: west + 0.01 * i, starts: [`${today} 20:30:00`] });
});
afterAll(async () => {
  await market.close();
});

const env = (url: string) =>
  loadConfig({
    RESY_API_KEY: 'test-key',
    RESY_BASE_URL: url,
    RESY_MAX_RPS: '40',
    DISCOVERY_WINDOW_DAYS: '7',
    DISCOVERY_TIME_SLOTS: '15:00,20:30',
    DISCOVERY_PARTY_SIZES: '2',
    DISCOVERY_BASELINE_POLLS: '1',
    DISCOVERY_BUCKET_COOLDOWN_SECONDS: '2',
    DISCOVERY_LEASE_SECONDS: '3',
    LOG_LEVEL: 'silent',
  });

describe('discovery replicas', () => {
  it('split the buckets and the budget while a second worker lives, and take its share when its lease runs out', async () => {
    const config = env(market.url);
    // Another worker, as a lease row only: it never polls, and it stops renewing (a SIGKILLed replica).
    await q(
      `insert into job_leases (name, holder, expires_at, acquired_at) values ('discovery-worker:ghost', 'ghost', now() + interval '8 seconds', now())`,
    );
    const provider = createProvider(config);
    const abort = new AbortController();
    const running = runPoller({
      orm: t.orm,
      config,
      provider,
      logger: captureLogger().logger,
      signal: abort.signal,
      holder: 'alive',
    });
    try {
      // While the ghost's lease holds, this worker's budget is half the limit and it polls only its share.
      await waitFor(() => (provider.budget.requestsPerSecond === 20 ? true : undefined), 5_000, 'the budget halved');
      await waitFor(
        async () =>
          (await q<{ n: string }>('select count(*) as n from discovery_buckets where poll_count > 0'))[0]!.n !== '0'
            ? true
            : undefined,
        10_000,
        'first polls',
      );
      // Rendezvous hashing leaves the ghost about half of the 14 buckets (all 14 here: 1 in 16 000).
      const polled = Number(
        (await q<{ n: string }>('select count(*) as n from discovery_buckets where poll_count > 0'))[0]!.n,
      );
      const ghostLive = await q<{ n: string }>(
        "select count(*) as n from job_leases where holder = 'ghost' and expires_at > now()",
      );
      expect(ghostLive[0]!.n).toBe('1');
      expect(polled).toBeLessThan(14);
      // The ghost's lease expires: its buckets move here within one lease period, and the budget is whole again.
      await waitFor(
        async () =>
          (await q<{ n: string }>('select count(*) as n from discovery_buckets where poll_count = 0'))[0]!.n === '0'
            ? true
            : undefined,
        20_000,
        'every bucket polled',
      );
      expect(provider.budget.requestsPerSecond).toBe(40);
      expect((await q("select 1 from job_leases where holder = 'ghost'")).length).toBe(0);
    } finally {
      abort.abort();
    }
    const stats = await running;
    // No snapshot thrown away: nobody else polled these buckets.
    expect(stats.skipped).toBe(0);
    // Leaving deletes this worker's lease at once.
    expect((await q("select 1 from job_leases where name = 'discovery-worker:alive'")).length).toBe(0);
  });

  it('a worker that joins polls only after the running one has lowered its share of the rate', async () => {
    const config = env(market.url);
    const start = (holder: string) => {
      const provider = createProvider(config);
      const abort = new AbortController();
      const running = runPoller({
        orm: t.orm,
        config,
        provider,
        logger: captureLogger().logger,
        signal: abort.signal,
        holder,
      });
      return { provider, abort, running };
    };
    const first = start('first');
    let second: ReturnType<typeof start> | undefined;
    try {
      await waitFor(() => (first.provider.budget.total > 0 ? true : undefined), 10_000, 'the first worker polls');
      expect(first.provider.budget.requestsPerSecond).toBe(40);
      second = start('second');
      // Sampled until both happened (bounded): when the first worker halved, when the second sent its first request.
      let halvedAt: number | undefined;
      let secondAt: number | undefined;
      for (let i = 0; i < 1_000 && (halvedAt === undefined || secondAt === undefined); i++) {
        const now = performance.now();
        if (halvedAt === undefined && first.provider.budget.requestsPerSecond === 20) halvedAt = now;
        if (secondAt === undefined && second.provider.budget.total > 0) secondAt = now;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(halvedAt).toBeDefined();
      expect(secondAt).toBeDefined();
      expect(halvedAt!).toBeLessThanOrEqual(secondAt!);
      expect(second.provider.budget.requestsPerSecond).toBe(20);
    } finally {
      first.abort.abort();
      second?.abort.abort();
    }
    await Promise.all([first.running, second?.running]);
  });
});
