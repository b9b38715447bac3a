/**
 * The router's types as the client sees them. In the workspace they come from @dropwatch/api;
 * the package build (rollup.config.js) inlines them into the self-contained dist/index.d.ts,
 * so the published client needs no server package.
 */
import type { RouterOutputs } from '@dropwatch/api';

export type { AppRouter, RouterInputs, RouterOutputs } from '@dropwatch/api';
/**
 * The interfaces the router's type names (its context, meta and error shape). A consumer that
 * emits declarations writes whatever it exports of AppRouter (a React Query context) out in
 * full, naming these: they are exported so it can (TS4023 otherwise). The server's `Context`
 * is an opaque stand-in in the package (rollup.config.js).
 */
export type { Context, Meta, ZodErrorShape, ZodIssueShape } from '@dropwatch/api';

/** The drop every feed returns. */
export type DropDto = RouterOutputs['feed']['justOpened']['drops'][number];
