export {
  FakeResyMarket,
  MAX_OPENING_MS,
  SEARCH_HALF_WINDOW_MIN,
  SLOT_TIMES,
  timeToMinutes,
  minutesToTime,
} from './market.js';
export type { FakeMarketOptions, Opening, SearchQuery, VenueSlots } from './market.js';
export {
  startFakeResyMarket,
  type FakeResyHandle,
  type FakeResyServerOptions,
  type FakeResyStats,
  type SearchLogEntry,
} from './server.js';
export type { FakeVenue, VenueKind } from './venues.js';
