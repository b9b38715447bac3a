export * from './cursor.js';
export * from './drop-dto.js';
export * from './new-drops.js';
export * from './sql-runner.js';
