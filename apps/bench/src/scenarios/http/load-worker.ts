/**
 * One autocannon run, in a process of its own (the servers under test run in theirs), so the
 * load generator does not share an event loop with what it measures. Takes a LoadSpec as JSON
 * in argv[2], prints a LoadResult as JSON on stdout.
 */
import { createRequire } from 'node:module';
import type { LoadResult, LoadSpec } from './load.js';

interface AutocannonResult {
  duration: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
  throughput: { total: number };
  errors: number;
  timeouts: number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

const r = await autocannon({
  url: spec.origin,
  connections: spec.connections,
  duration: spec.seconds,
  // Each connection sends these in turn (one request: the same one over and over).
  requests: spec.requests.map((q) => ({ method: 'GET', path: q.path, headers: q.headers })),
});
const result: LoadResult = {
  requests: r.requests.total,
  seconds: r.duration,
  p50Ms: r.latency.p50,
  p99Ms: r.latency.p99,
  bytesRead: r.throughput.total,
  status2xx: r['2xx'],
  status3xx: r['3xx'],
  status4xx: r['4xx'],
  status5xx: r['5xx'],
  errors: r.errors + r.timeouts,
};
process.stdout.write(JSON.stringify(result));
