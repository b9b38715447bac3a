/**
 * `@dropwatch/api/internals`: what only the benchmarks drive directly — the watch store the
 * watches router calls, measured against the SQL it replaced. Production code imports the
 * package root, which does not export it.
 */
export { addWatch, listWatches, removeWatch, toWatchDto } from './watches/watch-store.js';
export type { WatchAddInput, WatchDto } from './routers/watches.schemas.js';
