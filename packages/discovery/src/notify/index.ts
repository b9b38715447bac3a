export * from './notify-limits.js';
export { normalizeVenueName } from './venue-name.js';
export { runNotify, type NotifyOptions, type NotifyStats } from './run-notify.js';
