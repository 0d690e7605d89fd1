/**
 * MemoryLog: the reference engine. A partition log kept as an array of segments of whole batches in memory,
 * following the same rules as the on-disk engine (offset assignment, LogAppendTime, rolling on segment.bytes,
 * retention by whole segments, truncation at batch boundaries) but written for clarity, not speed. Tests use it
 * as the model the on-disk engine must agree with; the broker can use it for throwaway topics.
 *
 * Idempotent producers get the same checks and the same state as on disk (producer-state.ts), snapshots included
 * (kept in memory, taken at every roll): after a truncation the state is rebuilt from the newest snapshot at or below
 * the new end plus the batches after it, exactly as SegmentLog does, so both engines agree.
 *
 * Nothing survives the process. Single-threaded: callers must not interleave calls on one log.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ATTRIBUTES_OFFSET, CRC_OFFSET, MAX_TIMESTAMP_OFFSET } from '../protocol/records/batch-header.js';
import {
  crc32c,
  decodeRecordBatches,
  scanRecordSet,
  setBaseOffset,
  setPartitionLeaderEpoch,
  TIMESTAMP_TYPE_BIT,
} from '../protocol/records/index.js';
import type { LogConfig } from './config.js';
import { DEFAULT_LOG_CONFIG } from './config.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import {
  duplicateAppendResult,
  hasProducerId,
  MemorySnapshotStore,
  ProducerAppend,
  type ProducerEntry,
  ProducerStateManager,
} from './producer-state.js';
import {
  type AppendOptions,
  type AppendResult,
  EARLIEST_TIMESTAMP,
  type EpochEndOffset,
  LATEST_TIMESTAMP,
  MAX_TIMESTAMP,
  type PartitionLog,
  type ReadOptions,
  type ReadResult,
  type TimestampOffset,
} from './types.js';

interface StoredBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  leaderEpoch: number;
  bytes: Buffer;
}

interface MemorySegment {
  baseOffset: bigint;
  batches: StoredBatch[];
  size: number;
}

export interface MemoryLogOptions {
  /** Wall clock (ms), for producer expiration when the producer state is rebuilt. */
  now?: () => number;
  /** `producer.id.expiration.ms` */
  producerIdExpirationMs?: number;
}

export class MemoryLog implements PartitionLog {
  readonly config: LogConfig;
  private segments: MemorySegment[];
  private start: bigint;
  private end: bigint;
  private hw = 0n;
  private readonly epochs = LeaderEpochCache.load(null);
  private readonly producers: ProducerStateManager;
  private readonly clock: () => number;

  constructor(config: Partial<LogConfig> = {}, startOffset = 0n, options: MemoryLogOptions = {}) {
    this.config = { ...DEFAULT_LOG_CONFIG, ...config };
    this.start = startOffset;
    this.end = startOffset;
    this.segments = [{ baseOffset: startOffset, batches: [], size: 0 }];
    this.clock = options.now ?? Date.now;
    this.producers = new ProducerStateManager(
      new MemorySnapshotStore(),
      options.producerIdExpirationMs === undefined ? {} : { expirationMs: options.producerIdExpirationMs },
    );
    this.producers.advanceTo(startOffset);
  }

  get logStartOffset(): bigint {
    return this.start;
  }

  get logEndOffset(): bigint {
    return this.end;
  }

  get highWatermark(): bigint {
    return this.hw;
  }

  set highWatermark(offset: bigint) {
    this.hw = offset < this.start ? this.start : offset > this.end ? this.end : offset;
  }

  get lastStableOffset(): bigint {
    return this.hw;
  }

  get size(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  private get active(): MemorySegment {
    return this.segments[this.segments.length - 1]!;
  }

  append(records: Buffer, options: AppendOptions = {}): AppendResult {
    const assign = options.assignOffsets ?? true;
    const now = BigInt(options.now ?? Date.now());
    const epoch = options.leaderEpoch ?? -1;
    const batches = scanRecordSet(records);
    if (batches.length === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'empty record set');
    for (const b of batches) {
      if (b.size > this.config.maxMessageBytes) {
        throw new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `batch of ${b.size} bytes exceeds max.message.bytes`);
      }
    }
    if (records.length > this.config.segmentBytes) {
      throw new KafkaError(ErrorCode.RECORD_LIST_TOO_LARGE, `record set larger than segment.bytes`);
    }
    const copy = Buffer.from(records);
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime';
    let next = this.end;
    if (!assign && batches[0]!.baseOffset !== this.end) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `follower append starts at ${batches[0]!.baseOffset}, log ends at ${this.end}`,
      );
    }
    let maxTimestamp = -1n;
    let offsetOfMax = -1n;
    let recordCount = 0;
    let producerAppend: ProducerAppend | null = null;
    const stored: StoredBatch[] = [];
    for (const b of batches) {
      const base = assign ? next : b.baseOffset;
      if (!assign && base < next) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'follower batches overlap');
      if (assign) {
        setBaseOffset(copy, b.position, base);
        setPartitionLeaderEpoch(copy, b.position, epoch);
      }
      let batchMax = b.maxTimestamp;
      if (logAppendTime && assign) {
        copy.writeInt16BE(b.attributes | TIMESTAMP_TYPE_BIT, b.position + ATTRIBUTES_OFFSET);
        copy.writeBigInt64BE(now, b.position + MAX_TIMESTAMP_OFFSET);
        copy.writeUInt32BE(
          crc32c(copy.subarray(b.position + ATTRIBUTES_OFFSET, b.position + b.size)),
          b.position + CRC_OFFSET,
        );
        batchMax = now;
      }
      if (assign && hasProducerId(copy, b.position)) {
        producerAppend ??= new ProducerAppend();
        const duplicate = this.producers.check(producerAppend, copy, b.position);
        if (duplicate !== null) return duplicateAppendResult(duplicate, logAppendTime, this.start);
      }
      const last = base + BigInt(b.lastOffsetDelta);
      if (batchMax > maxTimestamp) {
        maxTimestamp = batchMax;
        offsetOfMax = last;
      }
      recordCount += b.recordCount;
      stored.push({
        baseOffset: base,
        lastOffset: last,
        maxTimestamp: batchMax,
        leaderEpoch: assign ? epoch : b.partitionLeaderEpoch,
        bytes: copy.subarray(b.position, b.position + b.size),
      });
      next = last + 1n;
    }
    // One append goes into one segment, rolled first if it would not fit.
    if (this.active.size > 0 && this.active.size + copy.length > this.config.segmentBytes) this.roll();
    const firstOffset = stored[0]!.baseOffset;
    for (const s of stored) {
      this.epochs.assign(s.leaderEpoch, s.baseOffset);
      this.active.batches.push(s);
      this.active.size += s.bytes.length;
    }
    this.end = next;
    if (producerAppend !== null) this.producers.commit(producerAppend, next);
    else if (!assign) for (const s of stored) this.producers.applyStored(s.bytes, 0);
    return {
      firstOffset,
      lastOffset: next - 1n,
      logAppendTime: logAppendTime ? now : -1n,
      maxTimestamp,
      offsetOfMaxTimestamp: offsetOfMax,
      batchCount: stored.length,
      recordCount,
      bytes: copy.length,
      logStartOffset: this.start,
    };
  }

  private allBatches(): StoredBatch[] {
    return this.segments.flatMap((s) => s.batches);
  }

  read(offset: bigint, options: ReadOptions): ReadResult {
    if (offset < this.start || offset > this.end) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${offset} is outside [${this.start}, ${this.end}]`);
    }
    const maxOffset = options.maxOffset ?? this.end;
    const minOne = options.minOneBatch ?? true;
    const out: Buffer[] = [];
    let bytes = 0;
    let first = -1n;
    for (const b of this.allBatches()) {
      if (b.lastOffset < offset) continue;
      if (b.baseOffset >= maxOffset) break;
      if (bytes + b.bytes.length > options.maxBytes && !(minOne && out.length === 0)) break;
      if (first < 0n) first = b.baseOffset;
      out.push(b.bytes);
      bytes += b.bytes.length;
    }
    return {
      records: Buffer.concat(out),
      firstOffset: first < 0n ? offset : first,
      logStartOffset: this.start,
      logEndOffset: this.end,
      highWatermark: this.hw,
    };
  }

  offsetForTimestamp(timestamp: bigint): TimestampOffset | null {
    if (timestamp === LATEST_TIMESTAMP)
      return { timestamp: -1n, offset: this.end, leaderEpoch: this.epochs.latestEpoch() };
    if (timestamp === EARLIEST_TIMESTAMP) {
      return { timestamp: -1n, offset: this.start, leaderEpoch: this.epochs.epochForOffset(this.start) };
    }
    const batches = this.allBatches().filter((b) => b.lastOffset >= this.start);
    if (timestamp === MAX_TIMESTAMP) {
      let best: TimestampOffset | null = null;
      for (const b of batches) {
        if (best !== null && b.maxTimestamp <= best.timestamp) continue;
        for (const r of this.recordsOf(b)) {
          if (best === null || r.timestamp > best.timestamp) {
            best = { timestamp: r.timestamp, offset: r.offset, leaderEpoch: b.leaderEpoch };
          }
        }
      }
      return best;
    }
    for (const b of batches) {
      if (b.maxTimestamp < timestamp) continue;
      for (const r of this.recordsOf(b)) {
        if (r.timestamp >= timestamp) return { timestamp: r.timestamp, offset: r.offset, leaderEpoch: b.leaderEpoch };
      }
    }
    return null;
  }

  /** Records of a batch at or above the log start, with LogAppendTime batches reporting the append time. */
  private recordsOf(b: StoredBatch): { offset: bigint; timestamp: bigint }[] {
    const [batch] = decodeRecordBatches(b.bytes);
    if (!batch) return [];
    return batch.records
      .filter((r) => r.offset >= this.start)
      .map((r) => ({ offset: r.offset, timestamp: batch.timestampType === 1 ? batch.maxTimestamp : r.timestamp }));
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(epoch, this.end);
  }

  truncateTo(offset: bigint): void {
    if (offset >= this.end) return;
    const containing = this.allBatches().find((b) => b.lastOffset >= offset);
    const cut = containing ? containing.baseOffset : offset;
    // Segments starting above the target go; the one holding the cut keeps its batches below it.
    this.segments = this.segments.filter((s, i) => i === 0 || s.baseOffset <= offset);
    for (const s of this.segments) {
      s.batches = s.batches.filter((b) => b.baseOffset < cut);
      s.size = s.batches.reduce((n, b) => n + b.bytes.length, 0);
    }
    this.end = cut < this.start ? this.start : cut;
    this.epochs.truncateFromEnd(this.end);
    if (this.hw > this.end) this.hw = this.end;
    this.rebuildProducers();
  }

  /** The newest snapshot at or below the log end, then every stored batch after it (SegmentLog's rule). */
  private rebuildProducers(): void {
    const from = this.producers.reload(this.end) ?? this.segments[0]!.baseOffset;
    for (const b of this.allBatches()) if (b.baseOffset >= from) this.producers.applyStored(b.bytes, 0);
    this.producers.advanceTo(this.end);
    this.producers.removeExpired(this.clock());
  }

  producerEntries(): ProducerEntry[] {
    return [...this.producers.entries()].sort((a, b) =>
      a.producerId < b.producerId ? -1 : a.producerId > b.producerId ? 1 : 0,
    );
  }

  removeExpiredProducers(now: number = this.clock()): number {
    return this.producers.removeExpired(now);
  }

  truncateFullyAndStartAt(offset: bigint): void {
    this.segments = [{ baseOffset: offset, batches: [], size: 0 }];
    this.start = offset;
    this.end = offset;
    this.hw = offset;
    this.epochs.clear();
    this.producers.clear(offset);
  }

  deleteRecordsBefore(offset: bigint): bigint {
    if (offset > this.hw) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${offset} is above the high watermark ${this.hw}`);
    }
    if (offset > this.start) {
      this.start = offset;
      this.dropSegmentsBelowStart();
    }
    return this.start;
  }

  /** Drops non-active segments that hold nothing at or above the log start offset. */
  private dropSegmentsBelowStart(): void {
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.start) this.segments.shift();
    this.truncateEpochsFromStart();
    this.producers.removeSnapshotsBelow(this.segments[0]!.baseOffset);
  }

  private truncateEpochsFromStart(): void {
    this.epochs.truncateFromStart(this.start);
  }

  roll(): void {
    if (this.active.size === 0) return;
    this.segments.push({ baseOffset: this.end, batches: [], size: 0 });
    this.producers.takeSnapshot(this.end);
    this.producers.pruneSnapshots((o) => this.segments.some((s) => s.baseOffset === o));
  }

  applyRetention(now: number = Date.now()): number {
    let deleted = 0;
    const deletable = (pred: (s: MemorySegment) => boolean): void => {
      // Only segments wholly below the high watermark (Kafka keeps what is not yet fully replicated).
      while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.hw && pred(this.segments[0]!)) {
        this.segments.shift();
        deleted++;
      }
    };
    if (this.config.cleanupPolicy.includes('delete')) {
      if (this.config.retentionMs >= 0) {
        const limit = BigInt(now - this.config.retentionMs);
        deletable((s) => s.batches.length > 0 && segmentMaxTimestamp(s) < limit);
      }
      if (this.config.retentionBytes >= 0) {
        let excess = this.size - this.config.retentionBytes;
        deletable((s) => {
          if (excess - s.size < 0) return false;
          excess -= s.size;
          return true;
        });
      }
    }
    if (deleted > 0) {
      const base = this.segments[0]!.baseOffset;
      if (base > this.start) this.start = base;
      if (this.hw < this.start) this.hw = this.start;
      this.truncateEpochsFromStart();
      this.producers.removeSnapshotsBelow(base);
    }
    return deleted;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

function segmentMaxTimestamp(s: MemorySegment): bigint {
  return s.batches.reduce((m, b) => (b.maxTimestamp > m ? b.maxTimestamp : m), -1n);
}
