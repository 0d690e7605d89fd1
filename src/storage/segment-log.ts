/**
 * SegmentLog: a partition log on disk in Kafka's layout, the engine behind PartitionLog for real topics.
 *
 * Files in the partition directory:
 *   - `<20-digit base offset>.log` / `.index` / `.timeindex` per segment (see LogSegment, OffsetIndex, TimeIndex);
 *     segments are sorted by base offset, the last one is active (the only one appended to);
 *   - `leader-epoch-checkpoint` (LeaderEpochCache);
 *   - `<20-digit offset>.snapshot`: producer state snapshots (producer-state.ts, producer-snapshot-files.ts), one at
 *     each segment's base offset (taken when it was rolled) and one at the log end after a clean close;
 *   - transient: `*.deleted` (a segment being removed), `*.cleaned` / `*.swap` (compaction output being installed).
 * The recovery point and log start offset are kept by the caller (LogManager's per-dir checkpoint files): this
 * class reports them (`recoveryPoint`, `logStartOffset`) and takes them back in `open`.
 *
 * Appends: leaders assign offsets by rewriting each batch's base offset in place and stamp the partition leader
 * epoch; under LogAppendTime the max timestamp and the timestamp-type attribute are rewritten too and the CRC is
 * recomputed (it covers them). Followers keep the leader's offsets, which must start at the log end. The batch
 * bytes are written with one positional write into the active segment, which rolls first on segment.bytes, on
 * segment.ms (+ jitter; Kafka's rule: the incoming batch's max timestamp minus the segment's first batch timestamp,
 * or the wall clock since the segment was created when it has none), when an index is full, or when the offsets
 * would not fit the indexes' 32-bit relative offsets. Batches are trusted to have been validated by the caller
 * (scanRecordSet: CRC, lengths); the log re-checks only their framing.
 *
 * Durability (Kafka's model): appends land in the page cache; `flush()` makes everything appended so far durable
 * (fdatasync of the segments written since the last flush, fsync of their indexes once they are inactive, fsync of
 * the directory when segments were created) and then advances the recovery point. Concurrent `flush()` calls share
 * one fsync round (group commit); a call made while a round runs waits for the next round, which starts as soon as
 * the running one ends and covers everything appended until then. The log flushes in the background on roll, after
 * `flush.messages` messages and `flush.ms` after the first unflushed append. With `flushBeforeAck`
 * (`samsa.flush.before.ack`) the caller acknowledges an append only after `await log.flush()`.
 *
 * Producer state (idempotent producers): leader appends of batches with a producer id are checked against it before
 * anything is written (a duplicate is not written again and gets the original offsets back; see producer-state.ts);
 * the check costs batches without a producer id one comparison. Snapshots are taken at every roll and at a clean
 * close and fsynced with the next flush round. At open, and after any truncation, the state is rebuilt from the
 * newest snapshot at or below the log end plus the batch headers after it; retention and DeleteRecords only remove
 * snapshots below the oldest remaining segment. A log without any snapshot after a clean shutdown (written before
 * producer state existed) is rebuilt from its last two segments only, as Kafka does after an upgrade.
 *
 * After a crash: `open` without `cleanShutdown` recovers every segment from the one holding the recovery point
 * (everything below was flushed): each batch is validated, the first torn or corrupt batch and everything after it
 * (later segments included) are removed and logged, and the indexes are rebuilt. With `cleanShutdown` nothing is
 * scanned: the active segment's indexes are checked and the batches after its last index entry validated; other
 * segments are checked when first used. Stray `.deleted` and `.cleaned` files are removed; a `.swap` segment (a
 * finished compaction interrupted before being installed) replaces the segments it covers.
 *
 * Faults: file-system errors are KafkaError(KAFKA_STORAGE_ERROR) with the errno error as cause. An append that
 * fails is cut back, leaving the stored data as before; a failed fsync (or a failed cut-back) marks the log failed,
 * after which appends and flushes report the error (the caller takes the log dir offline).
 *
 * Concurrency: one log is used from the event loop only; no call may interleave with another on the same log. Only
 * `flush` and `close` are asynchronous; appends and reads may run while their fsyncs are in flight.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../log/logger.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { crc32c } from '../protocol/records/index.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from './checkpoint.js';
import type { LogConfig } from './config.js';
import { PartialWriteError, storageError } from './errors.js';
import { FileCache } from './file-cache.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { FileSnapshotStore } from './producer-snapshot-files.js';
import { duplicateAppendResult, ProducerAppend, type ProducerEntry, ProducerStateManager } from './producer-state.js';
import { LogSegment, type RecoveryResult, type SegmentOptions } from './segment/log-segment.js';
import {
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  parseSegmentFileName,
  SWAP_SUFFIX,
  segmentFileName,
  TIME_INDEX_SUFFIX,
} from './segment/names.js';
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

const LOG_OVERHEAD = 12;
const HEADER_SIZE = 61;
const EPOCH_AT = 12;
const MAGIC_AT = 16;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const LAST_DELTA_AT = 23;
const MAX_TS_AT = 35;
const RECORD_COUNT_AT = 57;
const PRODUCER_ID_AT = 43;
const TIMESTAMP_TYPE_BIT = 0x08;
const INT32_MAX = 0x7fffffff;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 0x7fffffff;
/** What an empty read returns (zero-length, so sharing it is safe). */
const NO_RECORDS = Buffer.alloc(0);
/** Inactive segments whose indexes stay in memory after use (per log); older ones are unloaded. */
const LOADED_INACTIVE_SEGMENTS = 4;

export interface SegmentLogOptions {
  /** Offsets below were flushed before the last stop (from the recovery-point checkpoint). Default 0. */
  recoveryPoint?: bigint;
  /** From the log-start-offset checkpoint; default the first segment's base offset. */
  logStartOffset?: bigint;
  /** The previous process closed the log (LogManager's clean-shutdown marker): skip recovery. */
  cleanShutdown?: boolean;
  logger?: Logger;
  /** The fd pool to use; default a process-wide one of FileCache.DEFAULT_MAX_OPEN. */
  files?: FileCache;
  /** Wall clock (ms), for segment.ms, flush.ms and retention defaults. */
  now?: () => number;
  /** `producer.id.expiration.ms` (default Kafka's, one day). */
  producerIdExpirationMs?: number;
}

/** A read-only view of one segment. */
export interface SegmentInfo {
  baseOffset: bigint;
  /** Bytes in the .log. */
  size: number;
  active: boolean;
  /** Path of the .log file. */
  path: string;
}

let sharedFiles: FileCache | null = null;

/** The process-wide fd pool used when `open` is given none. */
export function defaultFileCache(): FileCache {
  sharedFiles ??= new FileCache();
  return sharedFiles;
}

export class SegmentLog implements PartitionLog {
  private cfg: LogConfig;
  /**
   * Hook for transactions: the first offset of the oldest open transaction (null when none). `lastStableOffset`
   * is the smaller of it and the high watermark.
   */
  firstUnstableOffset: bigint | null = null;
  private readonly partitionDir: string;
  private readonly logger: Logger;
  private readonly files: FileCache;
  private readonly clock: () => number;
  private readonly epochs: LeaderEpochCache;
  private segs: LogSegment[] = [];
  private start = 0n;
  private end = 0n;
  private hw = 0n;
  private rp = 0n;
  private segmentBytes: number;
  // Flushing.
  private readonly dirty = new Set<LogSegment>();
  private dirDirty = false;
  private flushing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private truncations = 0;
  private unflushedMessages = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private failure: KafkaError | null = null;
  private closing: Promise<void> | null = null;
  private readonly pendingDeletes = new Map<NodeJS.Timeout, string[]>();
  /** Inactive segments with indexes in memory, least recently used first. */
  private loadedInactive: LogSegment[] = [];
  /** False while `open` loads: segment repairs then only feed the state computed at the end of loading. */
  private loaded = false;
  private snapshots!: FileSnapshotStore;
  private producers!: ProducerStateManager;

  private constructor(dir: string, config: LogConfig, logger: Logger, files: FileCache, clock: () => number) {
    this.partitionDir = dir;
    this.cfg = config;
    this.logger = logger;
    this.files = files;
    this.clock = clock;
    // Positions in the indexes are int32.
    this.segmentBytes = Math.min(config.segmentBytes, INT32_MAX);
    this.epochs = LeaderEpochCache.load(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), logger);
  }

  /** Opens (creating if needed) the log in `dir`, recovering it unless it was shut down cleanly. */
  static open(dir: string, config: LogConfig, options: SegmentLogOptions = {}): SegmentLog {
    const logger = options.logger ?? silentLogger;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw storageError(`cannot create log dir ${dir}`, err);
    }
    const log = new SegmentLog(dir, config, logger, options.files ?? defaultFileCache(), options.now ?? Date.now);
    try {
      log.snapshots = new FileSnapshotStore(dir);
      log.producers = new ProducerStateManager(log.snapshots, {
        logger,
        name: dir,
        ...(options.producerIdExpirationMs === undefined ? {} : { expirationMs: options.producerIdExpirationMs }),
      });
      log.load(options);
    } catch (err) {
      for (const s of log.segs) s.closeFiles();
      throw storageError(`cannot load log ${dir}`, err);
    }
    return log;
  }

  // ---- state ----

  get config(): LogConfig {
    return this.cfg;
  }

  /**
   * Applies changed topic configs (AlterConfigs). Takes effect for what happens next: the next roll, append,
   * retention pass or flush decision; existing segments and indexes are not rewritten, as in Kafka.
   */
  updateConfig(config: LogConfig): void {
    this.cfg = config;
    this.segmentBytes = Math.min(config.segmentBytes, INT32_MAX);
  }

  get dir(): string {
    return this.partitionDir;
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
    const fuo = this.firstUnstableOffset;
    return fuo !== null && fuo < this.hw ? fuo : this.hw;
  }

  /** Everything below is durable (flushed); what LogManager checkpoints. */
  get recoveryPoint(): bigint {
    return this.rp;
  }

  /** Whether the caller must `await flush()` before acknowledging an append (samsa.flush.before.ack). */
  get flushBeforeAck(): boolean {
    return this.config.flushBeforeAck;
  }

  /** Set when an fsync failed: the log refuses appends and flushes. */
  get storageFailure(): KafkaError | null {
    return this.failure;
  }

  get size(): number {
    let n = 0;
    for (const s of this.segs) n += s.size;
    return n;
  }

  get segmentCount(): number {
    return this.segs.length;
  }

  get segments(): readonly SegmentInfo[] {
    const last = this.segs.length - 1;
    return this.segs.map((s, i) => ({ baseOffset: s.baseOffset, size: s.size, active: i === last, path: s.path }));
  }

  private get active(): LogSegment {
    return this.segs[this.segs.length - 1]!;
  }

  // ---- appending ----

  /**
   * Appends a record set (whole v2 batches, validated by the caller with scanRecordSet). Leader appends rewrite the
   * caller's buffer in place (base offsets, leader epoch, and under LogAppendTime the max timestamp, attributes and
   * CRC) and write it with one write: no copy. When an error is thrown nothing was stored, though a leader's buffer
   * may already be partly rewritten. With `flushBeforeAck`, acknowledge only after `await flush()`.
   */
  append(records: Buffer, options: AppendOptions = {}): AppendResult {
    this.checkWritable();
    const assign = options.assignOffsets ?? true;
    const epoch = options.leaderEpoch ?? -1;
    const now = options.now ?? this.clock();
    const len = records.length;
    if (len === 0) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'empty record set');
    if (len > this.segmentBytes) {
      throw new KafkaError(
        ErrorCode.RECORD_LIST_TOO_LARGE,
        `record set of ${len} bytes is larger than segment.bytes (${this.segmentBytes})`,
      );
    }
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime';
    const nowTs = BigInt(now);
    let next = this.end;
    let maxTimestamp = -1n;
    let offsetOfMax = -1n;
    let recordCount = 0;
    let batchCount = 0;
    // Follower appends: the first batch of each epoch newer than the cache knows (rare; allocated only then).
    let newEpochs: [number, bigint][] | null = null;
    // Leader appends of idempotent batches: what they do to the producer state, applied once written.
    let producerAppend: ProducerAppend | null = null;
    const knownEpoch = this.epochs.latestEpoch();
    let latestEpoch = knownEpoch;
    let pos = 0;
    while (pos < len) {
      if (len - pos < HEADER_SIZE || records.readInt8(pos + MAGIC_AT) !== 2) {
        throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record set: no v2 batch at byte ${pos}`);
      }
      const size = LOG_OVERHEAD + records.readInt32BE(pos + 8);
      const delta = records.readInt32BE(pos + LAST_DELTA_AT);
      if (size < HEADER_SIZE || size > len - pos || delta < 0) {
        throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record set: invalid batch framing at byte ${pos}`);
      }
      if (assign && size > this.config.maxMessageBytes) {
        throw new KafkaError(
          ErrorCode.MESSAGE_TOO_LARGE,
          `batch of ${size} bytes exceeds max.message.bytes (${this.config.maxMessageBytes})`,
        );
      }
      let base: bigint;
      let batchMax: bigint;
      if (assign) {
        base = next;
        records.writeBigInt64BE(base, pos);
        records.writeInt32BE(epoch, pos + EPOCH_AT);
        if (logAppendTime) {
          records.writeInt16BE(records.readInt16BE(pos + ATTRIBUTES_AT) | TIMESTAMP_TYPE_BIT, pos + ATTRIBUTES_AT);
          records.writeBigInt64BE(nowTs, pos + MAX_TS_AT);
          records.writeUInt32BE(crc32c(records.subarray(pos + ATTRIBUTES_AT, pos + size)), pos + CRC_AT);
          batchMax = nowTs;
        } else {
          batchMax = records.readBigInt64BE(pos + MAX_TS_AT);
        }
        if (records.readInt32BE(pos + PRODUCER_ID_AT) >= 0) {
          producerAppend ??= new ProducerAppend();
          const duplicate = this.producers.check(producerAppend, records, pos);
          if (duplicate !== null) return duplicateAppendResult(duplicate, logAppendTime, this.start);
        }
      } else {
        base = records.readBigInt64BE(pos);
        if (pos === 0 && base !== this.end) {
          throw new KafkaError(
            ErrorCode.OFFSET_OUT_OF_RANGE,
            `follower append starts at offset ${base} but the log ends at ${this.end} (${this.partitionDir})`,
          );
        }
        if (base < next) {
          throw new KafkaError(
            ErrorCode.CORRUPT_MESSAGE,
            `follower append: batch at byte ${pos} starts at offset ${base}, not after ${next - 1n}`,
          );
        }
        batchMax = records.readBigInt64BE(pos + MAX_TS_AT);
        const batchEpoch = records.readInt32BE(pos + EPOCH_AT);
        if (batchEpoch > latestEpoch) {
          newEpochs ??= [];
          newEpochs.push([batchEpoch, base]);
          latestEpoch = batchEpoch;
        }
      }
      const last = base + BigInt(delta);
      if (batchMax > maxTimestamp) {
        maxTimestamp = batchMax;
        offsetOfMax = last;
      }
      recordCount += records.readInt32BE(pos + RECORD_COUNT_AT);
      batchCount++;
      next = last + 1n;
      pos += size;
    }
    const firstOffset = assign ? this.end : records.readBigInt64BE(0);
    const lastOffset = next - 1n;

    this.maybeRoll(len, maxTimestamp, firstOffset, lastOffset, now);
    const seg = this.active;
    if (!seg.canHold(firstOffset) || !seg.canHold(lastOffset)) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_SERVER_ERROR,
        `offsets ${firstOffset}..${lastOffset} span more than one segment can index (2^31)`,
      );
    }
    try {
      seg.append(records);
    } catch (err) {
      if (err instanceof PartialWriteError) this.fail(err);
      throw err;
    }
    this.end = next;
    this.dirty.add(seg);
    if (producerAppend !== null) {
      this.producers.commit(producerAppend, next);
    } else if (!assign) {
      for (let at = 0; at < len; at += LOG_OVERHEAD + records.readInt32BE(at + 8)) {
        this.producers.applyStored(records, at);
      }
    }
    if (assign ? epoch > knownEpoch : newEpochs !== null) {
      if (assign) this.epochs.assign(epoch, firstOffset);
      else for (const [e, o] of newEpochs!) this.epochs.assign(e, o);
      this.epochs.flush();
    }
    this.afterAppend(recordCount);
    return {
      firstOffset,
      lastOffset,
      logAppendTime: logAppendTime ? nowTs : -1n,
      maxTimestamp,
      offsetOfMaxTimestamp: offsetOfMax,
      batchCount,
      recordCount,
      bytes: len,
      logStartOffset: this.start,
    };
  }

  /** Starts a new active segment at the log end (a no-op when the active one is empty). */
  roll(now?: number): void {
    this.checkWritable();
    if (this.active.size === 0) return;
    this.rollAt(this.end, now ?? this.clock(), 'requested');
  }

  private maybeRoll(setSize: number, maxTimestamp: bigint, firstOffset: bigint, lastOffset: bigint, now: number) {
    const seg = this.active;
    if (seg.size === 0) {
      // An empty segment cannot take offsets it cannot index (a far jump): replace it.
      if ((!seg.canHold(firstOffset) || !seg.canHold(lastOffset)) && firstOffset !== seg.baseOffset) {
        const replacement = this.createSegment(firstOffset, now);
        this.segs[this.segs.length - 1] = replacement;
        this.deleteSegments([seg], 'replaced by a segment at the offsets being appended');
      }
      return;
    }
    let reason: string | null = null;
    if (seg.size > this.segmentBytes - setSize) reason = 'segment.bytes';
    else if (seg.indexFull) reason = 'index full (segment.index.bytes)';
    else if (!seg.canHold(lastOffset)) reason = 'relative offsets would overflow';
    else {
      const first = seg.firstBatchTimestamp;
      const waited = first >= 0 ? Number(maxTimestamp) - first : now - seg.created;
      if (waited > this.config.segmentMs - seg.rollJitterMs) reason = 'segment.ms';
    }
    if (reason !== null) this.rollAt(firstOffset > this.end ? firstOffset : this.end, now, reason);
  }

  private rollAt(base: bigint, now: number, reason: string): void {
    const old = this.active;
    old.onBecomeInactive();
    const seg = this.createSegment(base, now);
    this.segs.push(seg);
    this.dirty.add(old);
    this.dirDirty = true;
    this.snapshotProducers(base);
    this.noteUse(old);
    this.logger.debug({ dir: this.partitionDir, segment: seg.name, reason }, 'rolled segment');
    // Kafka flushes the rolled segment in the background.
    this.backgroundFlush();
  }

  private createSegment(base: bigint, now: number): LogSegment {
    const seg = LogSegment.create(this.partitionDir, base, this.segmentOptions(now));
    this.dirDirty = true;
    return seg;
  }

  private segmentOptions(now: number): SegmentOptions {
    const jitter = this.config.segmentJitterMs;
    return {
      files: this.files,
      indexIntervalBytes: this.config.indexIntervalBytes,
      segmentIndexBytes: this.config.segmentIndexBytes,
      logger: this.logger,
      now,
      rollJitterMs: jitter > 0 ? Math.floor(Math.random() * Math.min(jitter, this.config.segmentMs)) : 0,
      onRepair: (seg, result) => this.onRepair(seg, result),
    };
  }

  private afterAppend(messages: number): void {
    this.unflushedMessages += messages;
    if (this.unflushedMessages >= this.config.flushMessages) {
      this.backgroundFlush();
    } else if (this.flushTimer === null && this.config.flushMs <= MAX_TIMER_MS) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.backgroundFlush();
      }, this.config.flushMs);
      this.flushTimer.unref();
    }
  }

  // ---- reading ----

  read(offset: bigint, options: ReadOptions): ReadResult {
    this.checkOpen();
    if (offset < this.start || offset > this.end) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside [${this.start}, ${this.end}] (${this.partitionDir})`,
      );
    }
    const limit = options.maxOffset !== undefined && options.maxOffset < this.end ? options.maxOffset : this.end;
    const empty = (): ReadResult => this.readResult(NO_RECORDS, offset);
    if (offset >= this.end) return empty();
    const segs = this.segs;
    let i = this.floorSegment(offset);
    let loc = null;
    for (; i < segs.length; i++) {
      loc = segs[i]!.translate(offset);
      this.noteUse(segs[i]!);
      if (loc !== null) break;
    }
    if (loc === null || loc.baseOffset >= limit) return empty();
    const maxBytes = options.maxBytes;
    if (loc.size > maxBytes) {
      if (options.minOneBatch === false) return empty();
      return this.readResult(segs[i]!.readBatch(loc), loc.baseOffset);
    }
    // Where the data ends: before the first batch starting at or above `limit`.
    let endSeg = segs.length - 1;
    let endPos = segs[endSeg]!.size;
    if (limit < this.end) {
      for (let j = Math.max(this.floorSegment(limit), i); j < segs.length; j++) {
        const cut = segs[j]!.translate(limit);
        this.noteUse(segs[j]!);
        if (cut !== null) {
          endSeg = j;
          endPos = cut.baseOffset < limit ? cut.position + cut.size : cut.position;
          break;
        }
      }
    }
    // One buffer, one read per segment touched, then trimmed to whole batches.
    let want = 0;
    for (let k = i; k <= endSeg && want < maxBytes; k++) {
      want += (k === endSeg ? endPos : segs[k]!.size) - (k === i ? loc.position : 0);
    }
    if (want > maxBytes) want = maxBytes;
    const buf = Buffer.allocUnsafe(want);
    let filled = 0;
    for (let k = i; k <= endSeg && filled < want; k++) {
      const from = k === i ? loc.position : 0;
      const to = k === endSeg ? endPos : segs[k]!.size;
      const n = Math.min(to - from, want - filled);
      if (n <= 0) continue;
      const got = segs[k]!.readInto(buf, filled, from, n);
      filled += got;
      if (got < n) break;
    }
    let used = 0;
    while (filled - used >= LOG_OVERHEAD) {
      const size = LOG_OVERHEAD + buf.readInt32BE(used + 8);
      if (size < HEADER_SIZE || used + size > filled) break;
      used += size;
    }
    return this.readResult(buf.subarray(0, used), loc.baseOffset);
  }

  private readResult(records: Buffer, firstOffset: bigint): ReadResult {
    return {
      records,
      firstOffset,
      logStartOffset: this.start,
      logEndOffset: this.end,
      highWatermark: this.hw,
    };
  }

  offsetForTimestamp(timestamp: bigint): TimestampOffset | null {
    this.checkOpen();
    if (timestamp === LATEST_TIMESTAMP) {
      return { timestamp: -1n, offset: this.end, leaderEpoch: this.epochs.latestEpoch() };
    }
    if (timestamp === EARLIEST_TIMESTAMP) {
      return { timestamp: -1n, offset: this.start, leaderEpoch: this.epochs.epochForOffset(this.start) };
    }
    if (timestamp === MAX_TIMESTAMP) {
      let best: TimestampOffset | null = null;
      for (const seg of this.segs) {
        if (seg.size === 0 || seg.nextOffset <= this.start) continue;
        const segMax = seg.maxTimestamp;
        if (best !== null && segMax <= Number(best.timestamp)) continue;
        const found = seg.findMaxTimestamp(this.start);
        this.noteUse(seg);
        if (found !== null && (best === null || found.timestamp > best.timestamp)) best = found;
      }
      return best;
    }
    const ts = Number(timestamp);
    for (const seg of this.segs) {
      if (seg.size === 0 || seg.nextOffset <= this.start || seg.maxTimestamp < ts) continue;
      const found = seg.findOffsetByTimestamp(timestamp, this.start);
      this.noteUse(seg);
      if (found !== null) return found;
    }
    return null;
  }

  /** The newest leader epoch of the log's epoch cache, -1 when it knows none. */
  get latestEpoch(): number {
    return this.epochs.latestEpoch();
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(epoch, this.end);
  }

  // ---- truncation and retention ----

  truncateTo(offset: bigint): void {
    this.checkWritable();
    if (offset >= this.end) return;
    let keep = this.segs.length;
    while (keep > 1 && this.segs[keep - 1]!.baseOffset > offset) keep--;
    if (keep < this.segs.length) this.deleteSegments(this.segs.splice(keep), `truncation to offset ${offset}`);
    const seg = this.active;
    this.loadedInactive = this.loadedInactive.filter((s) => s !== seg);
    const loc = seg.translate(offset);
    const cut = loc !== null ? loc.baseOffset : offset;
    const removed = seg.truncateTo(offset);
    this.dirty.add(seg);
    this.truncations++;
    this.end = cut > this.start ? cut : this.start;
    if (this.hw > this.end) this.hw = this.end;
    if (this.rp > this.end) this.rp = this.end;
    this.epochs.truncateFromEnd(this.end);
    this.epochs.flush();
    this.rebuildProducers(false);
    this.logger.info(
      { dir: this.partitionDir, offset: String(offset), logEndOffset: String(this.end), bytesRemoved: removed },
      'log truncated',
    );
  }

  truncateFullyAndStartAt(offset: bigint): void {
    this.checkWritable();
    const old = this.segs;
    this.segs = [];
    this.deleteSegments(old, `restarting the log at offset ${offset}`);
    try {
      this.segs.push(this.createSegment(offset, this.clock()));
    } catch (err) {
      this.fail(err);
      throw err;
    }
    this.truncations++;
    this.start = offset;
    this.end = offset;
    this.hw = offset;
    this.rp = offset;
    this.epochs.clear();
    this.epochs.flush();
    this.producers.clear(offset);
  }

  deleteRecordsBefore(offset: bigint): bigint {
    this.checkWritable();
    if (offset > this.hw) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `cannot delete records before ${offset}: above the high watermark ${this.hw}`,
      );
    }
    if (offset > this.start) {
      this.start = offset;
      let n = 0;
      while (n + 1 < this.segs.length && this.segs[n + 1]!.baseOffset <= this.start) n++;
      if (n > 0) {
        this.deleteSegments(this.segs.splice(0, n), `log start offset moved to ${offset}`);
        this.producers.removeSnapshotsBelow(this.segs[0]!.baseOffset);
      }
      this.epochs.truncateFromStart(this.start);
      this.epochs.flush();
    }
    return this.start;
  }

  applyRetention(now?: number): number {
    this.checkWritable();
    if (!this.config.cleanupPolicy.includes('delete')) return 0;
    const at = now ?? this.clock();
    let count = 0;
    const deleteWhile = (reason: string, pred: (s: LogSegment) => boolean): void => {
      let n = 0;
      // Like Kafka, only segments wholly below the high watermark: data not yet replicated everywhere stays.
      while (n + 1 < this.segs.length && this.segs[n + 1]!.baseOffset <= this.hw && pred(this.segs[n]!)) n++;
      if (n === 0) return;
      this.deleteSegments(this.segs.splice(0, n), reason);
      count += n;
    };
    if (this.config.retentionMs >= 0) {
      const limit = at - this.config.retentionMs;
      deleteWhile('retention.ms', (s) => {
        if (s.size === 0) return false;
        const largest = s.largestTimestamp;
        this.noteUse(s);
        return largest < limit;
      });
    }
    if (this.config.retentionBytes >= 0) {
      let excess = this.size - this.config.retentionBytes;
      deleteWhile('retention.bytes', (s) => {
        if (excess - s.size < 0) return false;
        excess -= s.size;
        return true;
      });
    }
    if (count > 0) {
      const base = this.segs[0]!.baseOffset;
      if (base > this.start) this.start = base;
      if (this.hw < this.start) this.hw = this.start;
      this.epochs.truncateFromStart(this.start);
      this.epochs.flush();
      this.producers.removeSnapshotsBelow(base);
    }
    return count;
  }

  /** Removes segments (already taken out of `segs`): renamed `.deleted` now, unlinked after file.delete.delay.ms. */
  private deleteSegments(segments: LogSegment[], reason: string): void {
    const paths: string[] = [];
    for (const seg of segments) {
      this.dirty.delete(seg);
      this.logger.info({ dir: this.partitionDir, segment: seg.name, bytes: seg.size, reason }, 'deleting segment');
      try {
        paths.push(...seg.markDeleted());
      } catch (err) {
        this.fail(err);
        throw err;
      }
    }
    this.loadedInactive = this.loadedInactive.filter((s) => !s.isDeleted);
    if (paths.length === 0) return;
    const delay = this.config.fileDeleteDelayMs;
    if (delay <= 0 || this.closing !== null) {
      this.unlinkAll(paths);
      return;
    }
    const timer = setTimeout(
      () => {
        this.pendingDeletes.delete(timer);
        this.unlinkAll(paths);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    timer.unref();
    this.pendingDeletes.set(timer, paths);
  }

  private unlinkAll(paths: string[]): void {
    for (const p of paths) {
      try {
        fs.rmSync(p, { force: true });
      } catch (err) {
        this.logger.warn({ file: p, err: (err as Error).message }, 'cannot remove deleted segment file');
      }
    }
  }

  // ---- log cleaner hooks (see src/storage/cleaner) ----

  /** Every segment but the active one, oldest first (the log cleaner reads these; never appended to). */
  inactiveSegments(): LogSegment[] {
    return this.segs.slice(0, -1);
  }

  /** A new empty segment at `baseOffset` whose files carry the `.cleaned` suffix (the cleaner's output). */
  createCleanedSegment(baseOffset: bigint): LogSegment {
    this.checkWritable();
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      removeFile(join(this.partitionDir, segmentFileName(baseOffset, suffix + CLEANED_SUFFIX)));
    }
    return LogSegment.create(this.partitionDir, baseOffset, this.segmentOptions(this.clock()), CLEANED_SUFFIX);
  }

  /**
   * Installs `cleaned` (a `.cleaned` segment whose data and indexes the caller made durable) in place of `old`, a
   * run of adjacent inactive segments starting at `cleaned.baseOffset`. Returns false, changing nothing, when `old`
   * is no longer such a run (retention, truncation or another swap got there first). The protocol, matching what
   * `open` repairs: rename the cleaned files to `.swap`; rename the old segments' files to `.deleted`; rename the
   * `.swap` files to live names. A crash before the .log is `.swap` leaves the old segments; after it, open
   * finishes the install (a `.swap` log replaces every live segment inside its offset range).
   */
  replaceSegments(old: readonly LogSegment[], cleaned: LogSegment): boolean {
    this.checkWritable();
    const at = old.length > 0 ? this.segs.indexOf(old[0]!) : -1;
    if (at < 0 || at + old.length >= this.segs.length || cleaned.baseOffset !== old[0]!.baseOffset) return false;
    for (let k = 0; k < old.length; k++) if (this.segs[at + k] !== old[k]) return false;
    try {
      cleaned.renameState(SWAP_SUFFIX);
      this.segs.splice(at, old.length, cleaned);
      this.deleteSegments([...old], 'replaced by its cleaned copy');
      cleaned.renameState('');
    } catch (err) {
      throw this.fail(err);
    }
    this.dirDirty = true;
    this.noteUse(cleaned);
    this.backgroundFlush();
    return true;
  }

  // ---- flushing and closing ----

  flush(): Promise<void> {
    if (this.closing !== null) return Promise.reject(this.closedError());
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.flushing !== null) {
      // Everything appended so far is in the running round unless something was written since it started.
      if (this.dirty.size === 0 && !this.dirDirty) return this.flushing;
      this.queued ??= this.flushing
        .then(
          () => {},
          () => {},
        )
        .then(() => {
          this.queued = null;
          if (this.failure !== null) throw this.failure;
          return this.runFlush(false);
        });
      return this.queued;
    }
    if (this.dirty.size === 0 && !this.dirDirty && this.rp >= this.end) return Promise.resolve();
    return this.runFlush(false);
  }

  /** One fsync round over what is dirty now; then the recovery point moves to the log end of this moment. */
  private runFlush(all: boolean): Promise<void> {
    const segs = [...this.dirty];
    this.dirty.clear();
    const dirDirty = this.dirDirty;
    this.dirDirty = false;
    const target = this.end;
    const generation = this.truncations;
    this.unflushedMessages = 0;
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const active = this.active;
    // Assigned after the async body starts; the body reads it only after its first await.
    let round: Promise<void> | null = null;
    round = (async () => {
      try {
        const syncs: Promise<void>[] = [];
        for (const s of segs) {
          if (s.isDeleted) continue;
          syncs.push(s.syncLog());
          // The active segment's indexes need no fsync: after a crash it is at or above the recovery point and
          // its indexes are rebuilt. A rolled segment falls below the recovery point: its indexes must be durable.
          if (all || s !== active) syncs.push(s.syncIndexes());
        }
        if (this.snapshots.hasUnsynced) syncs.push(this.snapshots.sync());
        if (dirDirty) syncs.push(fsyncDir(this.partitionDir));
        await Promise.all(syncs);
        if (generation === this.truncations && target > this.rp) this.rp = target < this.end ? target : this.end;
      } catch (err) {
        for (const s of segs) if (!s.isDeleted) this.dirty.add(s);
        if (dirDirty) this.dirDirty = true;
        throw this.fail(err);
      } finally {
        if (this.flushing === round) this.flushing = null;
      }
    })();
    this.flushing = round;
    return round;
  }

  private backgroundFlush(): void {
    if (this.closing !== null || this.failure !== null) return;
    this.flush().catch((err) => {
      this.logger.error({ dir: this.partitionDir, err: (err as Error).message }, 'background flush failed');
    });
  }

  /**
   * Clean shutdown: waits for running flushes, writes the final time-index entry of the active segment, fsyncs
   * every written segment and index, the directory and the epoch checkpoint, and releases the files. When it
   * resolves the caller may record a clean shutdown (and `recoveryPoint` equals the log end). It rejects (and the
   * caller must not record one) when the log failed.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    try {
      while (this.flushing !== null || this.queued !== null) {
        await (this.queued ?? this.flushing)!.catch(() => {});
      }
      if (this.failure !== null) throw this.failure;
      const active = this.active;
      active.onBecomeInactive();
      this.dirty.add(active);
      // So that the next open starts from this state instead of scanning; an empty log has nothing to scan.
      if (this.size > 0) {
        try {
          this.snapshotProducers(this.end);
        } catch (err) {
          throw this.fail(err);
        }
      }
      await this.runFlush(true);
      this.epochs.flush();
      this.rp = this.end;
    } finally {
      for (const [timer, paths] of this.pendingDeletes) {
        clearTimeout(timer);
        this.unlinkAll(paths);
      }
      this.pendingDeletes.clear();
      for (const s of this.segs) s.closeFiles();
      this.loadedInactive = [];
    }
  }

  // ---- loading ----

  private load(options: SegmentLogOptions): void {
    const dir = this.partitionDir;
    const now = this.clock();
    this.removeStrayFiles();
    const bases: bigint[] = [];
    for (const name of readDir(dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed === null || parsed.state !== '') continue;
      if (parsed.kind === LOG_SUFFIX) bases.push(parsed.baseOffset);
    }
    bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // Index files without a log belong to nothing.
    const live = new Set(bases.map((b) => segmentFileName(b, '')));
    for (const name of readDir(dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed !== null && parsed.state === '' && parsed.kind !== LOG_SUFFIX) {
        if (!live.has(segmentFileName(parsed.baseOffset, ''))) removeFile(join(dir, name));
      }
    }
    for (const base of bases) {
      const path = join(dir, segmentFileName(base, LOG_SUFFIX));
      let size: number;
      try {
        size = fs.statSync(path).size;
      } catch (err) {
        throw storageError(`cannot stat ${path}`, err);
      }
      this.segs.push(LogSegment.open(dir, base, this.segmentOptions(now), size));
    }
    if (this.segs.length === 0) {
      this.segs.push(this.createSegment(options.logStartOffset ?? 0n, now));
    }

    // Recovery cannot change the first segment's base offset, so the log start is known before it runs.
    const firstBase = this.segs[0]!.baseOffset;
    const checkpointStart = options.logStartOffset ?? firstBase;
    this.start = checkpointStart > firstBase ? checkpointStart : firstBase;
    if (options.cleanShutdown) {
      this.active.ensureLoaded();
    } else {
      this.recoverFrom(options.recoveryPoint ?? 0n);
    }
    const lastNext = this.active.nextOffset;
    this.end = lastNext > this.start ? lastNext : this.start;
    this.hw = this.start;
    if (options.cleanShutdown) {
      this.rp = this.end;
    } else {
      const rp = options.recoveryPoint ?? 0n;
      this.rp = rp < this.end ? rp : this.end;
    }
    // Epochs starting beyond the recovered end lost their batches; one starting exactly at the end is legitimate
    // (the log start moved up to the end, or the leader has not written yet) and stays.
    this.epochs.truncateFromEnd(this.end + 1n);
    this.epochs.truncateFromStart(this.start);
    this.epochs.flush();
    this.producers.removeSnapshotsBelow(this.segs[0]!.baseOffset);
    // A clean shutdown always leaves a snapshot at the log end; none at all means the log predates them.
    this.rebuildProducers(options.cleanShutdown === true && this.producers.snapshotOffsets().length === 0);
    this.loaded = true;
  }

  /**
   * Rebuilds the producer state for the current log end: the newest usable snapshot at or below it, then the batch
   * headers from there on. Without a usable snapshot the whole log is read, except for a log that predates
   * producer snapshots (`upgrade`: shut down cleanly without leaving any), of which, as Kafka does, only the last
   * two segments are read.
   */
  private rebuildProducers(upgrade: boolean): void {
    const producers = this.producers;
    const from = producers.reload(this.end);
    const segs = this.segs;
    let start: bigint;
    if (from !== null) start = from;
    else if (upgrade && segs.length > 2) start = segs[segs.length - 2]!.baseOffset;
    else start = segs[0]!.baseOffset;
    if (start < this.end) {
      const apply = (h: Buffer, at: number) => producers.applyStored(h, at);
      for (let i = this.floorSegment(start); i < segs.length; i++) {
        segs[i]!.visitBatches(start, apply);
        this.noteUse(segs[i]!);
      }
    }
    producers.advanceTo(this.end);
    producers.removeExpired(this.clock());
  }

  /** Stores the producer state as of `offset` and drops older snapshots that no rebuild would start from. */
  private snapshotProducers(offset: bigint): void {
    if (this.producers.takeSnapshot(offset)) this.dirDirty = true;
    this.producers.pruneSnapshots((o) => this.segs[this.floorSegment(o)]!.baseOffset === o);
  }

  /** Idempotent producers with state in this log, by producer id. */
  producerEntries(): ProducerEntry[] {
    return [...this.producers.entries()].sort((a, b) =>
      a.producerId < b.producerId ? -1 : a.producerId > b.producerId ? 1 : 0,
    );
  }

  /** Drops producers whose last batch is producer.id.expiration.ms or more before `now`; returns how many. */
  removeExpiredProducers(now?: number): number {
    return this.producers.removeExpired(now ?? this.clock());
  }

  /** Snapshot offsets on disk (tests). */
  producerSnapshotOffsets(): bigint[] {
    return this.producers.snapshotOffsets();
  }

  /** Recovers every segment from the one holding `recoveryPoint`; damage cuts the log there. */
  private recoverFrom(recoveryPoint: bigint): void {
    const from = this.floorSegment(recoveryPoint);
    for (let i = from; i < this.segs.length; i++) {
      const seg = this.segs[i]!;
      // Epochs come back from the headers of batches the log still shows (not those wholly below its start).
      const result = seg.recover((epoch, base, last) => {
        if (last >= this.start) this.epochs.assign(epoch, base);
      });
      this.dirty.add(seg);
      if (result.reason === null) continue;
      this.logger.warn(
        {
          dir: this.partitionDir,
          segment: seg.name,
          bytesRemoved: result.truncatedBytes,
          validBytes: result.validBytes,
          reason: result.reason,
        },
        'recovery cut a torn or corrupt tail from the log',
      );
      const later = this.segs.splice(i + 1);
      for (const s of later) {
        this.logger.warn(
          { dir: this.partitionDir, segment: s.name, bytesRemoved: s.size, reason: `follows damage in ${seg.name}` },
          'recovery removed a segment after the damaged one',
        );
      }
      if (later.length > 0) this.deleteSegments(later, 'recovery');
      break;
    }
  }

  /**
   * Deletes `.deleted` and `.cleaned` leftovers and the index files of `.swap` segments, and installs `.swap` logs
   * (a compaction that finished writing but was not yet swapped in): the live segments it covers are removed and it
   * is renamed to a live segment whose indexes are then rebuilt.
   */
  private removeStrayFiles(): void {
    const dir = this.partitionDir;
    const swaps: bigint[] = [];
    for (const name of readDir(dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed === null || parsed.state === '') continue;
      if (parsed.state === DELETED_SUFFIX || parsed.state === CLEANED_SUFFIX) {
        removeFile(join(dir, name));
      } else if (parsed.state === SWAP_SUFFIX) {
        if (parsed.kind === LOG_SUFFIX) swaps.push(parsed.baseOffset);
        else removeFile(join(dir, name));
      }
    }
    swaps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const base of swaps) {
      const swapPath = join(dir, segmentFileName(base, LOG_SUFFIX + SWAP_SUFFIX));
      const next = nextOffsetOfFile(swapPath, base);
      for (const name of readDir(dir)) {
        const parsed = parseSegmentFileName(name);
        if (parsed === null || parsed.state !== '') continue;
        if (parsed.baseOffset === base || (parsed.baseOffset > base && parsed.baseOffset < next)) {
          removeFile(join(dir, name));
        }
      }
      const livePath = join(dir, segmentFileName(base, LOG_SUFFIX));
      try {
        fs.renameSync(swapPath, livePath);
      } catch (err) {
        throw storageError(`cannot install ${swapPath}`, err);
      }
      this.logger.warn(
        { dir, segment: segmentFileName(base, LOG_SUFFIX), replacedUpTo: String(next) },
        'completed an interrupted segment swap',
      );
    }
  }

  // ---- helpers ----

  /** Index of the segment holding `offset`: the last one whose base offset is <= it (0 when none is). */
  private floorSegment(offset: bigint): number {
    const segs = this.segs;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.baseOffset <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : lo - 1;
  }

  /** Keeps at most LOADED_INACTIVE_SEGMENTS inactive segments' indexes in memory. */
  private noteUse(seg: LogSegment): void {
    if (seg === this.active || !seg.indexesLoaded || seg.isDeleted) return;
    const list = this.loadedInactive;
    const at = list.indexOf(seg);
    if (at === list.length - 1 && at >= 0) return;
    if (at >= 0) list.splice(at, 1);
    list.push(seg);
    while (list.length > LOADED_INACTIVE_SEGMENTS) list.shift()!.unloadIndexes();
  }

  /** A segment repaired itself on use: keep the log's view consistent with what it cut. */
  private onRepair(seg: LogSegment, result: RecoveryResult): void {
    if (result.truncatedBytes === 0 || !this.loaded) return;
    this.logger.warn(
      { dir: this.partitionDir, segment: seg.name, bytesRemoved: result.truncatedBytes, reason: result.reason },
      'damaged data removed from the log',
    );
    this.dirty.add(seg);
    this.truncations++;
    if (seg === this.active) {
      const next = seg.nextOffset;
      this.end = next > this.start ? next : this.start;
      if (this.hw > this.end) this.hw = this.end;
      if (this.rp > this.end) this.rp = this.end;
      this.epochs.truncateFromEnd(this.end);
      this.rebuildProducers(false);
    }
  }

  private checkOpen(): void {
    if (this.closing !== null) throw this.closedError();
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failure !== null) throw this.failure;
  }

  private closedError(): KafkaError {
    return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.partitionDir} is closed`);
  }

  /** Marks the log failed (appends and flushes refuse from now on); returns the storage error. */
  private fail(err: unknown): KafkaError {
    const e = storageError(`log ${this.partitionDir}`, err);
    if (this.failure === null) {
      this.failure = e;
      this.logger.error({ dir: this.partitionDir, err: e.message }, 'log failed; it refuses appends and flushes');
    }
    return e;
  }
}

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    throw storageError(`cannot list ${dir}`, err);
  }
}

function removeFile(path: string): void {
  try {
    fs.rmSync(path, { force: true });
  } catch (err) {
    throw storageError(`cannot remove ${path}`, err);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | null = null;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    throw storageError(`cannot fsync directory ${dir}`, err);
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * The offset after the last whole batch of a segment file (walking batch headers only), `base` for an empty one.
 * Used to see which segments a `.swap` file replaces.
 */
function nextOffsetOfFile(path: string, base: bigint): bigint {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw storageError(`cannot open ${path}`, err);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const h = Buffer.allocUnsafe(HEADER_SIZE);
    let next = base;
    let pos = 0;
    while (size - pos >= HEADER_SIZE) {
      if (fs.readSync(fd, h, 0, HEADER_SIZE, pos) < HEADER_SIZE) break;
      const len = LOG_OVERHEAD + h.readInt32BE(8);
      if (len < HEADER_SIZE || len > size - pos) break;
      next = h.readBigInt64BE(0) + BigInt(h.readInt32BE(LAST_DELTA_AT)) + 1n;
      pos += len;
    }
    return next;
  } catch (err) {
    throw storageError(`cannot read ${path}`, err);
  } finally {
    fs.closeSync(fd);
  }
}
