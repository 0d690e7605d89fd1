/**
 * Per-log configuration: Kafka's topic-level names and defaults (the broker-level `log.*` settings feed these
 * defaults). Values are numbers in Kafka's units; "unlimited" is -1 for sizes and `Number.MAX_SAFE_INTEGER`
 * where Kafka uses Long.MAX_VALUE.
 */
export interface LogConfig {
  /** `segment.bytes`: roll the active segment when it would grow past this. */
  segmentBytes: number;
  /** `segment.ms`: roll when the active segment's first batch is older than this. */
  segmentMs: number;
  /** `segment.jitter.ms`: random reduction of segment.ms so that many partitions do not roll at once. */
  segmentJitterMs: number;
  /** `segment.index.bytes`: bound on each offset/time index file; a full index rolls the segment. */
  segmentIndexBytes: number;
  /** `index.interval.bytes`: bytes of log between two offset-index entries. */
  indexIntervalBytes: number;
  /** `retention.ms`: delete segments whose newest record is older; -1 keeps forever. */
  retentionMs: number;
  /** `retention.bytes`: delete oldest segments while the log is bigger; -1 means unlimited. */
  retentionBytes: number;
  /** `cleanup.policy`: 'delete', 'compact', or both. */
  cleanupPolicy: readonly ('delete' | 'compact')[];
  /** `delete.retention.ms`: how long tombstones survive compaction. */
  deleteRetentionMs: number;
  /** `min.compaction.lag.ms`: records younger than this are never compacted. */
  minCompactionLagMs: number;
  /** `max.compaction.lag.ms`: a log with records older than this is compacted regardless of the dirty ratio. */
  maxCompactionLagMs: number;
  /** `min.cleanable.dirty.ratio`: compact when the uncleaned part is at least this share of the log. */
  minCleanableDirtyRatio: number;
  /** `flush.messages`: fsync after this many messages (Long.MAX: leave it to the OS). */
  flushMessages: number;
  /** `flush.ms`: fsync when the oldest unflushed message is this old (Long.MAX: leave it to the OS). */
  flushMs: number;
  /**
   * `samsa.flush.before.ack` (Samsa's own setting, off by default like Kafka): an append is acknowledged only
   * after its bytes are fsynced; concurrent appends share one fsync (group commit). Makes a single node
   * durable against power loss.
   */
  flushBeforeAck: boolean;
  /** `file.delete.delay.ms`: how long a deleted segment's files linger (renamed `.deleted`) before removal. */
  fileDeleteDelayMs: number;
  /** `max.message.bytes`: largest record batch the log accepts. */
  maxMessageBytes: number;
  /** `message.timestamp.type`: CreateTime or LogAppendTime. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentJitterMs: 0,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: ['delete'] as const,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: LONG_MAX,
  minCleanableDirtyRatio: 0.5,
  flushMessages: LONG_MAX,
  flushMs: LONG_MAX,
  flushBeforeAck: false,
  fileDeleteDelayMs: 60_000,
  maxMessageBytes: 1024 * 1024 + 12,
  messageTimestampType: 'CreateTime',
});

export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, ...overrides };
}
