import { z } from 'zod';
import { rarity } from '@dropwatch/core';

/** The drop every feed returns. Dates travel as Date through superjson. */
export const dropDto = z.object({
  id: z.string(),
  market: z.string(),
  bucketId: z.string(),
  venue: z.object({
    id: z.string(),
    name: z.string(),
    neighborhood: z.string().nullable(),
    bookingUrl: z.string().nullable(),
    imageUrl: z.string().nullable(),
  }),
  /** Venue-local start date, YYYY-MM-DD. */
  slotDate: z.string(),
  /** Venue-local start time, HH:MM. */
  slotTime: z.string(),
  partySizes: z.array(z.number().int()),
  openedAt: z.date(),
  closedAt: z.date().nullable(),
  /** 100 / (1 + drops per day over the last 14 days) of the venue. */
  rarity: z.number(),
});
export type DropDto = z.infer<typeof dropDto>;

/** A drop row as the feed SQL (feed-queries.ts) selects it. */
export interface DropRow {
  id: string;
  tx_id: string;
  market: string;
  bucket_id: string;
  venue_id: string;
  venue_name: string | null;
  neighborhood: string | null;
  booking_url: string | null;
  image_url: string | null;
  slot_date: string;
  slot_time: string;
  party_sizes: number[] | string;
  opened_at: Date | string;
  closed_at: Date | string | null;
  /** Drops of the venue in the rarity window (venue_metrics). */
  window_drops: number | string | null;
}

const asDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

/** pg returns int[] parsed; a driver without the parser hands back '{2,4}'. */
function partySizes(v: number[] | string): number[] {
  if (Array.isArray(v)) return v.map(Number);
  return v
    .replace(/[{}]/g, '')
    .split(',')
    .filter((x) => x.length > 0)
    .map(Number);
}

export function toDropDto(row: DropRow): DropDto {
  return {
    id: row.id,
    market: row.market,
    bucketId: row.bucket_id,
    venue: {
      id: row.venue_id,
      name: row.venue_name ?? row.venue_id,
      neighborhood: row.neighborhood,
      bookingUrl: row.booking_url,
      imageUrl: row.image_url,
    },
    slotDate: row.slot_date,
    slotTime: row.slot_time.slice(0, 5),
    partySizes: partySizes(row.party_sizes),
    openedAt: asDate(row.opened_at),
    closedAt: row.closed_at === null ? null : asDate(row.closed_at),
    rarity: rarity(Number(row.window_drops ?? 0)),
  };
}
