import { defineEntity, p } from '@mikro-orm/core';

export const Venue = defineEntity({
  name: 'Venue',
  tableName: 'venues',
  properties: {
    /** Provider-qualified id, e.g. `resy:60029`. */
    venueId: p.string().primary(),
    provider: p.string(),
    market: p.string(),
    name: p.string(),
    neighborhood: p.string().nullable(),
    cuisine: p.string().nullable(),
    priceRange: p.integer().nullable(),
    rating: p.float().nullable(),
    imageUrl: p.text().nullable(),
    bookingUrl: p.text().nullable(),
    firstSeenAt: p.datetime().defaultRaw('now()'),
    /** Touched at most every VENUE_TOUCH_MINUTES, so polls don't rewrite every venue. */
    lastSeenAt: p.datetime().defaultRaw('now()'),
    lastDropAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['lastSeenAt'] }],
});
