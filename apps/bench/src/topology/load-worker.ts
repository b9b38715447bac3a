/**
 * One autocannon run in a process of its own (so the load generator does not share an event loop
 * with the soak's sampler). argv[2]: JSON { url, connections, seconds }; prints the result as JSON.
 */
import { createRequire } from 'node:module';

interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const spec = JSON.parse(process.argv[2] ?? '{}') as { url: string; connections: number; seconds: number };
const r = await autocannon({ url: spec.url, connections: spec.connections, duration: spec.seconds });
process.stdout.write(
  JSON.stringify({
    requests: r.requests.total,
    seconds: r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  }),
);
