import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '@dropwatch/api';
import type { DropwatchClient } from '@dropwatch/client';
import { encodeCursor } from '@dropwatch/db';
import { freePort } from '@dropwatch/db/testing';
import superjson from 'superjson';
import pg from 'pg';
import type { BenchContext, Scenario } from '../harness.js';
import { clockTicks, cpuTicks } from '../proc-cpu.js';
import { runLoad, type LoadRequest, type LoadResult } from './http/load.js';
import { rawGet, startReplayServer, type RawResponse } from './http/replay.js';
import { sdkRequests } from './http/sdk-requests.js';
import { MARKET, seedHttpBench } from './http/seed.js';

/**
 * The server measured: this checkout's build, or BENCH_HTTP_SERVER_MAIN (another build's main.js,
 * to measure two versions of the server against the same bare replay in alternating runs).
 */
const serverMain =
  process.env.BENCH_HTTP_SERVER_MAIN ?? fileURLToPath(new URL('../../../server/dist/main.js', import.meta.url));

/** Load of each measured run (bounded in time): connections, and seconds per run. */
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 20);
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 2);
/**
 * Runs per side and case, ordered bare, ours, ours, bare, … (ABBA): drift of a shared machine
 * then hits both sides alike. Each side of a case is measured for ROUNDS × SECONDS in total.
 */
const ROUNDS = 2 * Math.max(1, Math.round(Number(process.env.BENCH_HTTP_ROUNDS ?? 2) / 2));
/** One unmeasured run of every case against the server first, so its JIT is warm for all of them. */
const WARMUP_SECONDS = Number(process.env.BENCH_HTTP_WARMUP_SECONDS ?? 3);
/** Only the cases whose name contains this (e.g. "newDrops"); all by default. */
const ONLY = process.env.BENCH_HTTP_ONLY;
/** A directory: the server runs with --cpu-prof and writes its profile there on exit. */
const CPU_PROF_DIR = process.env.BENCH_HTTP_CPU_PROF;
/** Each case should reach at least this fraction of the bare server's requests/s. */
const GOAL_RATIO = 0.5;
/** The feed.live limit the dashboard asks for. */
const LIVE_LIMIT = 100;
/** A poller's newDrops page size (the CLI's tail asks for the server's largest page). */
const PAGE_LIMIT = 200;
/** How far behind the head the "full page" poller is: far enough that its page is full. */
const FULL_PAGE_BEHIND = 5_000;
const HEAD_NEW_ROWS = 10;

/**
 * Accept-Encoding as real clients send it; the label is what the server answers with.
 * Chromium's header, Node's fetch (undici), and a client that asks for no compression.
 */
const ENCODINGS = [
  { label: 'br', header: 'gzip, deflate, br, zstd' },
  { label: 'gzip', header: 'gzip, deflate' },
  { label: 'identity', header: 'identity' },
] as const;
type Encoding = (typeof ENCODINGS)[number];

interface HttpCase {
  readonly name: string;
  /** What the client sends, in turn on each connection (Accept-Encoding added per encoding). */
  readonly requests: readonly LoadRequest[];
  readonly encodings: readonly Encoding[];
  /** Headers added after the first answer is known (If-None-Match with its ETag). */
  readonly conditional?: boolean;
}

interface Measured {
  readonly name: string;
  readonly encoding: Encoding;
  readonly requests: readonly LoadRequest[];
  readonly captured: ReadonlyArray<{ request: LoadRequest; response: RawResponse }>;
  readonly expectStatus: number;
}

async function waitHttp(url: string, deadlineMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before ${url} answered`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startServer(ctx: BenchContext, port: number): ChildProcess {
  const execArgv = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  return spawn(process.execPath, [...execArgv, serverMain], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: ctx.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      // API only: no discovery writing to the database while it is being read.
      DROPWATCH_ROLE: 'api',
      LOG_LEVEL: 'warn',
      DROPWATCH_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdefghijklmnop',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * What each case sends, recorded from the SDK's real requests (and, for the one "before"
 * case, from a plain tRPC client with a single batch link, which is what a page sent before the
 * SDK routed feed.live around its batches).
 */
async function buildCases(
  ctx: BenchContext,
  origin: string,
  drops: ReadonlyArray<{ txId: bigint; id: bigint }>,
): Promise<HttpCase[]> {
  const cursorAt = (fromEnd: number) => {
    const at = drops[drops.length - 1 - fromEnd];
    if (!at) throw new Error(`only ${drops.length} drops seeded`);
    return encodeCursor(at);
  };
  const expectDrops = (n: number, got: number, what: string) => {
    if (got !== n) throw new Error(`${what}: expected ${n} drops, got ${got}`);
  };
  const live = (c: DropwatchClient) => c.feed.live.query({ market: MARKET, limit: LIVE_LIMIT });

  const liveAlone = await sdkRequests(origin, live);
  const page = await sdkRequests(origin, (c) => Promise.all([live(c), c.health.status.query()]));
  let headCursor = '';
  const head = await sdkRequests(origin, async (c) => {
    const r = await c.feed.newDrops.query({ cursor: cursorAt(HEAD_NEW_ROWS), market: MARKET, limit: PAGE_LIMIT });
    expectDrops(HEAD_NEW_ROWS, r.drops.length, 'newDrops near the head');
    headCursor = r.cursor;
  });
  const caughtUp = await sdkRequests(origin, async (c) => {
    const r = await c.feed.newDrops.query({ cursor: headCursor, market: MARKET, limit: PAGE_LIMIT });
    expectDrops(0, r.drops.length, 'newDrops at the head');
  });
  const full = await sdkRequests(origin, async (c) => {
    const r = await c.feed.newDrops.query({ cursor: cursorAt(FULL_PAGE_BEHIND), market: MARKET, limit: PAGE_LIMIT });
    expectDrops(PAGE_LIMIT, r.drops.length, 'newDrops full page');
  });
  const buckets = await sdkRequests(origin, (c) => c.health.buckets.query());

  const oneBatch: LoadRequest[] = [];
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    oneBatch.push({ path: `${url.pathname}${url.search}`, headers: {} });
    return fetch(input, init);
  };
  const plain = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${origin}/trpc`, transformer: superjson, fetch: recording })],
  });
  await Promise.all([plain.feed.live.query({ market: MARKET, limit: LIVE_LIMIT }), plain.health.status.query()]);

  for (const [what, sent] of Object.entries({ liveAlone, page, head, caughtUp, full, buckets, oneBatch })) {
    ctx.log(`${what} sends: ${sent.map((r) => decodeURIComponent(r.path)).join('  +  ')}`);
  }
  const all = [...ENCODINGS];
  const br = ENCODINGS.filter((e) => e.label === 'br');
  return [
    { name: `feed.live limit=${LIVE_LIMIT} (cached, 200)`, requests: liveAlone, encodings: all },
    {
      name: `feed.live limit=${LIVE_LIMIT} If-None-Match (304)`,
      requests: liveAlone,
      encodings: br,
      conditional: true,
    },
    { name: 'page: feed.live + health.status as the SDK sends them (2 requests)', requests: page, encodings: all },
    {
      name: 'page: feed.live,health.status in ONE batch (plain httpBatchLink, not the SDK)',
      requests: oneBatch,
      encodings: br,
    },
    { name: `feed.newDrops near the head (${HEAD_NEW_ROWS} new rows)`, requests: head, encodings: all },
    // Under the compression threshold: the answer is the same whatever the client accepts.
    { name: 'feed.newDrops at the head (0 new rows)', requests: caughtUp, encodings: br },
    { name: `feed.newDrops full page (${PAGE_LIMIT} rows)`, requests: full, encodings: all },
    { name: 'health.buckets (28 buckets)', requests: buckets, encodings: all },
  ];
}

/** Captures the server's answer to every request of every case, as the bare server will replay it. */
async function capture(origin: string, cases: readonly HttpCase[]): Promise<Measured[]> {
  const measured: Measured[] = [];
  for (const c of cases) {
    if (ONLY && !c.name.includes(ONLY)) continue;
    for (const encoding of c.encodings) {
      const captured: Array<{ request: LoadRequest; response: RawResponse }> = [];
      for (const sent of c.requests) {
        let request: LoadRequest = {
          path: sent.path,
          headers: { ...sent.headers, 'accept-encoding': encoding.header },
        };
        let response = await rawGet(origin, request);
        if (c.conditional) {
          const etag = response.headers.etag;
          if (!etag) throw new Error(`${c.name}: no ETag on ${sent.path}`);
          request = { path: request.path, headers: { ...request.headers, 'if-none-match': etag } };
          response = await rawGet(origin, request);
        }
        const want = c.conditional ? 304 : 200;
        if (response.status !== want) {
          throw new Error(`${c.name}: ${sent.path} answered ${response.status}: ${response.body.toString()}`);
        }
        captured.push({ request, response });
      }
      measured.push({
        name: c.name,
        encoding,
        requests: captured.map((x) => x.request),
        captured,
        expectStatus: c.conditional ? 304 : 200,
      });
    }
  }
  return measured;
}

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Totals {
  readonly requests: number;
  readonly seconds: number;
  /** The worst run's p99. */
  readonly p99Ms: number;
  readonly bytesRead: number;
  /** Answers with another status than the case expects, plus connection errors and timeouts. */
  readonly unexpected: number;
}

function totals(runs: readonly LoadResult[], expectStatus: number): Totals {
  const sum = (f: (r: LoadResult) => number) => runs.reduce((s, r) => s + f(r), 0);
  return {
    requests: sum((r) => r.requests),
    seconds: sum((r) => r.seconds),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    bytesRead: sum((r) => r.bytesRead),
    unexpected: sum((r) => r.requests - (expectStatus === 304 ? r.status3xx : r.status2xx) + r.errors),
  };
}

export const httpScenario: Scenario = {
  name: 'http',
  description:
    'what a frontend sends over HTTP (feed.live 200/304, a page of feed.live + health.status, newDrops at the head and a full page, health.buckets), br/gzip/identity, vs a bare node:http server replaying the same bytes',
  async run(ctx: BenchContext) {
    if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 1 || !(SECONDS > 0) || !(WARMUP_SECONDS >= 0)) {
      throw new Error('BENCH_HTTP_CONNECTIONS must be ≥ 1, BENCH_HTTP_SECONDS > 0, BENCH_HTTP_WARMUP_SECONDS ≥ 0');
    }
    const drops = await seedHttpBench(ctx);
    const work = await mkdtemp(path.join(tmpdir(), 'dropwatch-bench-http-'));
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const stats = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'dropwatch-bench-cpu' });
    await stats.connect();
    const server = startServer(ctx, port);
    const children: ChildProcess[] = [server];
    try {
      await waitHttp(`${origin}/healthz`, 30_000, server);
      const measured = await capture(origin, await buildCases(ctx, origin, drops));
      const barePort = await freePort();
      const bareOrigin = `http://127.0.0.1:${barePort}`;
      const bareServer = await startReplayServer(
        path.join(work, 'answers.json'),
        barePort,
        measured.flatMap((m) => m.captured),
      );
      children.push(bareServer);
      // CPU per request, next to req/s: a shared machine's scheduling moves req/s run to run much
      // more than it moves the CPU time each answer costs. Ours counts the server process and the
      // PostgreSQL backends of its pool (the database work of an answer is part of its cost).
      const ticksPerSecond = clockTicks();
      const backendPids = async () =>
        (
          await stats.query<{ pid: number }>(
            'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
          )
        ).rows.map((r) => r.pid);
      const cpuSample = async (pids: readonly number[]) => {
        const ticks = new Map<number, number>();
        for (const pid of pids) {
          // A backend may end between listing and reading it.
          await cpuTicks(pid).then(
            (t) => ticks.set(pid, t),
            () => undefined,
          );
        }
        return ticks;
      };
      const pidsOf = async (who: 'bare' | 'ours') => ({
        node: [who === 'bare' ? bareServer.pid! : server.pid!],
        db: who === 'bare' ? [] : await backendPids(),
      });
      const load = (o: string, requests: readonly LoadRequest[], seconds = SECONDS) =>
        runLoad({ origin: o, connections: CONNECTIONS, seconds, requests });
      if (WARMUP_SECONDS > 0) {
        await load(
          origin,
          measured.flatMap((m) => m.requests),
          WARMUP_SECONDS,
        );
      }

      const verdicts: string[] = [];
      const rps = (r: Totals) => r.requests / r.seconds;
      for (const m of measured) {
        const load1 = loadavg()[0] ?? 0;
        const runs = { bare: [] as LoadResult[], ours: [] as LoadResult[] };
        const cpu = { bare: { node: 0, db: 0 }, ours: { node: 0, db: 0 } };
        for (let i = 0; i < ROUNDS; i++) {
          const who = i % 4 === 0 || i % 4 === 3 ? 'bare' : 'ours';
          const pids = await pidsOf(who);
          const before = { node: await cpuSample(pids.node), db: await cpuSample(pids.db) };
          runs[who].push(await load(who === 'bare' ? bareOrigin : origin, m.requests));
          const after = await pidsOf(who);
          for (const part of ['node', 'db'] as const) {
            // A backend the pool opened during the run counts from zero.
            for (const [pid, t] of await cpuSample(after[part])) cpu[who][part] += t - (before[part].get(pid) ?? 0);
          }
        }
        const bare = totals(runs.bare, m.expectStatus);
        const ours = totals(runs.ours, m.expectStatus);
        const msPerRequest = (ticks: number, r: Totals) =>
          round((ticks / ticksPerSecond / Math.max(1, r.requests)) * 1000, 3);
        const ratio = rps(ours) / rps(bare);
        const bodyBytes = m.captured.reduce((s, x) => s + x.response.body.length, 0) / m.captured.length;
        const encodings = [...new Set(m.captured.map((x) => x.response.headers['content-encoding'] ?? 'identity'))];
        const sent = encodings.join() === m.encoding.label ? '' : `; sent ${encodings.join('+')}`;
        const label = `${m.name} [${m.encoding.label}${sent}], ${CONNECTIONS} conns`;
        for (const [variant, r, c] of [
          ['bare node:http, same bytes', bare, cpu.bare],
          ['ours (server)', ours, cpu.ours],
        ] as const) {
          ctx.record({
            case: label,
            variant,
            metrics: {
              reqPerSec: round(rps(r)),
              p99Ms: r.p99Ms,
              wireBytesPerResponse: round(r.bytesRead / Math.max(1, r.requests)),
              bodyBytes: round(bodyBytes),
              ...(variant === 'ours (server)' ? { ratioVsBare: round(ratio, 2) } : {}),
              nodeCpuMsPerReq: msPerRequest(c.node, r),
              ...(variant === 'ours (server)' ? { dbCpuMsPerReq: msPerRequest(c.db, r) } : {}),
              unexpected: r.unexpected,
              load1: round(load1, 1),
            },
          });
        }
        verdicts.push(`${ratio >= GOAL_RATIO ? 'MEETS ' : 'MISSES'} ${round(ratio, 2).toFixed(2)}×  ${label}`);
      }
      ctx.log(`${CONNECTIONS} connections, ${ROUNDS / 2} × ${SECONDS} s per side and case`);
      ctx.log(`goal ≥ ${GOAL_RATIO}× bare node:http req/s per case:\n  ${verdicts.join('\n  ')}`);
    } finally {
      await stats.end();
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      await new Promise((r) => (server.exitCode === null ? server.once('exit', r) : r(null)));
      await rm(work, { recursive: true, force: true });
    }
  },
};
