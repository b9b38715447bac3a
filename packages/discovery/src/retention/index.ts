export * from './retention-config.js';
export { retentionCutoffs, type RetentionCutoffs } from './cutoffs.js';
export {
  listDayPartitions,
  partitionsToRemove,
  removeDayPartition,
  type DayPartition,
  type DayPartitionedTable,
  type PartitionState,
  type RemovedPartition,
} from './day-partitions.js';
export { openRetentionSession, type RetentionSession } from './retention-session.js';
export * from './run-retention.js';
