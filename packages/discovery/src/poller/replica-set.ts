import { createHash } from 'node:crypto';
import type { PgClient } from '@dropwatch/db';

/** Lease rows of discovery workers in job_leases are named with this prefix and the holder. */
export const WORKER_LEASE_PREFIX = 'discovery-worker:';
/** Live workers read at most. */
export const REPLICAS_MAX = 64;

/**
 * The discovery workers sharing one database. Each holds a lease row in job_leases, renewed
 * every lease/3; a worker whose lease expired is gone (its row is deleted by whoever notices).
 * Buckets and fast-lane venues are split among the live workers by rendezvous hashing, so each
 * is polled by one worker at a time and, when a worker joins or dies, only that worker's share
 * moves. Each worker's request budget is RESY_MAX_RPS divided by the live count, so together
 * they stay within the provider's limit.
 */
export class ReplicaSet {
  private live: string[];

  constructor(
    readonly holder: string,
    private readonly leaseMs: number,
  ) {
    this.live = [holder];
  }

  get size(): number {
    return this.live.length;
  }

  get members(): readonly string[] {
    return this.live;
  }

  /** Renews this worker's lease, forgets expired ones, and reads who is live. */
  async refresh(client: PgClient): Promise<readonly string[]> {
    await client.query(
      `insert into job_leases (name, holder, expires_at, acquired_at)
       values ($1, $2, now() + make_interval(secs => $3::float8 / 1000), now())
       on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at`,
      [WORKER_LEASE_PREFIX + this.holder, this.holder, this.leaseMs],
    );
    await client.query(`delete from job_leases where name like $1 and expires_at < now()`, [`${WORKER_LEASE_PREFIX}%`]);
    return this.look(client);
  }

  /** Reads who is live without renewing (cheap enough to ask every second: see runPoller). */
  async look(client: PgClient): Promise<readonly string[]> {
    const { rows } = await client.query<{ holder: string }>(
      `select holder from job_leases where name like $1 and expires_at >= now() order by holder limit $2`,
      [`${WORKER_LEASE_PREFIX}%`, REPLICAS_MAX],
    );
    const holders = rows.map((r) => r.holder);
    this.live = holders.includes(this.holder) ? holders : [...holders, this.holder].sort();
    return this.live;
  }

  /** Leaves at once (shutdown): the others take this worker's share on their next refresh. */
  async leave(client: PgClient): Promise<void> {
    await client.query('delete from job_leases where name = $1 and holder = $2', [
      WORKER_LEASE_PREFIX + this.holder,
      this.holder,
    ]);
  }

  /** True when this worker owns the key (a bucket id, a venue): the live holder with the highest hash. */
  owns(key: string): boolean {
    if (this.live.length <= 1) return true;
    let best = '';
    let owner = '';
    for (const h of this.live) {
      const score = createHash('sha1').update(h).update('\0').update(key).digest('hex');
      if (score > best) {
        best = score;
        owner = h;
      }
    }
    return owner === this.holder;
  }
}
