import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestMetrics } from '../src/http/request-metrics.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The request metrics must read on /metrics exactly as prom-client's Counter and Histogram would. */
describe('RequestMetrics', () => {
  it("exports the same text as prom-client's Counter and Histogram fed the same requests", async () => {
    const reference = new Registry();
    const counter = new Counter({
      name: 'req_total',
      help: 'requests',
      labelNames: ['procedure', 'status'],
      registers: [reference],
    });
    const histogram = new Histogram({
      name: 'req_seconds',
      help: 'latency',
      labelNames: ['procedure'],
      buckets: BUCKETS,
      registers: [reference],
    });
    const ours = new Registry();
    const metrics = new RequestMetrics(
      ours,
      { requests: 'req_total', latency: 'req_seconds' },
      { requests: 'requests', latency: 'latency' },
      BUCKETS,
    );
    let state = 7;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const requests: [string, number, number | null][] = [];
    for (let i = 0; i < 3000; i++) {
      const procedure = ['feed.live', 'health.buckets', 'feed.onDrop', 'unknown'][Math.floor(next() * 4)]!;
      const status = [200, 304, 400, 500][Math.floor(next() * 4)]!;
      // Streams are counted without a latency; values on and around the bucket bounds too.
      const seconds =
        procedure === 'feed.onDrop' ? null : next() < 0.1 ? BUCKETS[i % BUCKETS.length]! : Math.exp(next() * 14 - 10);
      requests.push([procedure, status, seconds]);
    }
    // prom-client lists label sets in first-seen order, ours by procedure then status: same lines
    // when the requests come grouped that way.
    requests.sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);
    for (const [procedure, status, seconds] of requests) {
      counter.inc({ procedure, status: String(status) });
      if (seconds !== null) histogram.observe({ procedure }, seconds);
      metrics.observe(procedure, status, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain('req_seconds_bucket{le="+Inf",procedure="feed.live"}');
    expect(text).not.toContain('req_seconds_count{procedure="feed.onDrop"}');
    expect(text).toMatch(/^req_total\{procedure="feed.onDrop",status="200"\} \d+$/m);

    // The JSON form carries the same numbers.
    const json = await ours.getMetricsAsJSON();
    const referenceJson = await reference.getMetricsAsJSON();
    type Json = { name: string; values: { metricName?: string; labels: object; value: number }[] }[];
    const valuesOf = (m: Json): unknown[] =>
      m.map((x) => x.values.map((v) => [v.metricName ?? x.name, JSON.stringify(v.labels), v.value]));
    expect(valuesOf(json as Json)).toEqual(valuesOf(referenceJson as Json));
  });
});
