import { z } from 'zod';
import { publicProcedure, router } from '../trpc.js';

const lastScanOutput = z.object({
  lastScanAt: z.date().nullable(),
  totalSlots: z.number().int(),
  totalVenues: z.number().int(),
});

export const healthRouter = router({
  /** One round trip: newest scan time, slots in the window, venues known. */
  lastScan: publicProcedure.output(lastScanOutput).query(async ({ ctx }) => {
    const [row] = await ctx.em.getConnection().execute<{ last: Date | null; slots: string; venues: string }[]>(
      `select (select max(scanned_at) from discovery_buckets) as last,
              (select coalesce(sum(slot_count), 0) from discovery_buckets) as slots,
              (select count(*) from venues) as venues`,
    );
    return {
      lastScanAt: row?.last ?? null,
      totalSlots: Number(row?.slots ?? 0),
      totalVenues: Number(row?.venues ?? 0),
    };
  }),
});
