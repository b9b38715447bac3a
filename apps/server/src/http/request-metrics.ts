import type { Registry } from 'prom-client';

/** A value of an exported sample, in the shape prom-client's registry formats. */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly value: number;
  readonly metricName?: string;
}

interface ProcedureStats {
  /** The same object every scrape: the registry caches its formatted form. */
  readonly shared: { readonly procedure: string };
  /** Requests by HTTP status. */
  readonly statuses: Map<number, { readonly labels: { procedure: string; status: string }; value: number }>;
  /** Observations per latency bucket (not cumulative); the last is +Inf. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * The request counter and latency histogram of one process. Recording a request is a map lookup and
 * a few numbers added (prom-client's own metrics validate and hash their labels on every call, a
 * cost paid by every request); the samples are made at scrape time, in the shape prom-client's
 * Counter and Histogram give the registry, so /metrics reads the same as with them.
 */
export class RequestMetrics {
  private readonly procedures = new Map<string, ProcedureStats>();

  constructor(
    registry: Registry,
    private readonly names: { readonly requests: string; readonly latency: string },
    private readonly help: { readonly requests: string; readonly latency: string },
    private readonly upperBounds: readonly number[],
  ) {
    registry.registerMetric(this.metric('counter') as never);
    registry.registerMetric(this.metric('histogram') as never);
  }

  /** `seconds` null: counted, kept out of the latency histogram. */
  observe(procedure: string, status: number, seconds: number | null): void {
    let p = this.procedures.get(procedure);
    if (!p) {
      p = {
        shared: { procedure },
        statuses: new Map(),
        buckets: new Float64Array(this.upperBounds.length + 1),
        sum: 0,
        count: 0,
      };
      this.procedures.set(procedure, p);
    }
    const counted = p.statuses.get(status);
    if (counted) counted.value++;
    else p.statuses.set(status, { labels: { procedure, status: String(status) }, value: 1 });
    if (seconds === null || !Number.isFinite(seconds)) return;
    let i = 0;
    while (i < this.upperBounds.length && seconds > this.upperBounds[i]!) i++;
    p.buckets[i]!++;
    p.sum += seconds;
    p.count++;
  }

  private requestSamples(): Sample[] {
    const out: Sample[] = [];
    for (const p of this.procedures.values()) for (const s of p.statuses.values()) out.push({ ...s });
    return out;
  }

  private latencySamples(): Sample[] {
    const out: Sample[] = [];
    const bucket = `${this.names.latency}_bucket`;
    for (const p of this.procedures.values()) {
      if (p.count === 0) continue;
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += p.buckets[i]!;
        out.push({ labels: { le }, sharedLabels: p.shared, value: acc, metricName: bucket });
      });
      out.push(
        { labels: { le: '+Inf' }, sharedLabels: p.shared, value: p.count, metricName: bucket },
        { labels: {}, sharedLabels: p.shared, value: p.sum, metricName: `${this.names.latency}_sum` },
        { labels: {}, sharedLabels: p.shared, value: p.count, metricName: `${this.names.latency}_count` },
      );
    }
    return out;
  }

  private metric(type: 'counter' | 'histogram') {
    const name = type === 'counter' ? this.names.requests : this.names.latency;
    const help = type === 'counter' ? this.help.requests : this.help.latency;
    const values = () => (type === 'counter' ? this.requestSamples() : this.latencySamples());
    return {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      getForPromString: () => Promise.resolve({ name, help, type, aggregator: 'sum', values: values() }),
      // The JSON form (prom-client's get()) has the shared labels among the labels.
      get: () =>
        Promise.resolve({
          name,
          help,
          type,
          aggregator: 'sum',
          values: values().map(({ sharedLabels, labels, ...rest }) => ({
            ...rest,
            labels: { ...labels, ...sharedLabels },
          })),
        }),
      reset: () => this.procedures.clear(),
    };
  }
}
