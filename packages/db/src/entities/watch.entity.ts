import { defineEntity, p, type InferEntity, type Opt } from '@mikro-orm/core';
import { User } from './user.entity.js';

export const Watch = defineEntity({
  name: 'Watch',
  tableName: 'watches',
  properties: {
    id: p.bigint('string').primary().autoincrement().generated('identity'),
    userId: p
      .manyToOne(User)
      .mapToPk()
      .fieldName('user_id')
      .foreignKeyName('watches_user_id_fkey')
      .deleteRule('cascade')
      .updateRule('no action'),
    kind: p.enum(['include', 'exclude'] as const).default('include'),
    venueId: p.text().nullable(),
    /** Lowercased, trimmed, accents folded. */
    venueName: p.text().nullable(),
    /** Generated: venue_id, or 'name:' + venue_name; unique per user. The database computes it, so create() leaves it out. */
    venueKey: p.text().$type<Opt<string>>().generated("(coalesce(venue_id, 'name:' || venue_name)) stored"),
    market: p.text().nullable(),
    partySize: p.integer().nullable(),
    dateFrom: p.date().nullable(),
    dateTo: p.date().nullable(),
    timeFrom: p.text().nullable(),
    timeTo: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [{ name: 'watches_user_venue_key', properties: ['userId', 'venueKey'] }],
  indexes: [
    // Notify matches drops to watches by venue id or by name; each index holds only its kind.
    {
      name: 'watches_venue_id_idx',
      expression: 'create index watches_venue_id_idx on watches (venue_id) where venue_id is not null',
    },
    {
      name: 'watches_venue_name_idx',
      expression: 'create index watches_venue_name_idx on watches (venue_name) where venue_name is not null',
    },
  ],
  checks: [{ name: 'watches_venue_check', expression: 'venue_id is not null or venue_name is not null' }],
});

/** A watches row as the ORM loads it. */
export type WatchRow = InferEntity<typeof Watch>;
