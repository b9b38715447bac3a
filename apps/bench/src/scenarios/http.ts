import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '@dropwatch/db/testing';
import type { BenchContext, Scenario } from '../harness.js';
import { median } from '../stats.js';

const exec = promisify(execFile);
const require = createRequire(import.meta.url);
const serverMain = fileURLToPath(new URL('../../../server/dist/main.js', import.meta.url));

/** Load per run: connections and seconds (bounded). BENCH_HTTP_SECONDS overrides the duration. */
const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
const ROUNDS = 3;
/** feed.live `limit`s measured: ≈ 20 KB and ≈ 190 KB answers. */
const LIMITS = [20, 200];

/** A feed_cache payload in the shape the tick writes (DTO drops, ISO dates). */
function cachePayload(): unknown {
  const drop = (i: number, minutesAgo: number) => ({
    id: String(1_000_000 + i),
    market: 'nyc',
    bucketId: 'nyc_2026-12-01_20:30',
    venue: {
      id: `resy:${i % 700}`,
      name: `Venue number ${i % 700}`,
      neighborhood: 'West Village',
      bookingUrl: `https://resy.com/cities/ny/venue-${i % 700}?date=2026-12-01&seats=2`,
      imageUrl: `https://image.resy.com/3/003/2/${i % 700}/abcdef0123456789.jpg`,
    },
    slotDate: '2026-12-01',
    slotTime: '20:30',
    partySizes: [2, 4],
    openedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    closedAt: null,
    rarity: 50 + (i % 50),
  });
  return {
    market: 'nyc',
    builtAt: new Date().toISOString(),
    justOpenedMinutes: 10,
    justOpened: Array.from({ length: 500 }, (_, i) => drop(i, i / 60)),
    stillOpen: Array.from({ length: 1000 }, (_, i) => drop(500 + i, 11 + i)),
    board: Array.from({ length: 500 }, (_, i) => drop(1500 + i, i)),
  };
}

async function waitHttp(url: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** autocannon in its own process (the servers run in theirs), JSON result. */
async function load(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ rps: number; p99: number; bytes: number; non2xx: number }> {
  const bin = path.join(path.dirname(require.resolve('autocannon/package.json')), 'autocannon.js');
  const args = [bin, '-j', '-c', String(CONNECTIONS), '-d', String(SECONDS)];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  args.push(url);
  const { stdout } = await exec(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const r = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p99: number };
    throughput: { average: number };
    non2xx: number;
    '2xx': number;
  };
  return { rps: r.requests.average, p99: r.latency.p99, bytes: r.throughput.average, non2xx: r.non2xx };
}

function startBare(file: string, port: number): ChildProcess {
  const code = `const http = require('node:http');
const body = require('node:fs').readFileSync(process.argv[1]);
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1');`;
  return spawn(process.execPath, ['-e', code, file, String(port)], { stdio: 'ignore' });
}

export const httpScenario: Scenario = {
  name: 'http',
  description: 'feed.live over HTTP (serialized-response cache, ETag) vs a bare Node server sending the same bytes',
  async run(ctx: BenchContext) {
    const sql = new pg.Client({ connectionString: ctx.databaseUrl });
    await sql.connect();
    await sql.query(`insert into feed_cache (key, payload, version) values ('market:nyc', $1, 1)`, [
      JSON.stringify(cachePayload()),
    ]);
    await sql.end();

    const work = await mkdtemp(path.join(tmpdir(), 'dropwatch-bench-http-'));
    const port = await freePort();
    const server = spawn(process.execPath, [serverMain], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: ctx.databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        DROPWATCH_ROLE: 'api',
        LOG_LEVEL: 'warn',
        DROPWATCH_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdefghijklmnop',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const children: ChildProcess[] = [server];
    try {
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
      for (const limit of LIMITS) {
        const url = `http://127.0.0.1:${port}/trpc/feed.live?input=${encodeURIComponent(JSON.stringify({ json: { market: 'nyc', limit } }))}`;
        const first = await fetch(url);
        const body = Buffer.from(await first.arrayBuffer());
        const etag = first.headers.get('etag') ?? '';
        const file = path.join(work, `live-${limit}.json`);
        await writeFile(file, body);
        const barePort = await freePort();
        const bare = startBare(file, barePort);
        children.push(bare);
        await waitHttp(`http://127.0.0.1:${barePort}/`, 10_000);

        const variants = [
          { name: 'bare node http, same bytes', run: () => load(`http://127.0.0.1:${barePort}/`) },
          { name: 'ours: feed.live (cached, 200)', run: () => load(url) },
          { name: 'ours: feed.live If-None-Match (304)', run: () => load(url, { 'if-none-match': etag }) },
        ];
        const results = variants.map(() => [] as { rps: number; p99: number; non2xx: number }[]);
        for (let round = 0; round < ROUNDS; round++) {
          for (const [i, v] of variants.entries()) results[i]!.push(await v.run());
        }
        const bareRps = median(results[0]!.map((r) => r.rps));
        const kb = Math.round(body.length / 1024);
        for (const [i, v] of variants.entries()) {
          const rps = median(results[i]!.map((r) => r.rps));
          ctx.record({
            case: `feed.live limit=${limit} (${kb} KB), ${CONNECTIONS} conns × ${SECONDS}s`,
            variant: v.name,
            metrics: {
              reqPerSec: Math.round(rps),
              p99LatencyMs: median(results[i]!.map((r) => r.p99)),
              ratioVsBare: Math.round((rps / bareRps) * 100) / 100,
              non2xx: Math.max(...results[i]!.map((r) => r.non2xx)),
            },
          });
        }
        bare.kill('SIGTERM');
      }
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      await new Promise((r) => (server.exitCode === null ? server.once('exit', r) : r(null)));
      await rm(work, { recursive: true, force: true });
    }
  },
};
