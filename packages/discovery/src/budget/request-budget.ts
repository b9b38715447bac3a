/**
 * The provider's request budget: at most `rate` requests a second leave this process, spaced
 * evenly, shared by two lanes. The `search` lane polls whole buckets; the `fast` lane polls
 * watched venues one by one and is guaranteed `fastShare` of the grants whenever both lanes are
 * waiting. A lane with nothing waiting leaves its share to the other, so the budget stays busy
 * whenever any work is due.
 *
 * Hand-written rather than Bottleneck (which the first build used): Bottleneck has priorities
 * but no guaranteed share per lane, and changing its rate while requests wait (a replica joins
 * or leaves, so each one's share of RESY_MAX_RPS changes) re-times nothing already queued.
 */
export type BudgetLane = 'search' | 'fast';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  /** When it started waiting (ms). */
  readonly since: number;
  /** Requests it sends on this one grant. */
  readonly count: number;
}

/** How many recent grants the share accounting looks back over. */
const SHARE_WINDOW = 50;

export class RequestBudget {
  private rate: number;
  private nextAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly queues: Record<BudgetLane, Waiter[]> = { search: [], fast: [] };
  private readonly recent: BudgetLane[] = [];
  private granted = 0;

  constructor(
    rate: number,
    private readonly fastShare = 0,
  ) {
    this.rate = rate;
  }

  /** Requests per second this budget grants. */
  get requestsPerSecond(): number {
    return this.rate;
  }

  /** Changes the rate (this replica's share of the provider's limit); waiting requests follow it. */
  setRate(rate: number): void {
    if (!(rate > 0) || rate === this.rate) return;
    this.rate = rate;
    this.nextAt = Math.min(this.nextAt, Date.now() + 1000 / rate);
    this.reschedule();
  }

  /** Requests one grant covers at most (acquire's `count`): a second's worth. */
  get batchMax(): number {
    return Math.max(1, Math.floor(this.rate));
  }

  /** Requests waiting for a grant, on one lane or both. */
  pending(lane?: BudgetLane): number {
    return lane ? this.queues[lane].length : this.queues.search.length + this.queues.fast.length;
  }

  /** Grants so far (every request that left). */
  get total(): number {
    return this.granted;
  }

  /**
   * Resolves when this request may be sent; rejects if the signal aborts first. With `count` > 1,
   * when that many may leave together: the grant takes `count` intervals of the schedule, and no
   * other request is granted in between. (The pages of one ranking, read at one moment, see
   * one ranking.) In any second at most the rate still leaves, as a burst then a pause.
   */
  acquire(lane: BudgetLane = 'search', signal?: AbortSignal, count = 1): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        count: Math.min(Math.max(1, Math.floor(count)), this.batchMax),
        since: Date.now(),
        onAbort: () => {
          const queue = this.queues[lane];
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(new Error('request budget: aborted while waiting'));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.queues[lane].push(waiter);
      this.reschedule();
    });
  }

  private reschedule(): void {
    if (this.pending() === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.nextAt - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.grant();
      this.reschedule();
    }, wait);
  }

  private grant(): void {
    const lane = this.pickLane();
    if (!lane) return;
    const waiter = this.queues[lane].shift()!;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.nextAt = nextGrantAt(this.nextAt, Date.now(), (1000 * waiter.count) / this.rate, waiter.since <= this.nextAt);
    this.granted += waiter.count;
    for (let i = 0; i < waiter.count; i++) this.recent.push(lane);
    while (this.recent.length > SHARE_WINDOW) this.recent.shift();
    waiter.resolve();
  }

  private pickLane(): BudgetLane | undefined {
    const fast = this.queues.fast.length > 0;
    const search = this.queues.search.length > 0;
    if (!fast || !search) return fast ? 'fast' : search ? 'search' : undefined;
    const fastGrants = this.recent.filter((l) => l === 'fast').length;
    return fastGrants < this.fastShare * Math.max(1, this.recent.length) ? 'fast' : 'search';
  }
}

/**
 * When the grant after one made at `now` may leave, `intervalMs` apart. A grant that was due at
 * `scheduledAt` while its request waited (`onSchedule`), but left late because the timer fired
 * late (a busy event loop), keeps the schedule: the next is due an interval after it was, so the
 * rate holds under load. A request that arrived after its slot had passed (the budget was idle)
 * starts a new schedule: no idle time is banked. In any span of time at most one request more
 * than the rate allows leaves.
 */
export function nextGrantAt(scheduledAt: number, now: number, intervalMs: number, onSchedule: boolean): number {
  return onSchedule ? Math.max(scheduledAt + intervalMs, now) : now + intervalMs;
}
