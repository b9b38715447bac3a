import type { BUILT_IN_MARKET_SLUGS } from './config/settings.js';

export type MarketSlug = (typeof BUILT_IN_MARKET_SLUGS)[number];

export interface Market {
  readonly slug: MarketSlug;
  readonly name: string;
  /** IANA time zone: a market's "today" and its slot times are local to it. */
  readonly timeZone: string;
  /** [south, west, north, east], as Resy's geo.bounding_box takes it. */
  readonly boundingBox: readonly [number, number, number, number];
  /** Resy's location slug for the city. */
  readonly locationSlug: string;
}

export const MARKETS: Readonly<Record<MarketSlug, Market>> = {
  nyc: {
    slug: 'nyc',
    name: 'New York',
    timeZone: 'America/New_York',
    boundingBox: [40.4774, -74.2591, 40.9176, -73.7004],
    locationSlug: 'ny',
  },
  la: {
    slug: 'la',
    name: 'Los Angeles',
    timeZone: 'America/Los_Angeles',
    boundingBox: [33.7037, -118.6682, 34.3373, -118.1553],
    locationSlug: 'la',
  },
  chi: {
    slug: 'chi',
    name: 'Chicago',
    timeZone: 'America/Chicago',
    boundingBox: [41.6445, -87.9401, 42.023, -87.5237],
    locationSlug: 'chi',
  },
  mia: {
    slug: 'mia',
    name: 'Miami',
    timeZone: 'America/New_York',
    boundingBox: [25.7091, -80.3197, 25.9097, -80.1192],
    locationSlug: 'mia',
  },
  sf: {
    slug: 'sf',
    name: 'San Francisco',
    timeZone: 'America/Los_Angeles',
    boundingBox: [37.7081, -122.5149, 37.8324, -122.357],
    locationSlug: 'sf',
  },
};

export function getMarket(slug: string): Market {
  const market = (MARKETS as Record<string, Market | undefined>)[slug];
  if (!market) throw new Error(`unknown market "${slug}"`);
  return market;
}

export const MARKET_SLUGS = Object.keys(MARKETS) as MarketSlug[];
