export * from './retention-config.js';
export { retentionCutoffs, type RetentionCutoffs } from './cutoffs.js';
export { listDayPartitions, type DayPartition, type DayPartitionedTable, type PartitionState } from './day-partitions.js';
export * from './run-retention.js';
