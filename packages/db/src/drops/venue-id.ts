/**
 * A provider-qualified venue id as drop_events.venue_id and venues.venue_id hold it: the provider
 * name, a colon, the provider's own id (`resy:60029`). Every input that names a venue by id checks
 * this one pattern, so an id one procedure accepts is never refused by another.
 */
export const VENUE_ID_PATTERN = /^[a-z][a-z0-9_-]*:[A-Za-z0-9_.-]+$/;
