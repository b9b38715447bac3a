/**
 * The scale-out soak (not in CI): 2 API + 2 worker replicas through PgBouncer with a streaming
 * replica and the fake Resy market, for SOAK_MINUTES (default 30). Measures duplicate drops,
 * deadlocks, failed polls, the provider request rate against RESY_MAX_RPS, the RSS of every
 * process, table sizes over time, API read throughput with 1 and 2 API replicas, and a worker
 * killed with SIGKILL half-way: how long until its buckets are polled by the other one.
 *
 *   npm run soak                      30 minutes
 *   SOAK_MINUTES=10 npm run soak      shorter
 *
 * Other knobs: SOAK_VENUES (300), SOAK_RPS (10), SOAK_LEASE_SECONDS (15), SOAK_LOAD_SECONDS (20),
 * SOAK_LOAD_CONNECTIONS (20 per API replica), SOAK_OUT (write the figures as JSON there).
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { queryReplicaLag } from '@dropwatch/db';
import { ownerOf, WORKER_LEASE_PREFIX, workerSessionName } from '@dropwatch/discovery/internals';
import { machineCpuSeconds, rssBytes, treeCpuSeconds, treePssBytes } from './proc.js';
import { startTopology, type ServerProcess, type Topology } from './topology.js';

const exec = promisify(execFile);
const LOAD_WORKER = fileURLToPath(new URL('./load-worker.js', import.meta.url));

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in ${min}–${max}`);
  return n;
}

const MINUTES = envNumber('SOAK_MINUTES', 30, 2, 24 * 60);
const VENUES = envNumber('SOAK_VENUES', 300, 10, 100_000);
const RPS = envNumber('SOAK_RPS', 10, 0.5, 100);
const LEASE_SECONDS = envNumber('SOAK_LEASE_SECONDS', 15, 3, 300);
const LOAD_SECONDS = envNumber('SOAK_LOAD_SECONDS', 20, 5, 300);
const LOAD_CONNECTIONS = envNumber('SOAK_LOAD_CONNECTIONS', 20, 1, 500);
const SAMPLE_EVERY_MS = 10_000;
const TABLES_EVERY_MS = 60_000;
const WINDOW_MS = 5 * 60_000;
/** After the kill, the killed worker's buckets are watched this long for their next poll. */
const TAKEOVER_WATCH_MS = 5 * 60_000;
const TABLES = [
  'drop_events',
  'user_notifications',
  'bucket_slots',
  'availability_state',
  'discovery_buckets',
  'venues',
  'venue_metrics',
  'job_runs',
  'job_leases',
  'feed_cache',
  'webhook_deliveries',
  'consumer_cursors',
];

const log = (line: string) => process.stderr.write(`soak ${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => (b / 1024 / 1024).toFixed(0);

interface Sampled {
  name: string;
  pid: () => number | undefined;
  kind: 'rss' | 'pss-tree';
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`).catch(() => null);
  return res?.ok ? res.text() : '';
}

/** Sum of every sample of a metric (all label sets). */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function tableSizes(db: pg.Client): Promise<Record<string, { bytes: number; rows: number }>> {
  const { rows } = await db.query<{ name: string; bytes: string }>(
    `select t.relname as name, sum(pg_total_relation_size(c.oid))::text as bytes
       from pg_class t
       join pg_namespace n on n.oid = t.relnamespace and n.nspname = 'public'
       left join pg_inherits i on i.inhparent = t.oid
       join pg_class c on c.oid = coalesce(i.inhrelid, t.oid)
      where t.relname = any($1) group by t.relname`,
    [TABLES],
  );
  const out: Record<string, { bytes: number; rows: number }> = {};
  for (const r of rows) {
    const count = await db.query<{ n: string }>(`select count(*)::text as n from ${r.name}`);
    out[r.name] = { bytes: Number(r.bytes), rows: Number(count.rows[0]?.n ?? 0) };
  }
  return out;
}

interface LoadResult {
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, connections: number, seconds: number): Promise<LoadResult> {
  const { stdout } = await exec(process.execPath, [LOAD_WORKER, JSON.stringify({ url, connections, seconds })], {
    timeout: (seconds + 30) * 1000,
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout) as LoadResult;
}

interface ThroughputRow {
  procedure: string;
  replicas: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  apiCpuPercent: number[];
  machineBusyPercent: number;
  /** The machine's 1-minute load average at the end of the run (cores: see the report's header). */
  loadAvg1m: number;
}

/** autocannon against api-1 alone, then against api-1 and api-2 at once (one load process each). */
async function throughput(topo: Topology, procedure: string, input: unknown): Promise<ThroughputRow[]> {
  const path = `/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const rows: ThroughputRow[] = [];
  for (const n of [1, 2]) {
    const targets = topo.apis.slice(0, n);
    const cpu0 = await Promise.all(topo.apis.map((a) => treeCpuSeconds(a.pid)));
    const m0 = await machineCpuSeconds();
    const results = await Promise.all(targets.map((a) => load(`${a.url}${path}`, LOAD_CONNECTIONS, LOAD_SECONDS)));
    const m1 = await machineCpuSeconds();
    const cpu1 = await Promise.all(topo.apis.map((a) => treeCpuSeconds(a.pid)));
    const wall = Math.max(...results.map((r) => r.seconds));
    rows.push({
      procedure,
      replicas: n,
      rps: results.reduce((s, r) => s + r.requests, 0) / wall,
      p50Ms: Math.max(...results.map((r) => r.p50Ms)),
      p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      errors: results.reduce((s, r) => s + r.errors + r.non2xx, 0),
      apiCpuPercent: cpu1.map((c, i) => (100 * (c - (cpu0[i] ?? 0))) / wall),
      machineBusyPercent: (100 * (m1.busy - m0.busy)) / (m1.total - m0.total),
      loadAvg1m: loadavg()[0] ?? NaN,
    });
    log(`throughput ${procedure} with ${n} API replica(s): ${rows.at(-1)!.rps.toFixed(0)} req/s`);
  }
  return rows;
}

interface Takeover {
  killedPid: number;
  killedAt: string;
  holdersBefore: string[];
  bucketsOwned: number;
  leaseGoneAfterSeconds: number | null;
  /** When its liveness session was gone from pg_stat_activity (the others' cue to take over). */
  sessionGoneAfterSeconds: number | null;
  /** Seconds from the kill to each owned bucket's next poll (by another worker). */
  nextPollSeconds: { p50: number; p90: number; max: number; polled: number; notPolled: number };
  /** The same, bucket by bucket, in the order they were polled. */
  perBucket: { bucket: string; seconds: number }[];
  /** Whether every owned bucket was polled before one lease period had passed since the kill. */
  withinLease: boolean;
  /** The same buckets' poll intervals before the kill (the scheduler's own cadence). */
  intervalBeforeSeconds: { p50: number; max: number };
}

async function killAndWatch(topo: Topology, db: pg.Client, victim: ServerProcess): Promise<Takeover> {
  const holders = (
    await db.query<{ holder: string }>(
      `select holder from job_leases where name like $1 and expires_at >= now() order by holder`,
      [`${WORKER_LEASE_PREFIX}%`],
    )
  ).rows.map((r) => r.holder);
  const victimHolder = holders.find((h) => h.split(':')[1] === String(victim.pid));
  const buckets = (
    await db.query<{ bucket_id: string; poll_count: number; interval: number | null }>(
      `select bucket_id, poll_count, poll_interval_seconds as interval from discovery_buckets`,
    )
  ).rows;
  const owned = victimHolder ? buckets.filter((b) => ownerOf(b.bucket_id, holders) === victimHolder) : [];
  const before = new Map(owned.map((b) => [b.bucket_id, b.poll_count]));
  const killedAt = Date.now();
  process.kill(victim.pid, 'SIGKILL');
  log(`SIGKILL worker ${victim.name} (pid ${victim.pid}); it owned ${owned.length} of ${buckets.length} buckets`);
  const next = new Map<string, number>();
  let leaseGone: number | null = null;
  let sessionGone: number | null = null;
  while (Date.now() - killedAt < TAKEOVER_WATCH_MS && (next.size < owned.length || leaseGone === null)) {
    await sleep(500);
    if (sessionGone === null && victimHolder) {
      const { rows } = await db.query('select 1 from pg_stat_activity where application_name = $1', [
        workerSessionName(victimHolder),
      ]);
      if (rows.length === 0) sessionGone = (Date.now() - killedAt) / 1000;
    }
    if (leaseGone === null && victimHolder) {
      const { rows } = await db.query('select 1 from job_leases where holder = $1 and expires_at >= now()', [
        victimHolder,
      ]);
      if (rows.length === 0) leaseGone = (Date.now() - killedAt) / 1000;
    }
    const { rows } = await db.query<{ bucket_id: string; poll_count: number }>(
      'select bucket_id, poll_count from discovery_buckets where bucket_id = any($1)',
      [[...before.keys()]],
    );
    for (const r of rows) {
      if (!next.has(r.bucket_id) && r.poll_count > (before.get(r.bucket_id) ?? 0)) {
        next.set(r.bucket_id, (Date.now() - killedAt) / 1000);
      }
    }
  }
  const secs = [...next.values()].sort((a, b) => a - b);
  const perBucket = [...next.entries()]
    .map(([bucket, seconds]) => ({ bucket, seconds }))
    .sort((a, b) => a.seconds - b.seconds);
  const intervals = owned.map((b) => b.interval ?? 0).sort((a, b) => a - b);
  return {
    killedPid: victim.pid,
    killedAt: new Date(killedAt).toISOString(),
    holdersBefore: holders,
    bucketsOwned: owned.length,
    leaseGoneAfterSeconds: leaseGone,
    sessionGoneAfterSeconds: sessionGone,
    perBucket,
    withinLease: secs.length === owned.length && (secs.at(-1) ?? 0) <= LEASE_SECONDS,
    nextPollSeconds: {
      p50: quantile(secs, 0.5),
      p90: quantile(secs, 0.9),
      max: secs.at(-1) ?? NaN,
      polled: secs.length,
      notPolled: owned.length - secs.length,
    },
    intervalBeforeSeconds: { p50: quantile(intervals, 0.5), max: intervals.at(-1) ?? NaN },
  };
}

/** Sum of `failed` over every 'discovery pass' line in the workers' logs (killed ones included). */
async function failedPollsFromLogs(workers: readonly ServerProcess[]): Promise<{ passes: number; failed: number }> {
  let passes = 0;
  let failed = 0;
  for (const w of workers) {
    const text = await readFile(w.logFile, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line.includes('"discovery pass"')) continue;
      try {
        const parsed = JSON.parse(line) as { failed?: number };
        passes++;
        failed += Number(parsed.failed ?? 0);
      } catch {
        // a line cut by SIGKILL
      }
    }
  }
  return { passes, failed };
}

async function main(): Promise<void> {
  const durationMs = MINUTES * 60_000;
  const topo = await startTopology({
    api: 2,
    workers: 2,
    venues: VENUES,
    rps: RPS,
    poolSize: 10,
    fast: false,
    env: { DISCOVERY_LEASE_SECONDS: String(LEASE_SECONDS), LOG_LEVEL: 'info' },
    log,
  });
  process.stderr.write(`${topo.describe()}\n`);
  const db = new pg.Client({ connectionString: topo.directUrl, application_name: 'dropwatch-soak' });
  const replicaDb = new pg.Client({ connectionString: topo.readUrl, application_name: 'dropwatch-soak' });
  await db.connect();
  await replicaDb.connect();
  const start = Date.now();
  const allWorkers: ServerProcess[] = [...topo.workers];
  const deadlocks = async () =>
    Number(
      (
        await db.query<{ d: string }>(
          'select deadlocks::text as d from pg_stat_database where datname = current_database()',
        )
      ).rows[0]?.d ?? 0,
    );
  const deadlocks0 = await deadlocks();

  const sampled: Sampled[] = [
    ...topo.apis.map((a) => ({ name: a.name, pid: () => a.pid, kind: 'rss' as const })),
    ...[0, 1].map((i) => ({ name: `worker-${i + 1}`, pid: () => allWorkers[i]?.pid, kind: 'rss' as const })),
    { name: 'worker-3 (replacement)', pid: () => allWorkers[2]?.pid, kind: 'rss' },
    { name: 'pgbouncer', pid: () => topo.bouncer.pid, kind: 'rss' },
    { name: 'primary (PSS, all backends)', pid: () => topo.pair.primary.pid, kind: 'pss-tree' },
    { name: 'replica (PSS, all backends)', pid: () => topo.pair.replica.pid, kind: 'pss-tree' },
    { name: 'harness + fake market', pid: () => process.pid, kind: 'rss' },
  ];
  const memory = new Map<string, { t: number; bytes: number }[]>();
  const lag: { t: number; seconds: number | null }[] = [];
  const load1m: number[] = [];
  const apiLagMetric: { t: number; values: number[] }[] = [];
  const tables: { t: number; sizes: Record<string, { bytes: number; rows: number }> }[] = [];
  const workerCounters = new Map<string, { polls: number; providerErrors: number }>();

  const sample = async () => {
    const t = Date.now() - start;
    for (const s of sampled) {
      const pid = s.pid();
      if (pid === undefined) continue;
      const alive = s.name.startsWith('worker') ? allWorkers.find((w) => w.pid === pid)?.alive() !== false : true;
      if (!alive) continue;
      const bytes = s.kind === 'rss' ? await rssBytes(pid) : await treePssBytes(pid);
      if (bytes !== null) memory.set(s.name, [...(memory.get(s.name) ?? []), { t, bytes }]);
    }
    lag.push({ t, seconds: (await queryReplicaLag(replicaDb)).lagSeconds });
    load1m.push(loadavg()[0] ?? 0);
    const apiTexts = await Promise.all(topo.apis.map((a) => scrape(a.url)));
    apiLagMetric.push({ t, values: apiTexts.map((x) => metricSum(x, 'dropwatch_replica_lag_seconds')) });
    for (const w of allWorkers) {
      if (!w.alive()) continue;
      const text = await scrape(w.url);
      if (!text) continue;
      workerCounters.set(w.name, {
        polls: metricSum(text, 'dropwatch_discovery_poll_duration_seconds_count'),
        providerErrors: metricSum(text, 'dropwatch_provider_errors_total'),
      });
    }
  };

  let throughputRows: ThroughputRow[] = [];
  let takeover: Takeover | undefined;
  const throughputAt = Math.max(3 * 60_000, 0.2 * durationMs);
  const killAt = 0.5 * durationMs;
  let lastTables = -Infinity;
  let marketAtStart = topo.market.stats();
  const startMarketMs = Date.now();
  try {
    while (Date.now() - start < durationMs) {
      const elapsed = Date.now() - start;
      await sample();
      if (elapsed - lastTables >= TABLES_EVERY_MS) {
        lastTables = elapsed;
        tables.push({ t: elapsed, sizes: await tableSizes(db) });
        const last = tables.at(-1)!.sizes;
        log(
          `${(elapsed / 60_000).toFixed(1)} min: drops ${last.drop_events?.rows ?? 0}, market requests ${
            topo.market.stats().searchRequests + topo.market.stats().findRequests
          }, replica lag ${lag.at(-1)?.seconds ?? 'n/a'} s`,
        );
      }
      if (throughputRows.length === 0 && elapsed >= throughputAt) {
        throughputRows = [
          ...(await throughput(topo, 'feed.live', { market: 'nyc' })),
          ...(await throughput(topo, 'feed.board', { market: 'nyc', limit: 50 })),
        ];
      }
      if (!takeover && elapsed >= killAt) {
        const victim = topo.workers[0]!;
        takeover = await killAndWatch(topo, db, victim);
        log(`takeover: ${JSON.stringify(takeover.nextPollSeconds)}; starting a replacement worker`);
        allWorkers.push(await topo.addWorker());
      }
      await sleep(SAMPLE_EVERY_MS);
    }
    await sample();
    tables.push({ t: Date.now() - start, sizes: await tableSizes(db) });

    // Duplicate drops: a second drop of the same slot of the same bucket while the first is open.
    const dup = await db.query<{ n: string }>(
      `select count(*)::text as n from drop_events a join drop_events b
         on a.bucket_id = b.bucket_id and a.slot_key = b.slot_key and a.id < b.id
        and b.opened_at < coalesce(a.closed_at, 'infinity'::timestamptz)`,
    );
    const dropsPerWindow = await db.query<{ w: number; n: string }>(
      `select floor(extract(epoch from opened_at - $1::timestamptz) / 300)::int as w, count(*)::text as n
         from drop_events group by 1 order by 1`,
      [new Date(start)],
    );
    const deadlocks1 = await deadlocks();
    const stats = topo.market.stats();
    const marketSeconds = (Date.now() - startMarketMs) / 1000;
    const perSecond = [...stats.perSecond.values()];
    const perTen = new Map<number, number>();
    for (const [s, n] of stats.perSecond) perTen.set(Math.floor(s / 10), (perTen.get(Math.floor(s / 10)) ?? 0) + n);
    const requests =
      stats.searchRequests + stats.findRequests - marketAtStart.searchRequests - marketAtStart.findRequests;
    const logs = await failedPollsFromLogs(allWorkers);

    const memoryRows = [...memory.entries()].map(([name, samples]) => {
      const windows: string[] = [];
      for (let w = 0; w * WINDOW_MS <= durationMs; w++) {
        const inW = samples
          .filter((s) => s.t >= w * WINDOW_MS && s.t < (w + 1) * WINDOW_MS)
          .map((s) => s.bytes)
          .sort((a, b) => a - b);
        windows.push(inW.length ? `${mb(inW[0]!)}/${mb(quantile(inW, 0.5))}/${mb(inW.at(-1)!)}` : '–');
      }
      return { name, windows };
    });
    const report: SoakReport & { workerCounters: unknown } = {
      minutes: MINUTES,
      venues: VENUES,
      rps: RPS,
      leaseSeconds: LEASE_SECONDS,
      duplicateDrops: Number(dup.rows[0]?.n ?? 0),
      deadlocks: deadlocks1 - deadlocks0,
      drops: Number(tables.at(-1)?.sizes.drop_events?.rows ?? 0),
      dropsPer5Min: dropsPerWindow.rows.map((r) => ({ window: r.w, drops: Number(r.n) })),
      failedPolls: logs,
      workerCounters: Object.fromEntries(workerCounters),
      provider: {
        requests,
        meanRps: requests / marketSeconds,
        max1s: Math.max(0, ...perSecond),
        secondsOver: perSecond.filter((n) => n > Math.ceil(RPS)).length,
        max10sMeanRps: Math.max(0, ...perTen.values()) / 10,
        rejected429: stats.rejected,
      },
      replicaLagSeconds: {
        max: Math.max(0, ...lag.map((l) => l.seconds ?? 0)),
        p50: quantile(
          lag.map((l) => l.seconds ?? 0).sort((a, b) => a - b),
          0.5,
        ),
        samples: lag.length,
        apiMetricMax: Math.max(0, ...apiLagMetric.flatMap((s) => s.values)),
      },
      throughput: throughputRows,
      loadAvg1m: {
        p50: quantile(
          [...load1m].sort((a, b) => a - b),
          0.5,
        ),
        max: Math.max(0, ...load1m),
        cores: cpus().length,
      },
      takeover,
      memoryMiB: memoryRows,
      tables: tables.filter((_, i) => i % 5 === 0 || i === tables.length - 1),
    };
    printReport(report);
    if (process.env.SOAK_OUT) await writeFile(process.env.SOAK_OUT, JSON.stringify(report, null, 2));
    marketAtStart = stats;
  } finally {
    await db.end().catch(() => undefined);
    await replicaDb.end().catch(() => undefined);
    await topo.stop();
  }
}

interface SoakReport {
  minutes: number;
  venues: number;
  rps: number;
  leaseSeconds: number;
  duplicateDrops: number;
  deadlocks: number;
  drops: number;
  dropsPer5Min: { window: number; drops: number }[];
  failedPolls: { passes: number; failed: number };
  provider: {
    requests: number;
    meanRps: number;
    max1s: number;
    secondsOver: number;
    max10sMeanRps: number;
    rejected429: number;
  };
  replicaLagSeconds: { max: number; p50: number; samples: number; apiMetricMax: number };
  throughput: ThroughputRow[];
  /** The machine's 1-minute load average over the soak (every sample). */
  loadAvg1m: { p50: number; max: number; cores: number };
  takeover: Takeover | undefined;
  memoryMiB: { name: string; windows: string[] }[];
  tables: { t: number; sizes: Record<string, { bytes: number; rows: number }> }[];
}

function printReport(r: SoakReport): void {
  const out: string[] = [];
  out.push(`## soak: ${r.minutes} min, 2 API + 2 workers, PgBouncer (transaction) + streaming replica`);
  out.push(`fake Resy: ${r.venues} venues, RESY_MAX_RPS=${r.rps}, DISCOVERY_LEASE_SECONDS=${r.leaseSeconds}`);
  out.push('');
  out.push('| check | figure |', '|---|---|');
  out.push(`| duplicate drops | ${r.duplicateDrops} |`);
  out.push(`| deadlocks (pg_stat_database) | ${r.deadlocks} |`);
  out.push(`| drops recorded | ${r.drops} |`);
  out.push(`| discovery passes / failed polls (worker logs) | ${r.failedPolls.passes} / ${r.failedPolls.failed} |`);
  out.push(
    `| provider requests / mean rps / max in 1 s / max 10-s mean / seconds over ${Math.ceil(r.rps)} / 429s | ${r.provider.requests} / ${r.provider.meanRps.toFixed(2)} / ${r.provider.max1s} / ${r.provider.max10sMeanRps.toFixed(1)} / ${r.provider.secondsOver} / ${r.provider.rejected429} |`,
  );
  out.push(
    `| replica lag p50 / max (s), ${r.replicaLagSeconds.samples} samples; max in the APIs' /metrics | ${r.replicaLagSeconds.p50.toFixed(3)} / ${r.replicaLagSeconds.max.toFixed(3)}; ${r.replicaLagSeconds.apiMetricMax.toFixed(3)} |`,
  );
  out.push(
    `| machine load average (1 min) p50 / max, ${r.loadAvg1m.cores} cores | ${r.loadAvg1m.p50.toFixed(2)} / ${r.loadAvg1m.max.toFixed(2)} |`,
  );
  if (r.takeover) {
    const t = r.takeover;
    out.push(
      `| SIGKILLed worker: buckets it owned / its liveness session gone after / its lease gone after | ${t.bucketsOwned} / ${t.sessionGoneAfterSeconds ?? 'not seen'} s / ${t.leaseGoneAfterSeconds ?? 'not seen'} s |`,
    );
    out.push(
      `| … every one of them polled within one lease (${r.leaseSeconds} s) of the kill | ${t.withinLease ? 'yes' : 'no'} |`,
    );
    out.push(
      `| … each bucket's next poll after the kill (s) | ${t.perBucket.map((b) => b.seconds.toFixed(1)).join(', ')} |`,
    );
    out.push(
      `| … next poll of those buckets after the kill: p50 / p90 / max (s); polled / not within 5 min | ${t.nextPollSeconds.p50} / ${t.nextPollSeconds.p90} / ${t.nextPollSeconds.max}; ${t.nextPollSeconds.polled} / ${t.nextPollSeconds.notPolled} |`,
    );
    out.push(
      `| … their poll interval before the kill: p50 / max (s) | ${t.intervalBeforeSeconds.p50} / ${t.intervalBeforeSeconds.max} |`,
    );
  }
  out.push(
    '',
    `| procedure | API replicas | req/s | × of 1 replica | p50 ms | p99 ms | errors | API CPU % (api-1, api-2) | machine busy % | load avg 1 min (${cpus().length} cores) |`,
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const t of r.throughput) {
    const one = r.throughput.find((o) => o.procedure === t.procedure && o.replicas === 1);
    out.push(
      `| ${t.procedure} | ${t.replicas} | ${t.rps.toFixed(0)} | ${one ? (t.rps / one.rps).toFixed(2) : '–'} | ${t.p50Ms} | ${t.p99Ms} | ${t.errors} | ${t.apiCpuPercent.map((c) => c.toFixed(0)).join(', ')} | ${t.machineBusyPercent.toFixed(0)} | ${t.loadAvg1m.toFixed(2)} |`,
    );
  }
  out.push('', 'memory MiB per 5-min window (min/p50/max):', '');
  const windows = Math.max(...r.memoryMiB.map((m) => m.windows.length));
  out.push(`| process | ${Array.from({ length: windows }, (_, i) => `${i * 5}–${i * 5 + 5} min`).join(' | ')} |`);
  out.push(`|---|${Array.from({ length: windows }, () => '---').join('|')}|`);
  for (const m of r.memoryMiB) out.push(`| ${m.name} | ${m.windows.join(' | ')} |`);
  out.push('', 'table sizes (MiB / rows):', '');
  const names = Object.keys(r.tables.at(-1)?.sizes ?? {}).sort();
  out.push(`| minute | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
  for (const s of r.tables) {
    out.push(
      `| ${(s.t / 60_000).toFixed(0)} | ${names.map((n) => `${((s.sizes[n]?.bytes ?? 0) / 1048576).toFixed(2)} / ${s.sizes[n]?.rows ?? 0}`).join(' | ')} |`,
    );
  }
  out.push('', `drops per 5 min: ${r.dropsPer5Min.map((d) => d.drops).join(', ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
