import { getMarket, loadConfig, marketToday } from '@dropwatch/core';
import { useTestDatabase, waitFor } from '@dropwatch/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider, runPoller } from '../src/index.js';
import { ownerOf, ReplicaSet, workerSessionName } from '../src/poller/replica-set.js';
import { WorkerSession } from '../src/poller/worker-session.js';
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

const env = (url: string, extra: Record<string, string> = {}) =>
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
    ...extra,
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

  it('a killed worker (no leave, its lease still valid) has its buckets polled by the other within that lease', async () => {
    const leaseSeconds = 10;
    const config = env(market.url, { DISCOVERY_LEASE_SECONDS: String(leaseSeconds) });
    // The victim, as a real worker shows itself to the others: a lease row and its liveness session.
    const ghostSession = new pg.Client({ connectionString: t.db.url, application_name: workerSessionName('ghost') });
    await ghostSession.connect();
    ghostSession.on('error', () => undefined);
    await q(
      `insert into job_leases (name, holder, expires_at, acquired_at) values ('discovery-worker:ghost', 'ghost', now() + interval '60 seconds', now())`,
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
      sessionUrl: t.db.url,
    });
    const pollCounts = async () =>
      new Map(
        (await q<{ bucket_id: string; poll_count: number }>('select bucket_id, poll_count from discovery_buckets')).map(
          (r) => [r.bucket_id, Number(r.poll_count)],
        ),
      );
    // The buckets may have been polled by an earlier test: polls are counted from here on.
    const start = await pollCounts();
    const since = (counts: Map<string, number>, from: Map<string, number>, id: string) =>
      (counts.get(id) ?? 0) - (from.get(id) ?? 0);
    try {
      // Both live: the survivor polls its own share only.
      const before = await waitFor(
        async () => {
          const counts = await pollCounts();
          const own = [...counts.keys()].filter((id) => ownerOf(id, ['alive', 'ghost']) === 'alive');
          return own.length > 0 && own.every((id) => since(counts, start, id) > 0) ? counts : undefined;
        },
        15_000,
        "the survivor's share polled",
      );
      const ghostBuckets = [...before.keys()].filter((id) => ownerOf(id, ['alive', 'ghost']) === 'ghost');
      expect(ghostBuckets.length).toBeGreaterThan(0);
      expect(ghostBuckets.filter((id) => since(before, start, id) > 0)).toEqual([]);
      expect(provider.budget.requestsPerSecond).toBe(20);

      // SIGKILL, as PostgreSQL sees it: the session ends at once, the lease was just renewed and
      // would hold for a whole lease period more.
      await q(`update job_leases set expires_at = now() + make_interval(secs => ?) where holder = 'ghost'`, [
        leaseSeconds,
      ]);
      await q('select pg_terminate_backend(pid) from pg_stat_activity where application_name = ?', [
        workerSessionName('ghost'),
      ]);
      const killedAt = Date.now();
      await waitFor(
        async () => {
          const counts = await pollCounts();
          return ghostBuckets.every((id) => since(counts, before, id) > 0) ? true : undefined;
        },
        leaseSeconds * 1000,
        "the killed worker's buckets polled",
      );
      const tookMs = Date.now() - killedAt;
      // Inside the lease period: its lease row is still valid, yet nothing waited for it.
      const lease = await q<{ valid: boolean }>(
        "select expires_at > now() as valid from job_leases where name = 'discovery-worker:ghost'",
      );
      expect(lease[0]?.valid).toBe(true);
      expect(tookMs).toBeLessThan(leaseSeconds * 1000);
      expect(provider.budget.requestsPerSecond).toBe(40);
    } finally {
      abort.abort();
      await ghostSession.end().catch(() => undefined);
    }
    // The next test starts alone.
    await q("delete from job_leases where name = 'discovery-worker:ghost'");
    const stats = await running;
    expect(stats.skipped).toBe(0);
  });

  it('a live worker whose liveness session is cut counts itself out, as the others do, until the session is back', async () => {
    const observer = new pg.Client({ connectionString: t.db.url });
    await observer.connect();
    const { logger } = captureLogger();
    const a = new ReplicaSet('a', 30_000, true);
    const b = new ReplicaSet('b', 30_000, true);
    const sessionA = new WorkerSession(t.db.url, 'a', logger);
    const sessionB = new WorkerSession(t.db.url, 'b', logger);
    try {
      await sessionA.keep();
      await sessionB.keep();
      await a.refresh(observer);
      await b.refresh(observer);
      expect(await a.look(observer)).toEqual(['a', 'b']);
      expect(b.active).toBe(true);
      // b's backend ends while its process and lease live on (a network cut, a terminated backend).
      await q('select pg_terminate_backend(pid) from pg_stat_activity where application_name = ?', [
        workerSessionName('b'),
      ]);
      await waitFor(() => (sessionB.connected ? undefined : true), 5_000, "b's session lost");
      // Both read the same pg_stat_activity: a takes b's share at the same look at which b drops it.
      expect(await a.look(observer)).toEqual(['a']);
      await b.look(observer);
      expect(b.active).toBe(false);
      expect(b.owns('any-bucket')).toBe(false);
      // Reconnected: both count b in again.
      await waitFor(
        async () => {
          await sessionB.keep();
          return sessionB.connected ? true : undefined;
        },
        10_000,
        "b's session back",
      );
      expect(await a.look(observer)).toEqual(['a', 'b']);
      await b.look(observer);
      expect(b.active).toBe(true);
    } finally {
      await sessionA.close();
      await sessionB.close();
      await q("delete from job_leases where name in ('discovery-worker:a', 'discovery-worker:b')");
      await observer.end();
    }
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
