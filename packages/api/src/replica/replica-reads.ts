import { queryReplicaLag, withPgClient, type EntityManager, type MikroORM } from '@dropwatch/db';

/** What health.status and /metrics say about the read replica. */
export interface ReplicaStatus {
  /** Seconds the replica's replay is behind (see queryReplicaLag); null: unknown (not measured yet, or unreachable). */
  readonly lagSeconds: number | null;
  /** True while the replica's reads go to the primary (lag over the bound, or the replica not answering). */
  readonly onPrimary: boolean;
  /** Why they do, for health.status. */
  readonly reason: string | null;
}

export interface ReplicaReadsOptions {
  /** READ_REPLICA_MAX_LAG_SECONDS */
  readonly maxLagSeconds: number;
  /** READ_REPLICA_CHECK_SECONDS */
  readonly checkSeconds: number;
  /** Called when the replica stops answering (once per outage). */
  readonly onError?: (err: unknown) => void;
}

/**
 * The API's reads that tolerate replica lag (READ_DATABASE_URL; docs/architecture.md, "Reading
 * from a streaming replica"): an ORM on the replica, and a check every `checkSeconds` of how far
 * its replay is behind. `em()` is a fork on the replica while the last check found it within
 * `maxLagSeconds`, otherwise null (the caller reads the primary). Until the first check answers,
 * the replica is not used.
 */
export class ReplicaReads {
  private lagSeconds: number | null = null;
  private reason: string | null = 'replica: not checked yet';
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private unreachable = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly options: ReplicaReadsOptions,
  ) {}

  /** Runs the first check (so a healthy replica is used from the first request) and starts the timer. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.checking;
  }

  /** One measurement; never throws (an unreachable replica is a state, not an error). */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const lag = await withPgClient(this.orm.em.fork(), (db) => queryReplicaLag(db));
        this.unreachable = false;
        this.lagSeconds = lag.lagSeconds;
        if (!lag.standby)
          this.reason = null; // a primary as READ_DATABASE_URL: no lag to mind
        else if (lag.lagSeconds === null) this.reason = 'replica: lag unknown (no commit replayed since it started)';
        else if (lag.lagSeconds > this.options.maxLagSeconds)
          this.reason = `replica: ${Math.round(lag.lagSeconds)}s behind the primary (over ${this.options.maxLagSeconds}s); its reads go to the primary`;
        else this.reason = null;
      } catch (err) {
        // Reported once per outage, not on every check.
        if (!this.unreachable) this.options.onError?.(err);
        this.unreachable = true;
        this.lagSeconds = null;
        this.reason = 'replica: unreachable; its reads go to the primary';
        return;
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  /** A fork on the replica, or null while its reads go to the primary. */
  em(): EntityManager | null {
    return this.reason === null ? this.orm.em.fork() : null;
  }

  status(): ReplicaStatus {
    return { lagSeconds: this.lagSeconds, onPrimary: this.reason !== null, reason: this.reason };
  }
}
