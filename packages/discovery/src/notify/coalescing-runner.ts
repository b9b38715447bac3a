/** What a request to run did: started a pass, queued the one pass after the running one, or joined that queued pass. */
export type RunRequestOutcome = 'started' | 'queued' | 'coalesced';

/**
 * At most one pass at a time; requests during a pass coalesce into exactly ONE more pass after
 * it, whatever their number (a burst of NOTIFYs costs two passes, not one per NOTIFY). The pass
 * may ask for a follow-up itself (work left) by returning a reason. `pass` must not throw: the
 * caller records and retries its own failures.
 */
export class CoalescingRunner<R> {
  private running: Promise<void> | undefined;
  private pending: R | undefined;

  constructor(
    private readonly pass: (reason: R) => Promise<R | undefined>,
    /** Checked before each pass: false (stopping, lease lost) ends the run of passes. */
    private readonly canRun: () => boolean = () => true,
  ) {}

  request(reason: R): RunRequestOutcome {
    if (this.running) {
      if (this.pending !== undefined) return 'coalesced';
      this.pending = reason;
      return 'queued';
    }
    this.running = this.drain(reason).finally(() => {
      this.running = undefined;
    });
    return 'started';
  }

  /** Resolves when no pass is running (nor queued). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(first: R): Promise<void> {
    let next: R | undefined = first;
    while (next !== undefined && this.canRun()) {
      this.pending = undefined;
      const followUp = await this.pass(next);
      next = this.pending ?? followUp;
    }
    this.pending = undefined;
  }
}
