import { hash32, normal, unit } from './hash.js';

/** Draw kinds: each stream of the market hashes (seed, kind, …) so streams never correlate. */
export const Stream = {
  Kind: 1,
  Cluster: 2,
  Position: 3,
  Popularity: 4,
  Density: 5,
  RegularSlot: 6,
  RegularSizes: 7,
  FlipPeriod: 8,
  FlipPhase: 9,
  FlipTarget: 10,
  OpeningCount: 11,
  OpeningPick: 12,
  EmptyCall: 13,
} as const;

export type VenueKind = 'regular' | 'hard';

export interface FakeVenue {
  /** Position in the market's venue list (the same for any venue count with the same seed). */
  readonly index: number;
  /** Resy's numeric id. */
  readonly resyId: number;
  /** `resy:<id>`, as dropwatch stores it. */
  readonly venueId: string;
  readonly name: string;
  readonly urlSlug: string;
  readonly neighborhood: string;
  readonly lat: number;
  readonly lng: number;
  /** Regular venues keep steady slots; hard-to-book ones only have short openings. */
  readonly kind: VenueKind;
  /** Stable popularity in [0, 1): the tie-break of the search ranking. */
  readonly popularity: number;
  /** Regular venues: the share of (date, time) slots they hold open. */
  readonly density: number;
}

/** Share of hard-to-book venues. */
export const HARD_SHARE = 0.3;
/** First Resy id; venue i has id FIRST_ID + i. */
const FIRST_ID = 50_000;

/**
 * Dense areas as fractions of the bounding box [south, west, north, east] (the NYC box puts them
 * on lower Manhattan, Midtown, Williamsburg, …): a uniform split of the box is far from even.
 */
const CLUSTERS = [
  { name: 'West Village', fy: 0.551, fx: 0.473, sigma: 0.012, weight: 30 },
  { name: 'Midtown', fy: 0.631, fx: 0.491, sigma: 0.012, weight: 22 },
  { name: 'Williamsburg', fy: 0.538, fx: 0.541, sigma: 0.014, weight: 14 },
  { name: 'Upper West Side', fy: 0.699, fx: 0.509, sigma: 0.012, weight: 9 },
  { name: 'Park Slope', fy: 0.442, fx: 0.503, sigma: 0.016, weight: 8 },
  { name: 'Astoria', fy: 0.651, fx: 0.601, sigma: 0.016, weight: 7 },
] as const;
/** The rest are spread uniformly over the box. */
const SCATTERED_WEIGHT = 10;
const CLUSTER_TOTAL = CLUSTERS.reduce((s, c) => s + c.weight, 0) + SCATTERED_WEIGHT;

const NAME_A = [
  'Little',
  'Golden',
  'Blue',
  'Old',
  'Hidden',
  'Salt',
  'Wild',
  'Saint',
  'Iron',
  'Velvet',
  'Lucky',
  'Quiet',
];
const NAME_B = [
  'Fig',
  'Oyster',
  'Lantern',
  'Olive',
  'Ember',
  'Harbor',
  'Juniper',
  'Pearl',
  'Sparrow',
  'Thistle',
  'Anchor',
  'Clover',
];

export type BoundingBox = readonly [south: number, west: number, north: number, east: number];

/** Venue `index` of the market: a pure function of (seed, index, box). */
export function makeVenue(seed: number, index: number, box: BoundingBox): FakeVenue {
  const [south, west, north, east] = box;
  const kind: VenueKind = unit(seed, Stream.Kind, index) < HARD_SHARE ? 'hard' : 'regular';
  let pick = unit(seed, Stream.Cluster, index) * CLUSTER_TOTAL;
  const cluster = CLUSTERS.find((c) => (pick -= c.weight) < 0);
  let fy: number;
  let fx: number;
  if (cluster) {
    fy = cluster.fy + cluster.sigma * normal(seed, Stream.Position, index, 1);
    fx = cluster.fx + cluster.sigma * normal(seed, Stream.Position, index, 2);
  } else {
    fy = unit(seed, Stream.Position, index, 3);
    fx = unit(seed, Stream.Position, index, 4);
  }
  const clamp = (f: number) => Math.min(0.999, Math.max(0.001, f));
  const resyId = FIRST_ID + index;
  const h = hash32(seed, Stream.Position, index, 5);
  const name = `${NAME_A[h % NAME_A.length]} ${NAME_B[(h >>> 8) % NAME_B.length]} ${index}`;
  return {
    index,
    resyId,
    venueId: `resy:${resyId}`,
    name,
    urlSlug: name.toLowerCase().replaceAll(' ', '-'),
    neighborhood: cluster?.name ?? 'Outer Boroughs',
    lat: south + clamp(fy) * (north - south),
    lng: west + clamp(fx) * (east - west),
    kind,
    popularity: unit(seed, Stream.Popularity, index),
    density: 0.3 + 0.4 * unit(seed, Stream.Density, index),
  };
}

export function inBox(v: { lat: number; lng: number }, box: readonly number[]): boolean {
  const [south = -90, west = -180, north = 90, east = 180] = box;
  return v.lat >= south && v.lat <= north && v.lng >= west && v.lng <= east;
}
