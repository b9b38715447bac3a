import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withDatabase } from '@dropwatch/db';
import { adminQuery, freePort } from '@dropwatch/db/testing';
import type { BenchContext, Scenario } from '../harness.js';
import { clockTicks, cpuTicks } from '../proc-cpu.js';
import { median, quantile } from '../stats.js';

/** The built server, as `npm start` runs it (`npm run bench` builds first). */
const SERVER_MAIN = fileURLToPath(new URL('../../../server/dist/main.js', import.meta.url));
const UP_WITHIN_MS = 120_000;
const STOP_WITHIN_MS = 15_000;
const SAMPLE_SECONDS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function settings(): { seconds: number; venues: number[] } {
  const seconds = Number(process.env.BENCH_IDLE_SECONDS ?? '300');
  const venues = (process.env.BENCH_IDLE_VENUES ?? '300,2000').split(',').map((v) => Number(v.trim()));
  if (!Number.isFinite(seconds) || seconds < SAMPLE_SECONDS || venues.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`BENCH_IDLE_SECONDS must be ≥ ${SAMPLE_SECONDS} and BENCH_IDLE_VENUES a list of positive integers`);
  }
  return { seconds, venues };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

/** CPU ticks (utime + stime) of each thread of the process by thread id; the main thread's id is the pid. */
async function threadTicks(pid: number): Promise<Map<number, number>> {
  const ticks = new Map<number, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(Number(tid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ticks;
}

async function waitUp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + UP_WITHIN_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before it was up`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not up within ${UP_WITHIN_MS} ms`);
    await sleep(250);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, STOP_WITHIN_MS);
  await gone;
  clearTimeout(timer);
}

async function measure(
  ctx: BenchContext,
  build: { label: string; main: string },
  venues: number,
  seconds: number,
  ticksPerSecond: number,
): Promise<void> {
  const dbName = `dw_bench_idle_${build.label}_${venues}_${process.pid}`;
  await adminQuery(ctx.adminUrl, `drop database if exists "${dbName}" with (force)`);
  await adminQuery(ctx.adminUrl, `create database "${dbName}"`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child = spawn(process.execPath, [build.main], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: withDatabase(ctx.adminUrl, dbName),
      HOST: '127.0.0.1',
      PORT: String(port),
      SIM_VENUES: String(venues),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-4_000);
  });
  try {
    await waitUp(url, child);
    const pid = child.pid!;
    ctx.log(`${build.label} ${venues} venues: server up (pid ${pid}); sampling for ${seconds} s`);
    const shares: number[] = [];
    const rss: number[] = [await rssMb(pid)];
    const startTicks = await cpuTicks(pid);
    const startAt = performance.now();
    let lastTicks = startTicks;
    let lastAt = startAt;
    // After the first window (start-up: the job workers load their modules, the first polls):
    // the steady state, whole and per thread.
    let steady: { ticks: number; at: number; threads: Map<number, number> } | undefined;
    while (performance.now() - startAt < seconds * 1000) {
      await sleep(SAMPLE_SECONDS * 1000);
      if (child.exitCode !== null)
        throw new Error(`server exited with code ${child.exitCode} while sampled: ${stderr}`);
      const ticks = await cpuTicks(pid);
      const at = performance.now();
      shares.push((ticks - lastTicks) / ticksPerSecond / ((at - lastAt) / 1000));
      rss.push(await rssMb(pid));
      lastTicks = ticks;
      lastAt = at;
      steady ??= { ticks, at, threads: await threadTicks(pid) };
    }
    const threadsAtEnd = await threadTicks(pid);
    const cpuShare = (lastTicks - startTicks) / ticksPerSecond / ((lastAt - startAt) / 1000);
    const steadySeconds = steady ? (lastAt - steady.at) / 1000 : 0;
    const steadyShare = steady && steadySeconds > 0 ? (lastTicks - steady.ticks) / ticksPerSecond / steadySeconds : NaN;
    // Threads are not named (all "node"): the main thread is the pid; the job workers are usually
    // the busiest others, and the V8 platform threads (GC helpers) the four small ones.
    const threadShares = [...threadsAtEnd]
      .map(([tid, t]) => ({
        tid,
        share: steady ? (t - (steady.threads.get(tid) ?? 0)) / ticksPerSecond / steadySeconds : NaN,
      }))
      .filter((x) => x.share > 0)
      .sort((a, b) => b.share - a.share);
    ctx.record({
      case: `idle server, simulated market, no users, ${seconds} s`,
      variant: `${build.label} SIM_VENUES=${venues}`,
      metrics: {
        cpuPctOfOneCore: cpuShare * 100,
        cpuPctP99Of5s: quantile(shares, 0.99) * 100,
        cpuPctAfterFirst5s: steadyShare * 100,
        rssMbP50: median(rss),
        rssMbMax: Math.max(...rss),
      },
    });
    // The series shows whether a peak is start-up (first windows) or steady state.
    ctx.log(
      `${build.label} ${venues} venues: CPU % per ${SAMPLE_SECONDS} s window: ${shares.map((x) => (x * 100).toFixed(0)).join(' ')}`,
    );
    ctx.log(`${build.label} ${venues} venues: RSS MB per sample: ${rss.map((x) => x.toFixed(0)).join(' ')}`);
    ctx.log(
      `${build.label} ${venues} venues: CPU % of one core per thread after the first window: ` +
        threadShares.map((x) => `${x.tid === pid ? 'main' : x.tid} ${(x.share * 100).toFixed(2)}`).join(', '),
    );
    ctx.log(
      `${build.label} ${venues} venues: CPU ${(cpuShare * 100).toFixed(1)}% of one core (${(steadyShare * 100).toFixed(1)}% after the first window; ` +
        `5 s windows p99 ${(quantile(shares, 0.99) * 100).toFixed(1)}%), ` +
        `RSS p50 ${median(rss).toFixed(0)} MB max ${Math.max(...rss).toFixed(0)} MB`,
    );
  } finally {
    await stopChild(child);
    await adminQuery(ctx.adminUrl, `drop database if exists "${dbName}" with (force)`);
  }
}

export const idleScenario: Scenario = {
  name: 'idle',
  description:
    'the built server (node apps/server/dist/main.js) on a fresh database, default simulated market, no users: CPU share of one core and RSS, ' +
    'sampled from /proc for BENCH_IDLE_SECONDS (300) at each BENCH_IDLE_VENUES (300,2000), beside BENCH_IDLE_BASELINE (another build) when set',
  async run(ctx) {
    const { seconds, venues } = settings();
    const ticksPerSecond = clockTicks();
    // BENCH_IDLE_BASELINE: another build's apps/server/dist/main.js (e.g. a worktree of an older
    // commit, with its own node_modules), measured at the same time as this one.
    const baseline = process.env.BENCH_IDLE_BASELINE;
    const builds = [...(baseline ? [{ label: 'baseline', main: baseline }] : []), { label: 'this', main: SERVER_MAIN }];
    for (const v of venues) await Promise.all(builds.map((b) => measure(ctx, b, v, seconds, ticksPerSecond)));
  },
};
