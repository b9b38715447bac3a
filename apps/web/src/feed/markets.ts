import type { RouterInputs } from '@dropwatch/client';

export type Market = NonNullable<Exclude<RouterInputs['feed']['live'], void | undefined>['market']>;

/** The markets the server knows (the API refuses any other slug). */
export const MARKETS: readonly { readonly slug: Market; readonly name: string }[] = [
  { slug: 'nyc', name: 'New York' },
  { slug: 'la', name: 'Los Angeles' },
  { slug: 'chi', name: 'Chicago' },
  { slug: 'mia', name: 'Miami' },
  { slug: 'sf', name: 'San Francisco' },
];
