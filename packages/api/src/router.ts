import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { adminRouter } from './routers/admin.router.js';
import { authRouter } from './routers/auth.router.js';
import { destinationsRouter } from './routers/destinations.router.js';
import { feedRouter } from './routers/feed.router.js';
import { healthRouter } from './routers/health.router.js';
import { notificationsRouter } from './routers/notifications.router.js';
import { pruneRouter } from './routers/prune.router.js';
import { venuesRouter } from './routers/venues.router.js';
import { watchesRouter } from './routers/watches.router.js';
import { webhooksRouter } from './routers/webhooks.router.js';
import { createCallerFactory, router } from './trpc.js';

export const appRouter = router({
  feed: feedRouter,
  venues: venuesRouter,
  health: healthRouter,
  prune: pruneRouter,
  admin: adminRouter,
  auth: authRouter,
  watches: watchesRouter,
  notifications: notificationsRouter,
  webhooks: webhooksRouter,
  destinations: destinationsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const createCaller = createCallerFactory(appRouter);
