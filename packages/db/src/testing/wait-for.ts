/** How often waitFor polls its condition. */
export const WAIT_POLL_MS = 20;

/**
 * Polls fn until it returns a value (anything but undefined) or the deadline passes: tests wait
 * on conditions with a deadline, never on fixed sleeps.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}
