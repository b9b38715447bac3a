export * from './context.js';
export * from './router.js';
export { adminProcedure, authedProcedure, publicProcedure, router } from './trpc.js';
