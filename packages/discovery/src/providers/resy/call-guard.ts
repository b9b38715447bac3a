/**
 * The guard on single search calls. A poll of a bucket is many calls (party size × hour × box);
 * one of them answering an empty or collapsed page while the others answer normally stays far
 * above the bucket-level suspect threshold, and would close every drop that call alone saw. So
 * each call's last answer is remembered, and:
 * - an answer that is empty, or under SUSPECT_SHRINK_RATIO of a last answer of at least
 *   SUSPECT_MIN_PREV slots, is first asked again at once (SUSPECT_RETRIES times); if the answers
 *   stay that way the call is suspect for exactly the slots it returned last time: they are
 *   carried into this snapshot (nothing of them closes) until the next poll's answers confirm;
 * - an answer still truncated at the deepest tiling (only the top of the ranking seen) may bring
 *   slots only of venues that call saw before, and carries the last slots of venues it could not
 *   see: a venue that shows up only because the truncated list shifted never becomes a drop, and
 *   nothing it could not see closes.
 */
import { collapsed } from '../../suspect-rules.js';

/** One slot as one call saw it (the call fixes the party size). */
export interface CallSlot {
  readonly venueId: string;
  readonly localStart: string;
  readonly bookingUrl: string | null;
}

/** How a box was last read: its page count, and when it was last scanned whole (ms). */
export interface BoxScan {
  readonly pages: number;
  readonly fullAt: number;
  /** Venues its ranking held then, as the answer counted them (when it said). */
  readonly total?: number | undefined;
}

interface Remembered {
  readonly slots: readonly CallSlot[];
  /** A suspect answer was seen and is waiting for a second one. */
  readonly pending: boolean;
  readonly scan: BoxScan;
}

/** The scan of a box whose page count is not known (it is scanned whole next time). */
const NEVER_SCANNED: BoxScan = { pages: 1, fullAt: 0 };

/** Calls remembered at most (about 28 buckets × 6 calls × their boxes); the oldest go first. */
export const CALL_MEMORY_MAX = 20_000;

export interface GuardedAnswer {
  /** What the snapshot takes from this call. */
  readonly slots: readonly CallSlot[];
  readonly suspect: boolean;
  readonly truncated: boolean;
  /** Applied to the memory only if the whole poll succeeds. */
  readonly commit: () => void;
}

export class CallGuard {
  private readonly memory = new Map<string, Remembered>();

  /**
   * Whether an answer of `count` slots deserves to be asked again at once before it is believed:
   * it would be suspect, or it is empty from a box just made by a split (which has no memory yet,
   * while its parent had matches).
   */
  doubtful(key: string, count: number, splitBox: boolean): boolean {
    const last = this.memory.get(key);
    if (!last) return splitBox && count === 0;
    return collapsed(last.slots.length, count);
  }

  /** How the box was last read (the provider reads only its tail between full scans). */
  scanOf(key: string): BoxScan | undefined {
    return this.memory.get(key)?.scan;
  }

  /**
   * A tail answer: every venue with at most `tailSlots` slots was read, the head above it was
   * not. Venues read are taken as answered; venues of the last answer not in it are carried.
   * One that sat in the head is still there unread. One that sat in the tail has either closed
   * or gained a table and moved up into the head — closing it would be a false close, and its
   * baseline slots would come back as drops — so unless `resolved` tells which (its slots in this
   * call's window from a per-venue answer, or none when it closed: by that answer, or because the
   * box's count of venues fell by every venue that left), it is carried too, and the
   * box's next read is a full scan, which tells the two apart.
   */
  tail(
    key: string,
    answer: readonly CallSlot[],
    tailSlots: number,
    scan: BoxScan,
    resolved?: ReadonlyMap<string, readonly CallSlot[]>,
  ): GuardedAnswer {
    const last = this.memory.get(key);
    const seen = new Set([...answer.map((s) => s.venueId), ...(resolved?.keys() ?? [])]);
    const unseen = (last?.slots ?? []).filter((s) => !seen.has(s.venueId));
    const leftTail = this.leftTail(key, seen, tailSlots).length > 0;
    const slots = [...answer, ...[...(resolved?.values() ?? [])].flat(), ...unseen];
    return {
      slots,
      suspect: false,
      truncated: false,
      commit: this.remember(key, slots, false, leftTail ? { ...scan, fullAt: 0 } : scan),
    };
  }

  /**
   * Venues of the box's last answer that sat in its tail (at most `tailSlots` slots) and are not
   * among `seen`: each has closed or moved up into the head. A per-venue answer for one tells which
   * (`resolved` in tail()); without one it is carried and the box's next read is a full scan.
   */
  leftTail(key: string, seen: ReadonlySet<string>, tailSlots: number): string[] {
    const counts = new Map<string, number>();
    for (const s of this.memory.get(key)?.slots ?? []) counts.set(s.venueId, (counts.get(s.venueId) ?? 0) + 1);
    return [...counts].filter(([id, n]) => n <= tailSlots && !seen.has(id)).map(([id]) => id);
  }

  /** How many of `venueIds` the box's last answer did not hold: venues that entered its ranking since. */
  entered(key: string, venueIds: Iterable<string>): number {
    const known = new Set((this.memory.get(key)?.slots ?? []).map((s) => s.venueId));
    let n = 0;
    for (const id of new Set(venueIds)) if (!known.has(id)) n++;
    return n;
  }

  private remember(key: string, slots: readonly CallSlot[], pending: boolean, scan: BoxScan): () => void {
    return () => {
      this.memory.delete(key);
      this.memory.set(key, { slots, pending, scan });
      if (this.memory.size > CALL_MEMORY_MAX) this.memory.delete(this.memory.keys().next().value!);
    };
  }

  guard(key: string, answer: readonly CallSlot[], truncated: boolean, scan: BoxScan = NEVER_SCANNED): GuardedAnswer {
    const last = this.memory.get(key);
    const remember = (slots: readonly CallSlot[], pending: boolean) => this.remember(key, slots, pending, scan);
    if (truncated && last) {
      const seen = new Set(answer.map((s) => s.venueId));
      const known = new Set(last.slots.map((s) => s.venueId));
      const slots = [...answer.filter((s) => known.has(s.venueId)), ...last.slots.filter((s) => !seen.has(s.venueId))];
      return { slots, suspect: false, truncated, commit: remember(slots, false) };
    }
    if (last && !last.pending && collapsed(last.slots.length, answer.length)) {
      return { slots: [...answer, ...last.slots], suspect: true, truncated, commit: remember(last.slots, true) };
    }
    return { slots: answer, suspect: false, truncated, commit: remember(answer, false) };
  }
}
