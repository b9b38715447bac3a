import { describe, expect, it } from 'vitest';
import { startApiHarness, TEST_ADMIN_TOKEN, waitFor } from './api-fixtures.js';

async function subscriberGauge(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('dropwatch_sse_subscribers '));
  return Number(line?.split(' ')[1] ?? NaN);
}

describe('SSE streams at shutdown', () => {
  it('notifications.onNew streams are tracked like feed.onDrop and ended by stop()', async () => {
    const h = await startApiHarness();
    let stopped = false;
    try {
      const res = await fetch(`${h.app.url}/trpc/notifications.onNew`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, accept: 'text/event-stream' },
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read(); // the stream is open once its first bytes arrive
      await waitFor(
        async () => ((await subscriberGauge(h.app.url)) === 1 ? true : undefined),
        5_000,
        'the onNew stream counted',
      );

      const ended = (async () => {
        try {
          while (!(await reader.read()).done);
        } catch {
          // a destroyed socket ends the body with an error: ended all the same
        }
        return true;
      })();
      await h.app.stop();
      stopped = true;
      expect(await ended).toBe(true);
    } finally {
      if (!stopped) await h.app.stop();
      await h.stop();
    }
  });
});
