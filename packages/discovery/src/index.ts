export * from './job-leases.js';
export * from './job-runs.js';
