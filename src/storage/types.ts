/**
 * The narrow interface between a partition's log and everything above it (replication, Produce, Fetch,
 * ListOffsets, DeleteRecords, OffsetForLeaderEpoch). Two engines implement it: `MemoryLog` (the reference model,
 * used by tests and by the conformance suite) and `SegmentLog` (Kafka's on-disk layout).
 *
 * Offsets are bigint (Kafka int64). All calls are synchronous except flushing and closing; a log is used from one
 * thread (the event loop), so no call may interleave with another on the same log.
 *
 * Leader appends of batches carrying a producer id are checked against the log's producer state
 * (producer-state.ts): a duplicate is answered with the original offsets (`AppendResult.duplicate`), a stale epoch
 * or a sequence gap is refused with INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
import type { ProducerEntry } from './producer-state.js';

/** ListOffsets' special timestamps. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;

export interface AppendOptions {
  /**
   * Leader appends (the default) assign offsets from the log end by rewriting each batch's base offset in place,
   * and stamp `leaderEpoch` into each batch. Follower appends keep the leader's offsets, which must start at the
   * log end.
   */
  assignOffsets?: boolean;
  /** The partition leader epoch of this append (recorded in the leader-epoch cache); -1 when unknown. */
  leaderEpoch?: number;
  /** Wall clock in ms, for LogAppendTime and time-based rolling; defaults to Date.now(). */
  now?: number;
}

export interface AppendResult {
  firstOffset: bigint;
  lastOffset: bigint;
  /** The broker time written into the batches under LogAppendTime, else -1. */
  logAppendTime: bigint;
  maxTimestamp: bigint;
  offsetOfMaxTimestamp: bigint;
  batchCount: number;
  recordCount: number;
  bytes: number;
  logStartOffset: bigint;
  /**
   * Set when a leader append repeated a batch an idempotent producer already wrote (same producer id, epoch and
   * sequence range as one of its last 5 batches): nothing was appended, and the offsets are the original batch's.
   */
  duplicate?: true;
}

export interface ReadOptions {
  /** Byte budget. Only whole batches are returned; the first batch is returned whole even when larger. */
  maxBytes: number;
  /** Exclusive upper bound (high watermark or last stable offset for consumers; log end for followers). */
  maxOffset?: bigint;
  /** Return the first batch even when it exceeds maxBytes (Kafka's behaviour since KIP-74). Default true. */
  minOneBatch?: boolean;
}

export interface ReadResult {
  /** Stored batches exactly as appended (after offset assignment), never a partial batch. Empty when none. */
  records: Buffer;
  /** Base offset of the first returned batch, or the requested offset when nothing was returned. */
  firstOffset: bigint;
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
}

export interface TimestampOffset {
  timestamp: bigint;
  offset: bigint;
  /** Leader epoch of the batch holding the offset, or -1. */
  leaderEpoch: number;
}

export interface EpochEndOffset {
  /** The largest epoch <= the requested one that the log knows, or -1. */
  epoch: number;
  /** Start offset of the next epoch, or the log end for the latest epoch; -1 when the epoch is unknown. */
  endOffset: bigint;
}

export interface PartitionLog {
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  /** Set from outside (replication); never above the log end. */
  highWatermark: bigint;
  /** Hook for transactions: the first offset of the oldest open transaction, or the high watermark. */
  readonly lastStableOffset: bigint;
  /** Bytes stored in all segments. */
  readonly size: number;
  readonly segmentCount: number;

  /** Appends a record set (concatenated v2 batches, validated by the caller with scanRecordSet). */
  append(records: Buffer, options?: AppendOptions): AppendResult;
  /** Reads from `offset` (OFFSET_OUT_OF_RANGE below the log start or above the log end). */
  read(offset: bigint, options: ReadOptions): ReadResult;
  /** ListOffsets: the first offset whose timestamp >= ts, or a special timestamp above; null when none. */
  offsetForTimestamp(timestamp: bigint): TimestampOffset | null;
  /** OffsetForLeaderEpoch. */
  endOffsetForEpoch(epoch: number): EpochEndOffset;
  /** Removes every batch at or above the batch containing `offset` (replication truncation). */
  truncateTo(offset: bigint): void;
  /** Empties the log and restarts it at `offset`. */
  truncateFullyAndStartAt(offset: bigint): void;
  /** DeleteRecords: moves the log start offset up (never above the high watermark) and drops whole segments. */
  deleteRecordsBefore(offset: bigint): bigint;
  /** Starts a new active segment. */
  roll(now?: number): void;
  /** Applies retention.ms / retention.bytes; returns how many segments were deleted. */
  applyRetention(now?: number): number;
  /** Idempotent producers with state in this log, by producer id. */
  producerEntries(): ProducerEntry[];
  /** Drops producers idle for producer.id.expiration.ms (by their last batch's timestamp); returns how many. */
  removeExpiredProducers(now?: number): number;
  /** Makes everything appended so far durable; concurrent calls share one fsync. */
  flush(): Promise<void>;
  /** Clean shutdown: flushes and records that no recovery is needed. */
  close(): Promise<void>;
}
