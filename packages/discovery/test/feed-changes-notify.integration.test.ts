import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_CHANGES_CHANNEL } from '@dropwatch/db';
import { useTestDatabase, waitFor } from '@dropwatch/db/testing';
import { calibratedBucket, slotAt, testConfig, TestClock } from './support/tick-harness.js';

const t = useTestDatabase();
const FIXED_NOON = Date.parse('2026-11-28T12:00:00Z');

/**
 * The API keeps feed.newDrops answers until a wake; a drop that closes shows a new closedAt with
 * no new drop to announce, so the bucket transaction that closes it must say so itself.
 */
describe('dropwatch_feed_changes from the bucket transaction', () => {
  let listen: pg.Client;
  let sender: pg.Client;
  const received: string[] = [];
  let markers = 0;

  /**
   * Every notification committed before now: a marker sent after them arrives after them
   * (notifications are delivered in commit order), so this returns once they are all in.
   */
  const delivered = async (): Promise<string[]> => {
    const marker = `marker-${++markers}`;
    await sender.query('select pg_notify($1, $2)', [FEED_CHANGES_CHANNEL, marker]);
    await waitFor(() => (received.includes(marker) ? true : undefined), 5_000, marker);
    const got = received.filter((p) => !p.startsWith('marker-'));
    received.length = 0;
    return got;
  };

  beforeAll(async () => {
    listen = new pg.Client({ connectionString: t.db.url });
    sender = new pg.Client({ connectionString: t.db.url });
    await listen.connect();
    await sender.connect();
    listen.on('notification', (m) => received.push(m.payload ?? ''));
    await listen.query(`listen ${FEED_CHANGES_CHANNEL}`);
  });
  afterAll(async () => {
    await listen?.end();
    await sender?.end();
  });

  it('a poll that closes a drop sends it; polls that only open drops or change nothing send none', async () => {
    const config = testConfig();
    const clock = new TestClock(FIXED_NOON);
    const { provider, bucket, date, base, tick } = await calibratedBucket(
      () => t.orm,
      config,
      clock,
      (day) => [slotAt(day, 1, '20:00'), slotAt(day, 2, '20:30')],
    );
    await delivered(); // calibration wrote the venues (new to this process): not what is tested here

    provider.set(bucket, [...base, slotAt(date, 7, '21:00')]);
    expect(await tick()).toMatchObject({ drops: 1, closes: 0 });
    // A new drop is announced on dropwatch_drops, which ends the API's answers by itself.
    expect(await delivered()).toEqual([]);

    expect(await tick()).toMatchObject({ drops: 0, closes: 0 });
    expect(await delivered()).toEqual([]);

    provider.set(bucket, base);
    expect(await tick()).toMatchObject({ drops: 0, closes: 1 });
    expect(await delivered()).toEqual([bucket]);
  });
});
