export * from './config/settings.js';
export * from './config/load-config.js';
export * from './markets.js';
export * from './time-zone.js';
export * from './bucket-window.js';
export * from './slot-fingerprint.js';
export * from './ranking.js';
export * from './errors.js';
