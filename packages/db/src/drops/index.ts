/**
 * The drop read model: what the writers of drops (the discovery poller's bucket transactions and
 * feed-cache rebuilds, the notify job) and their readers (the API's feed procedures and live
 * signal) must agree on — the exactly-once cursor, the drop DTO and the row it is mapped from,
 * and the drop projection SQL. It lives in the db package
 * because it is SQL over db's tables and both the jobs (discovery) and the API sit above db: one
 * declaration that each side imports, instead of the API reaching into the jobs package.
 */
export * from './cursor.js';
export * from './drop-dto.js';
export * from './feed-cache.js';
export * from './new-drops.js';
export * from './venue-id.js';
