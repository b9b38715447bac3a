/**
 * The router's types as the client sees them. In the workspace they come from @dropwatch/api;
 * the package build (rollup.config.js) inlines them into the self-contained dist/index.d.ts,
 * so the published client needs no server package.
 */
import type { RouterOutputs } from '@dropwatch/api';

export type { AppRouter, RouterInputs, RouterOutputs } from '@dropwatch/api';

/** The drop every feed returns. */
export type DropDto = RouterOutputs['feed']['justOpened']['drops'][number];
