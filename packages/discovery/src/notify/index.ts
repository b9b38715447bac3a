export * from './notify-limits.js';
export { normalizeVenueName } from './venue-name.js';
export { runNotify, runNotifyPass, type NotifyOptions, type NotifyStats } from './run-notify.js';
export {
  runNotifyWorker,
  type NotifyWakeReason,
  type NotifyWorkerOptions,
  type NotifyWorkerStats,
} from './notify-worker.js';
export {
  DropsListener,
  NOTIFY_LISTEN_APPLICATION_NAME,
  type DropsListenerOptions,
  type DropsWakeReason,
} from './drops-listener.js';
