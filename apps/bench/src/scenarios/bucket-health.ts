import { bucketId, bucketWindow, loadConfig, MARKET_SLUGS } from '@dropwatch/core';
import { pgArray } from '@dropwatch/db';
import type { BenchContext, Scenario } from '../harness.js';

const SELECT_COLUMNS = `bucket_id, market, date, time_slot, scanned_at, slot_count, baseline_complete, last_error`;

/** health.buckets: the seed read each bucket with its own query; ours reads the window with one IN query. */
export const bucketHealthScenario: Scenario = {
  name: 'bucket-health',
  description: 'one query per bucket vs one IN query for the window',
  async run(ctx: BenchContext) {
    const config = loadConfig({});
    const conn = () => ctx.orm.em.fork().getConnection();
    for (const marketCount of [1, 5]) {
      const buckets = MARKET_SLUGS.slice(0, marketCount).flatMap((m) =>
        bucketWindow(m, new Date(), config.DISCOVERY_WINDOW_DAYS, config.DISCOVERY_TIME_SLOTS),
      );
      const ids = buckets.map(bucketId);
      await conn().execute(
        `insert into discovery_buckets (bucket_id, market, date, time_slot, scanned_at, slot_count)
         select id, m, d, t, now(), 400 from unnest(?::text[], ?::text[], ?::date[], ?::text[]) as u(id, m, d, t)
         on conflict do nothing`,
        [
          pgArray(ids),
          pgArray(buckets.map((b) => b.market)),
          pgArray(buckets.map((b) => b.date)),
          pgArray(buckets.map((b) => b.timeSlot)),
        ],
      );
      await ctx.compare({
        case: `${marketCount} market(s), ${ids.length} buckets`,
        variants: [
          {
            name: 'old: query per bucket',
            run: async () => {
              const c = conn();
              for (const id of ids)
                await c.execute(`select ${SELECT_COLUMNS} from discovery_buckets where bucket_id = ?`, [id]);
            },
          },
          {
            name: 'ours: one IN query',
            run: async () => {
              await conn().execute(
                `select ${SELECT_COLUMNS} from discovery_buckets where bucket_id = any(?::text[]) order by bucket_id`,
                [pgArray(ids)],
              );
            },
          },
        ],
      });
    }
  },
};
