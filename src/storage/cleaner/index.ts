/** The log cleaner (compaction) for cleanup.policy=compact and compact,delete. */
export { deleteHorizon, emptyBatchLike, type FilterResult, filterBatch } from './batch-filter.js';
export { CleanAborted, type CleanPlan, type CleanResult, planClean } from './clean-pass.js';
export {
  CLEANER_CHECKPOINT_FILE,
  readCleanerCheckpoint,
  writeCleanerCheckpoint,
} from './cleaner-checkpoint.js';
export { type CleanerStats, type CleanOnceOptions, LogCleaner, type LogCleanerOptions } from './log-cleaner.js';
