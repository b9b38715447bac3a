import { defineEntity, p } from '@mikro-orm/core';

export const Venue = defineEntity({
  name: 'Venue',
  tableName: 'venues',
  properties: {
    /** Provider-qualified id, e.g. `resy:60029`. */
    venueId: p.text().primary(),
    provider: p.text(),
    market: p.text(),
    name: p.text(),
    neighborhood: p.text().nullable(),
    cuisine: p.text().nullable(),
    priceRange: p.integer().nullable(),
    rating: p.float().nullable(),
    imageUrl: p.text().nullable(),
    bookingUrl: p.text().nullable(),
    firstSeenAt: p.datetime().defaultRaw('now()'),
    /** Touched at most every VENUE_TOUCH_MINUTES, so polls don't rewrite every venue. */
    lastSeenAt: p.datetime().defaultRaw('now()'),
    lastDropAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'venues_last_seen_at_idx', properties: ['lastSeenAt'] },
    // Venue search by name within a market, case-insensitive.
    {
      name: 'venues_market_name_idx',
      expression: 'create index venues_market_name_idx on venues (market, lower(name))',
    },
  ],
});
