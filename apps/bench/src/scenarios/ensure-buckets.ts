import { bucketId, bucketWindow, loadConfig, MARKET_SLUGS } from '@dropwatch/core';
import { pgArray } from '@dropwatch/db';
import type { BenchContext, Scenario } from '../harness.js';

/**
 * The seed checked each of the window's 28 buckets with its own SELECT and inserted the
 * missing one by one; ours asks once for the window's existing ids and inserts the rest in one
 * statement. Measured on an existing window (the steady state: nothing to insert) and with a
 * new day rolling in (2 inserts per market).
 */
export const ensureBucketsScenario: Scenario = {
  name: 'ensure-buckets',
  description: 'per-bucket existence queries + inserts vs one SELECT + one batched INSERT',
  async run(ctx: BenchContext) {
    const config = loadConfig({});
    const conn = () => ctx.orm.em.fork().getConnection();
    for (const marketCount of [1, 5]) {
      const markets = MARKET_SLUGS.slice(0, marketCount);
      let day = 0;
      // Each round shifts "now" by one day so one new date enters the window per market.
      const windowFor = (d: number) =>
        markets.flatMap((m) =>
          bucketWindow(
            m,
            new Date(Date.UTC(2030, 0, 1 + d, 17)),
            config.DISCOVERY_WINDOW_DAYS,
            config.DISCOVERY_TIME_SLOTS,
          ),
        );

      const perBucket = async () => {
        const c = conn();
        for (const b of windowFor(day)) {
          const id = bucketId(b);
          const found = await c.execute('select 1 from discovery_buckets where bucket_id = ?', [id]);
          if (found.length === 0) {
            await c.execute(
              'insert into discovery_buckets (bucket_id, market, date, time_slot) values (?, ?, ?, ?) on conflict do nothing',
              [id, b.market, b.date, b.timeSlot],
            );
          }
        }
      };
      const batched = async () => {
        const c = conn();
        const buckets = windowFor(day);
        const ids = buckets.map(bucketId);
        const existing = await c.execute<{ bucket_id: string }[]>(
          'select bucket_id from discovery_buckets where bucket_id = any(?::text[])',
          [pgArray(ids)],
        );
        const have = new Set(existing.map((r) => r.bucket_id));
        const missing = buckets.filter((b) => !have.has(bucketId(b)));
        if (missing.length > 0) {
          await c.execute(
            `insert into discovery_buckets (bucket_id, market, date, time_slot)
             select * from unnest(?::text[], ?::text[], ?::date[], ?::text[]) on conflict do nothing`,
            [
              pgArray(missing.map(bucketId)),
              pgArray(missing.map((b) => b.market)),
              pgArray(missing.map((b) => b.date)),
              pgArray(missing.map((b) => b.timeSlot)),
            ],
          );
        }
      };

      await perBucket(); // the window exists: steady state
      await ctx.compare({
        case: `${marketCount} market(s), steady`,
        variants: [
          { name: 'old: query per bucket', run: perBucket },
          { name: 'ours: 1 SELECT + 1 INSERT', run: batched },
        ],
      });
      await ctx.compare({
        case: `${marketCount} market(s), new day`,
        variants: [
          {
            name: 'old: query per bucket',
            run: async () => {
              day += 1;
              await perBucket();
            },
          },
          {
            name: 'ours: 1 SELECT + 1 INSERT',
            run: async () => {
              day += 1;
              await batched();
            },
          },
        ],
      });
    }
  },
};
