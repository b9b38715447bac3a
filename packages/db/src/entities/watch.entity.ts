import { defineEntity, p } from '@mikro-orm/core';

export const Watch = defineEntity({
  name: 'Watch',
  tableName: 'watches',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    userId: p.uuid(),
    kind: p.enum(['include', 'exclude'] as const).default('include'),
    venueId: p.string().nullable(),
    /** Lowercased, trimmed, accents folded. */
    venueName: p.string().nullable(),
    /** Generated: venue_id, or 'name:' + venue_name; unique per user. */
    venueKey: p.string().generated("(coalesce(venue_id, 'name:' || venue_name)) stored").persist(false),
    market: p.string().nullable(),
    partySize: p.integer().nullable(),
    dateFrom: p.date().nullable(),
    dateTo: p.date().nullable(),
    timeFrom: p.string().nullable(),
    timeTo: p.string().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});
