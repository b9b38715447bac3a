import { describe, expect, it } from 'vitest';
import { CoalescingRunner } from '../src/notify/coalescing-runner.js';

/** A pass that waits for release(), so a test decides when it ends. */
function gatedPasses() {
  const started: string[] = [];
  const gates: (() => void)[] = [];
  const pass = (reason: string) => {
    started.push(reason);
    return new Promise<undefined>((resolve) => gates.push(() => resolve(undefined)));
  };
  const release = async () => {
    const open = gates.splice(0);
    for (const g of open) g();
    await Promise.resolve();
  };
  return { started, pass, release };
}

describe('CoalescingRunner', () => {
  it('a burst of requests during a pass runs exactly one more pass after it', async () => {
    const p = gatedPasses();
    const runner = new CoalescingRunner(p.pass);
    expect(runner.request('first')).toBe('started');
    const outcomes = Array.from({ length: 10 }, (_, i) => runner.request(`burst-${i}`));
    expect(outcomes[0]).toBe('queued');
    expect(outcomes.slice(1).every((o) => o === 'coalesced')).toBe(true);
    expect(p.started).toEqual(['first']);
    await p.release();
    await new Promise((r) => setImmediate(r));
    expect(p.started).toEqual(['first', 'burst-0']);
    await p.release();
    await runner.idle();
    expect(p.started).toEqual(['first', 'burst-0']);
    // Idle again: the next request starts a pass of its own.
    expect(runner.request('later')).toBe('started');
    await p.release();
    await runner.idle();
    expect(p.started).toEqual(['first', 'burst-0', 'later']);
  });

  it('a pass that reports work left runs again; canRun false stops the run of passes', async () => {
    let left = 3;
    let allowed = true;
    const reasons: string[] = [];
    const runner = new CoalescingRunner<string>(
      (reason) => {
        reasons.push(reason);
        left--;
        return Promise.resolve(left > 0 ? 'more' : undefined);
      },
      () => allowed,
    );
    runner.request('start');
    await runner.idle();
    expect(reasons).toEqual(['start', 'more', 'more']);
    allowed = false;
    left = 3;
    runner.request('blocked');
    await runner.idle();
    expect(reasons).toEqual(['start', 'more', 'more']);
  });
});
