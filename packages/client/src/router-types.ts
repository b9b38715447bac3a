/**
 * The router's types as the client sees them. In the workspace they come from @dropwatch/api;
 * the package build replaces this file's .d.ts with a self-contained one
 * (scripts/bundle-router-types.ts), so the published client needs no server package.
 */
import type { RouterOutputs } from '@dropwatch/api';

export type { AppRouter, RouterInputs, RouterOutputs } from '@dropwatch/api';

/** The drop every feed returns. */
export type DropDto = RouterOutputs['feed']['justOpened']['drops'][number];
