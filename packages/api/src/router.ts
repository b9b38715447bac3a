import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { healthRouter } from './routers/health.router.js';
import { pruneRouter } from './routers/prune.router.js';
import { createCallerFactory, router } from './trpc.js';

export const appRouter = router({
  health: healthRouter,
  prune: pruneRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
