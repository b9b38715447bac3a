import { defineEntity, p } from '@mikro-orm/core';

/** Per venue and UTC day counters; rarity and open-time stats derive from them. */
export const VenueMetric = defineEntity({
  name: 'VenueMetric',
  tableName: 'venue_metrics',
  properties: {
    venueId: p.text().primary(),
    day: p.date().primary(),
    drops: p.integer().default(0),
    closes: p.integer().default(0),
    openSecondsSum: p.bigint('number').default(0),
    /** Sum of squares, for the variance of open time. */
    openSecondsSq: p.double().default(0),
    /** Drops of slots between 18:00 and 21:00 local. */
    primeDrops: p.integer().default(0),
  },
  indexes: [{ name: 'venue_metrics_day_idx', properties: ['day'] }],
});
