import { createHash } from 'node:crypto';
import type { PgClient } from '@dropwatch/db';

/** Lease rows of discovery workers in job_leases are named with this prefix and the holder. */
export const WORKER_LEASE_PREFIX = 'discovery-worker:';
/** Live workers read at most. */
export const REPLICAS_MAX = 64;
/** A worker's liveness session (worker-session.ts) carries this prefix and the md5 of its holder. */
export const WORKER_SESSION_PREFIX = 'dropwatch-discovery:';

/**
 * The application_name of a holder's liveness session: the holder hashed, because a holder
 * (host:pid:thread) can be longer than the 63 bytes PostgreSQL keeps of an application_name.
 */
export const workerSessionName = (holder: string): string =>
  WORKER_SESSION_PREFIX + createHash('md5').update(holder).digest('hex');

/** The rendezvous owner of a key among holders: the one with the highest hash of holder + key. */
export function ownerOf(key: string, holders: readonly string[]): string | undefined {
  let best = '';
  let owner: string | undefined;
  for (const h of holders) {
    const score = createHash('sha1').update(h).update('\0').update(key).digest('hex');
    if (score > best) {
      best = score;
      owner = h;
    }
  }
  return owner;
}

interface LiveRow {
  holder: string;
  session: boolean;
}

/** Whether the holder `l.holder` has a liveness session now (`prefix` is the placeholder of WORKER_SESSION_PREFIX). */
const SESSION_OF_HOLDER = (prefix: string): string =>
  `exists (select 1 from pg_stat_activity a
            where a.datname = current_database() and a.application_name = ${prefix} || md5(l.holder))`;

/**
 * The discovery workers sharing one database. Each holds a lease row in job_leases, renewed
 * every lease/3; a worker whose lease expired is gone (its row is deleted by whoever notices).
 * Buckets and fast-lane venues are split among the live workers by rendezvous hashing, so each
 * is polled by one worker at a time and, when a worker joins or dies, only that worker's share
 * moves. Each worker's request budget is RESY_MAX_RPS divided by the live count, so together
 * they stay within the provider's limit.
 *
 * A lease alone notices a killed worker only when it expires, up to a whole lease after the kill,
 * and its buckets wait that long. So a worker with a direct connection to the primary also keeps
 * a liveness session there (worker-session.ts) named after its holder. A killed process's socket
 * is closed by its kernel and PostgreSQL ends the backend at once, so a holder whose session was
 * seen and is gone from pg_stat_activity is dead now, lease or not: the others take its share at
 * their next look (each second). Only a direct session can tell this: behind a transaction pooler
 * server sessions are shared and outlive their clients. A worker that never showed a session (no
 * direct URL, or seen only by an observer that started after it lost it) is judged by its lease.
 *
 * The same rule applies to a worker's own session: one whose session is cut (a network blip, a
 * terminated backend) while its process lives counts itself out at its next look, when the others
 * count it out too, so no two live workers poll one bucket for more than a look interval; it
 * counts itself in again once its session is back and the others see it.
 */
export class ReplicaSet {
  private live: string[];
  /** Holders whose liveness session this worker has seen: their session's end is their death. */
  private readonly sessionSeen = new Set<string>();
  private selfOut = false;

  constructor(
    readonly holder: string,
    private readonly leaseMs: number,
    /** Whether this worker keeps a liveness session (its absence then means it is out). */
    private readonly hasSession = false,
  ) {
    this.live = [holder];
  }

  get size(): number {
    return this.live.length;
  }

  get members(): readonly string[] {
    return this.live;
  }

  /** False while this worker's own liveness session is gone: it owns nothing until it is back. */
  get active(): boolean {
    return !this.selfOut;
  }

  /**
   * Renews this worker's lease, forgets expired ones, and reads who is live: one statement (the
   * renewed row is read from the upsert itself, the others as look reads them).
   */
  async refresh(client: PgClient): Promise<readonly string[]> {
    const { rows } = await client.query<LiveRow>(
      `with renewed as (
         insert into job_leases (name, holder, expires_at, acquired_at)
         values ($1, $2, now() + make_interval(secs => $3::float8 / 1000), now())
         on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
         returning holder
       ), expired as (
         delete from job_leases where name like $4 and name <> $1 and expires_at < now()
       )
       select l.holder, ${SESSION_OF_HOLDER('$6')} as session
         from (select holder from renewed
               union all
               select holder from job_leases where name like $4 and name <> $1 and expires_at >= now()) l
        order by l.holder limit $5`,
      [
        WORKER_LEASE_PREFIX + this.holder,
        this.holder,
        this.leaseMs,
        `${WORKER_LEASE_PREFIX}%`,
        REPLICAS_MAX,
        WORKER_SESSION_PREFIX,
      ],
    );
    return this.apply(rows);
  }

  /**
   * Reads who is live without renewing (cheap enough to ask every second: see runPoller): the
   * holders with a lease, less those whose liveness session was seen and is gone.
   * -- pg_stat_activity is an in-memory view (no table scan); job_leases is read by its name prefix
   */
  async look(client: PgClient): Promise<readonly string[]> {
    const { rows } = await client.query<LiveRow>(
      `select l.holder, ${SESSION_OF_HOLDER('$3')} as session
         from job_leases l
        where l.name like $1 and l.expires_at >= now() order by l.holder limit $2`,
      [`${WORKER_LEASE_PREFIX}%`, REPLICAS_MAX, WORKER_SESSION_PREFIX],
    );
    return this.apply(rows);
  }

  private apply(rows: readonly LiveRow[]): readonly string[] {
    const holders: string[] = [];
    let selfSession = false;
    for (const r of rows) {
      if (r.session) this.sessionSeen.add(r.holder);
      if (r.holder === this.holder) selfSession = r.session;
      else if (r.session || !this.sessionSeen.has(r.holder)) holders.push(r.holder);
    }
    // Its own lease may not be written yet (start-up); its own session counts once it was seen.
    this.selfOut = this.hasSession && this.sessionSeen.has(this.holder) && !selfSession;
    this.live = this.selfOut ? holders : [...holders, this.holder].sort();
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
    if (this.selfOut) return false;
    if (this.live.length <= 1) return true;
    return ownerOf(key, this.live) === this.holder;
  }
}
