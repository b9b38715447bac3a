import type { VenueInfo } from '../provider.js';
import { hashString, unit } from './sim-random.js';

const FIRST = ['Golden', 'Little', 'Blue', 'Wild', 'Old', 'Silver', 'Red', 'Quiet', 'Lucky', 'Salt', 'Iron', 'Olive'];
const SECOND = [
  'Fig',
  'Oyster',
  'Lantern',
  'Harbor',
  'Table',
  'Garden',
  'Ember',
  'Anchor',
  'Pearl',
  'Sparrow',
  'Vine',
  'Kettle',
];
const NEIGHBORHOODS = [
  'West Village',
  'Midtown',
  'Downtown',
  'Old Town',
  'Riverside',
  'Arts District',
  'Harbor',
  'Uptown',
  'Chinatown',
  'Little Italy',
];
const CUISINES = [
  'Italian',
  'Japanese',
  'French',
  'Mexican',
  'American',
  'Korean',
  'Thai',
  'Seafood',
  'Steakhouse',
  'Mediterranean',
];

/** A simulated venue: what the provider reports plus how it behaves. */
export interface SimVenue {
  readonly info: VenueInfo;
  /** 0..1; popular venues rarely drop a table and a dropped one is taken fast. */
  readonly popularity: number;
}

/** Base of the made-up booking and image URLs (`.invalid` never resolves). */
export const SIM_URL_BASE = 'https://sim.dropwatch.invalid';

/** The venues of one market, deterministic for the seed. */
export function simVenues(seed: number, market: string, count: number): SimVenue[] {
  const m = hashString(market);
  return Array.from({ length: count }, (_, i) => {
    const pick = <T>(list: readonly T[], salt: number): T => list[Math.floor(unit(seed, m, i, salt) * list.length)]!;
    const id = `sim:${market}-${i + 1}`;
    const slug = `${market}-${i + 1}`;
    // Skewed: most venues are ordinary, a few are hot.
    const popularity = unit(seed, m, i, 7) ** 3;
    return {
      popularity,
      info: {
        id,
        name: `${pick(FIRST, 1)} ${pick(SECOND, 2)} ${i + 1}`,
        neighborhood: pick(NEIGHBORHOODS, 3),
        cuisine: pick(CUISINES, 4),
        priceRange: 1 + Math.floor(unit(seed, m, i, 5) * 4),
        rating: Math.round((3.5 + unit(seed, m, i, 6) * 1.5) * 10) / 10,
        imageUrl: `${SIM_URL_BASE}/images/${slug}.jpg`,
        bookingUrl: `${SIM_URL_BASE}/venues/${slug}`,
      },
    };
  });
}
