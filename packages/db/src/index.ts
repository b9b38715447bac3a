export * from './entities/index.js';
export * from './orm.js';
export * from './migrate.js';
export * from './partitions.js';
export * from './embedded-postgres.js';
export * from './database-url.js';
export * from './pg-array.js';
export * from './pool-connection.js';
