import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { createTRPCClient, httpSubscriptionLink, type TRPCClient } from '@trpc/client';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { EventSource } from 'eventsource';
import type pg from 'pg';
import pino from 'pino';
import superjson from 'superjson';
import { appRouter, createRequestContextFactory, issueToken, PgDropListener, type AppRouter } from '@dropwatch/api';
import type { Config } from '@dropwatch/core';
import { generateWebhookSecret } from '@dropwatch/discovery';
import { DROPS_CHANNEL } from '@dropwatch/db';
import type { BenchContext } from '../../harness.js';
import { median, quantile } from '../../stats.js';

/** The interval the notify job ran at, a fresh worker thread per run, before it became long-lived. */
const OLD_INTERVAL_MS = 5_000;
/** Users with a live onNew subscription and a webhook, and drops committed one by one at random moments. */
const SUBSCRIBERS = 20;
const LATENCY_DROPS = 60;
const LATENCY_SPREAD_MS = 400;
const LATENCY_DEADLINE_MS = 60_000;
const WORKER_STOP_MS = 10_000;

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WORKER_FILE = new URL('./notify-job-worker.js', import.meta.url);

type Client = TRPCClient<AppRouter>;

function subscriber(url: string, token: string): Client {
  return createTRPCClient<AppRouter>({
    links: [
      httpSubscriptionLink({
        url,
        transformer: superjson,
        EventSource,
        eventSourceOptions: () => ({
          fetch: (input: string | URL, init?: RequestInit) =>
            fetch(input, {
              ...init,
              headers: { ...(init?.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` },
            }),
        }),
      }),
    ],
  });
}

/** Resolves when the worker thread has exited (after 'done', or terminated). */
function exited(worker: Worker): Promise<void> {
  return new Promise((resolve) => worker.once('exit', () => resolve()));
}

function startJob(databaseUrl: string, mode: 'once' | 'long-lived'): Worker {
  const worker = new Worker(WORKER_FILE, { workerData: { databaseUrl, mode } });
  worker.on('message', (m) => {
    if (m === 'done') void worker.terminate();
  });
  return worker;
}

/** The notify job as it ran before: a fresh worker thread every OLD_INTERVAL_MS, a run skipped while one is running. */
function intervalJob(databaseUrl: string): { stop(): Promise<void> } {
  let running: Worker | undefined;
  const tick = () => {
    if (running) return;
    const w = startJob(databaseUrl, 'once');
    running = w;
    void exited(w).then(() => {
      if (running === w) running = undefined;
    });
  };
  tick();
  const timer = setInterval(tick, OLD_INTERVAL_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      if (running) await exited(running);
    },
  };
}

/** Today's job: one long-lived worker thread, stopped by 'cancel' as Bree does. */
function longLivedJob(databaseUrl: string): { stop(): Promise<void> } {
  const w = startJob(databaseUrl, 'long-lived');
  const gone = exited(w);
  return {
    stop: async () => {
      w.postMessage('cancel');
      const timer = setTimeout(() => void w.terminate(), WORKER_STOP_MS);
      await gone;
      clearTimeout(timer);
    },
  };
}

interface Variant {
  readonly name: string;
  start(databaseUrl: string): { stop(): Promise<void> };
}

const VARIANTS: readonly Variant[] = [
  { name: `old: interval job every ${OLD_INTERVAL_MS / 1000} s, worker boot per run`, start: intervalJob },
  { name: 'new: long-lived worker woken by LISTEN', start: longLivedJob },
];

/**
 * Drop commit → notifications.onNew (over SSE, from an API handler with its PgDropListener) and
 * drop commit → webhook received (a receiver on 127.0.0.1), for each shape of the notify job.
 * Each drop is committed as the discovery poller commits one: the row and its NOTIFY
 * dropwatch_drops in one transaction.
 */
export async function notifyLatency(ctx: BenchContext, sql: pg.Client, config: Config, venues: number): Promise<void> {
  const listener = new PgDropListener(ctx.databaseUrl, silent);
  await listener.start();
  const createContext = createRequestContextFactory({ orm: ctx.orm, config, drops: listener });
  const handler = createHTTPHandler({
    router: appRouter,
    createContext: ({ req }) => createContext(req.headers.authorization),
  });
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sse = new Map<string, number>();
  const hooks = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const n = req.url?.split('/').at(-1) ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { drop?: { id?: string } } };
      if (body.data?.drop?.id) hooks.set(`${n}:${body.data.drop.id}`, at);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const subs: { unsubscribe(): void }[] = [];
  const users: number[] = [];
  for (let n = 1; n <= SUBSCRIBERS; n++) {
    const { token } = await issueToken(ctx.orm.em.fork(), { userName: `fan-${n}`, role: 'user' });
    await sql.query(
      `insert into destinations (user_id, channel, settings, secrets)
       select id, 'webhook', jsonb_build_object('url', $2::text), jsonb_build_object('signingSecret', $3::text)
       from users where name = $1`,
      [`fan-${n}`, `${hookBase}/${n}`, generateWebhookSecret()],
    );
    subs.push(
      subscriber(url, token).notifications.onNew.subscribe(undefined, {
        onData: (e) => sse.set(`${n}:${e.data.drop.id}`, performance.now()),
      }),
    );
    users.push(n);
  }
  await sleep(1_000); // let every SSE stream open

  const results: { variant: string; onNew: number[]; webhook: number[]; missing: number }[] = [];
  let slot = 0;
  try {
    for (const variant of VARIANTS) {
      const job = variant.start(ctx.databaseUrl);
      await sleep(1_500); // the first worker is up (the old variant's first run is under way)
      const committed: { key: string; at: number }[] = [];
      for (let i = 0; i < LATENCY_DROPS; i++) {
        const n = users[i % users.length]!;
        await sql.query('begin');
        const { rows } = await sql.query<{ id: string }>(
          `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes)
           values ('nyc_bench_lat', md5(random()::text), $1, $2, 'nyc', current_date + 1, '21:00', '{2}') returning id::text`,
          [1_000_000 + slot++, `resy:f${(n * 7) % venues}`],
        );
        await sql.query('select pg_notify($1, $2)', [DROPS_CHANNEL, '']);
        await sql.query('commit');
        committed.push({ key: `${n}:${rows[0]!.id}`, at: performance.now() });
        await sleep(Math.random() * LATENCY_SPREAD_MS);
      }
      const deadline = performance.now() + LATENCY_DEADLINE_MS;
      while (committed.some((c) => !sse.has(c.key) || !hooks.has(c.key)) && performance.now() < deadline)
        await sleep(50);
      await job.stop();
      const onNew: number[] = [];
      const webhook: number[] = [];
      let missing = 0;
      for (const c of committed) {
        const s = sse.get(c.key);
        const h = hooks.get(c.key);
        if (s === undefined || h === undefined) missing++;
        if (s !== undefined) onNew.push(s - c.at);
        if (h !== undefined) webhook.push(h - c.at);
      }
      results.push({ variant: variant.name, onNew, webhook, missing });
      ctx.log(
        `${variant.name}: commit→onNew p50 ${Math.round(median(onNew))} p99 ${Math.round(quantile(onNew, 0.99))} ms; ` +
          `commit→webhook p50 ${Math.round(median(webhook))} p99 ${Math.round(quantile(webhook, 0.99))} ms; missing ${missing}`,
      );
    }
  } finally {
    for (const s of subs) s.unsubscribe();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
    await listener.stop();
  }

  const reference = results[0];
  for (const r of results) {
    for (const [what, samples, ref] of [
      ['commit → onNew (SSE)', r.onNew, reference?.onNew ?? []],
      ['commit → webhook received', r.webhook, reference?.webhook ?? []],
    ] as const) {
      ctx.record({
        case: `${what}, ${SUBSCRIBERS} subscribers, ${LATENCY_DROPS} drops`,
        variant: r.variant,
        metrics: {
          drops: LATENCY_DROPS,
          missing: r.missing,
          p50Ms: Math.round(median(samples)),
          p99Ms: Math.round(quantile(samples, 0.99)),
          p50VsOld: median(samples) / median(ref),
          p99VsOld: quantile(samples, 0.99) / quantile(ref, 0.99),
        },
      });
    }
  }
}
