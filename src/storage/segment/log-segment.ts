/**
 * LogSegment: one segment of a partition log, in Kafka's layout:
 *
 *     <20-digit base offset>.log        record batches v2, back to back, exactly as stored (offsets assigned)
 *     <20-digit base offset>.index      sparse offset index (OffsetIndex: relative offset -> byte position)
 *     <20-digit base offset>.timeindex  sparse time index (TimeIndex: max timestamp -> relative offset)
 *
 * Every batch's offsets lie in [base, base + 2^31 - 1] (the indexes store int32 relative offsets) and strictly
 * increase through the file. The segment tracks its size, next offset, largest batch timestamp (and the last offset
 * of the batch that first reached it) and the first batch's timestamp (for segment.ms).
 *
 * After a crash: the .log may end in a torn or corrupt batch, and the index files may be short (they are written
 * behind, see IndexBase) or damaged. `recover()` scans the whole .log validating every batch (length, magic,
 * CRC-32C, increasing offsets inside the segment), cuts the file at the first invalid batch and rebuilds both
 * indexes. A segment opened without recovery (clean shutdown, or below the recovery point) loads its indexes on
 * first use, checks them (shape, ordering, the last entries against the batches they name, every batch after the
 * last offset-index entry validated) and falls back to `recover()` when anything is off: an index is never trusted
 * blindly. A read that still meets a damaged batch header repairs the segment the same way and retries once.
 *
 * Memory: the indexes of an inactive segment can be dropped (`unloadIndexes`) and are reloaded on demand; the
 * small summary (size, next offset, max timestamp) stays.
 *
 * Concurrency: owned by one SegmentLog and called from the event loop only. Everything is synchronous except the
 * fsyncs (`syncLog`, `syncIndexes`), which may run while the loop appends to and reads from the same segment.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../../log/logger.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { decodeRecordBatches, validateBatch } from '../../protocol/records/index.js';
import type { KafkaRecord } from '../../protocol/records/types.js';
import { CorruptIndexError, PartialWriteError, storageError } from '../errors.js';
import type { CachedFile, FileCache } from '../file-cache.js';
import type { TimestampOffset } from '../types.js';
import { readInt64AsNumber } from './index-base.js';
import {
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  segmentFileName,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
} from './names.js';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from './offset-index.js';
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from './time-index.js';

/** Batch header layout (record batch v2). */
const LOG_OVERHEAD = 12;
const HEADER_SIZE = 61;
const MIN_BATCH_LENGTH = HEADER_SIZE - LOG_OVERHEAD;
const LENGTH_AT = 8;
const EPOCH_AT = 12;
const MAGIC_AT = 16;
const LAST_DELTA_AT = 23;
const MAX_TS_AT = 35;
const INT32_MAX = 0x7fffffff;

/** Recovery reads the log in chunks of this size (a larger batch gets a buffer of its own). */
const SCAN_CHUNK = 1 << 20;
/** Header walks (offset translation, timestamp search) read this much at a time. */
const HEADER_CHUNK = 16 * 1024;
let scanScratch: Buffer | null = null;
const headerScratch = Buffer.allocUnsafe(HEADER_CHUNK);

export interface SegmentOptions {
  files: FileCache;
  /** `index.interval.bytes` */
  indexIntervalBytes: number;
  /** `segment.index.bytes` */
  segmentIndexBytes: number;
  logger?: Logger;
  /** Wall clock at creation/load (fallback for segment.ms when batches carry no timestamps). */
  now?: number;
  /** This segment's random reduction of segment.ms (`segment.jitter.ms`). */
  rollJitterMs?: number;
  /** Called after the segment repaired itself outside an explicit `recover()` (damage found on use). */
  onRepair?: (segment: LogSegment, result: RecoveryResult) => void;
}

export interface RecoveryResult {
  /** Bytes of valid batches kept. */
  validBytes: number;
  /** Bytes cut from the end of the .log (a torn or corrupt tail). */
  truncatedBytes: number;
  /** Why the tail was cut, or null when the whole file was valid. */
  reason: string | null;
}

/** A batch found by offset: where it is and what its header says. */
export interface BatchLocation {
  position: number;
  size: number;
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: number;
  leaderEpoch: number;
}

interface ScanResult {
  end: number;
  error: string | null;
}

export class LogSegment {
  readonly dir: string;
  readonly baseOffset: bigint;
  /** Wall-clock ms when this segment object was created or loaded. */
  readonly created: number;
  readonly rollJitterMs: number;
  private readonly logger: Logger;
  private readonly indexInterval: number;
  private readonly maxOffsetEntries: number;
  private readonly maxTimeEntries: number;
  private readonly onRepair: ((segment: LogSegment, result: RecoveryResult) => void) | undefined;
  private readonly logFile: CachedFile;
  private readonly offsetIndexFile: CachedFile;
  private readonly timeIndexFile: CachedFile;
  private offsetIndex: OffsetIndex | null = null;
  private timeIndex: TimeIndex | null = null;
  private bytes: number;
  /** True once next offset / max timestamp are known (they stay known when the indexes are unloaded). */
  private summaryKnown = false;
  /** Relative offset after the last batch (0 when empty). */
  private nextRel = 0;
  private maxTs = -1;
  /** Relative last offset of the first batch that reached maxTs, or -1. */
  private maxTsRel = -1;
  /** Max timestamp of the first batch; null until read. */
  private firstBatchTs: number | null = null;
  private bytesSinceIndexEntry = 0;
  private deleted = false;

  private constructor(
    dir: string,
    baseOffset: bigint,
    options: SegmentOptions,
    size: number,
    files: { log: CachedFile; index: CachedFile; timeIndex: CachedFile },
  ) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.created = options.now ?? Date.now();
    this.rollJitterMs = options.rollJitterMs ?? 0;
    this.logger = options.logger ?? silentLogger;
    this.indexInterval = options.indexIntervalBytes;
    this.maxOffsetEntries = Math.max(1, Math.floor(options.segmentIndexBytes / OFFSET_INDEX_ENTRY_SIZE));
    this.maxTimeEntries = Math.max(1, Math.floor(options.segmentIndexBytes / TIME_INDEX_ENTRY_SIZE));
    this.onRepair = options.onRepair;
    this.logFile = files.log;
    this.offsetIndexFile = files.index;
    this.timeIndexFile = files.timeIndex;
    this.bytes = size;
  }

  /**
   * Creates the three files of a new, empty segment (the .log must not exist yet). `state` ('' or `.cleaned`, for
   * the log cleaner's output) is appended to every file name; see `renameState`.
   */
  static create(dir: string, baseOffset: bigint, options: SegmentOptions, state = ''): LogSegment {
    const log = options.files.file(join(dir, segmentFileName(baseOffset, LOG_SUFFIX) + state), 'new');
    let index: CachedFile | null = null;
    try {
      index = options.files.file(join(dir, segmentFileName(baseOffset, INDEX_SUFFIX) + state), 'create');
      index.truncate(0);
      const timeIndex = options.files.file(join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX) + state), 'create');
      timeIndex.truncate(0);
      const segment = new LogSegment(dir, baseOffset, options, 0, { log, index, timeIndex });
      segment.offsetIndex = OffsetIndex.empty(index, segment.maxOffsetEntries);
      segment.timeIndex = TimeIndex.empty(timeIndex, segment.maxTimeEntries);
      segment.summaryKnown = true;
      segment.firstBatchTs = -1;
      return segment;
    } catch (err) {
      // Leave no half-made segment behind.
      log.release();
      index?.release();
      for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
        fs.rmSync(join(dir, segmentFileName(baseOffset, suffix) + state), { force: true });
      }
      throw err;
    }
  }

  /**
   * An existing segment whose .log has `logSize` bytes. Nothing is read yet: the indexes load (and are checked)
   * on first use, or `recover()` rebuilds them. Missing index files are created empty (and then rebuilt).
   */
  static open(dir: string, baseOffset: bigint, options: SegmentOptions, logSize: number): LogSegment {
    const log = options.files.file(join(dir, segmentFileName(baseOffset, LOG_SUFFIX)), 'existing');
    const indexPath = join(dir, segmentFileName(baseOffset, INDEX_SUFFIX));
    const timeIndexPath = join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX));
    const index = options.files.file(indexPath, fs.existsSync(indexPath) ? 'existing' : 'create');
    const timeIndex = options.files.file(timeIndexPath, fs.existsSync(timeIndexPath) ? 'existing' : 'create');
    return new LogSegment(dir, baseOffset, options, logSize, { log, index, timeIndex });
  }

  get name(): string {
    return segmentFileName(this.baseOffset, LOG_SUFFIX);
  }

  /** Path of the .log file. */
  get path(): string {
    return this.logFile.path;
  }

  /** Bytes in the .log. */
  get size(): number {
    return this.bytes;
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /** Whether the indexes are in memory. */
  get indexesLoaded(): boolean {
    return this.offsetIndex !== null;
  }

  /** The offset after the last batch (the base offset when empty). */
  get nextOffset(): bigint {
    this.ensureSummary();
    return this.baseOffset + BigInt(this.nextRel);
  }

  /** Largest batch max-timestamp in the segment, -1 if none. */
  get maxTimestamp(): number {
    this.ensureSummary();
    return this.maxTs;
  }

  /** Last offset of the first batch that reached maxTimestamp, or -1n. */
  get offsetOfMaxTimestamp(): bigint {
    this.ensureSummary();
    return this.maxTsRel < 0 ? -1n : this.baseOffset + BigInt(this.maxTsRel);
  }

  /**
   * What retention.ms compares with: the largest timestamp, or the .log's modification time when no batch has a
   * timestamp (Kafka's rule).
   */
  get largestTimestamp(): number {
    const ts = this.maxTimestamp;
    if (ts >= 0) return ts;
    try {
      return Math.floor(fs.fstatSync(this.logFile.fd()).mtimeMs);
    } catch (err) {
      throw storageError(`cannot stat ${this.logFile.path}`, err);
    }
  }

  /** Max timestamp of the first batch (what segment.ms measures from), -1 if empty or none. */
  get firstBatchTimestamp(): number {
    if (this.firstBatchTs === null) {
      if (this.bytes < HEADER_SIZE) {
        this.firstBatchTs = -1;
      } else {
        const n = this.logFile.read(headerScratch, 0, HEADER_SIZE, 0);
        this.firstBatchTs = n === HEADER_SIZE ? readInt64AsNumber(headerScratch, MAX_TS_AT) : -1;
      }
    }
    return this.firstBatchTs;
  }

  /** True when the next append must go to a new segment because an index is full. */
  get indexFull(): boolean {
    this.ensureLoaded();
    return this.offsetIndex!.isFull || this.timeIndex!.isFull;
  }

  /** Entries in memory (for tests and metrics): [offset index, time index]. */
  get indexEntries(): [number, number] {
    this.ensureLoaded();
    return [this.offsetIndex!.entries, this.timeIndex!.entries];
  }

  /** Whether `offset` can be stored here as a relative offset. */
  canHold(offset: bigint): boolean {
    const rel = offset - this.baseOffset;
    return rel >= 0n && rel <= BigInt(INT32_MAX);
  }

  /**
   * Appends whole batches whose offsets are assigned, start at or after `nextOffset` and fit `canHold` (the log
   * checked). One write; then the indexes are updated from the batch headers. A failed write is cut back so the
   * file holds exactly what it held before.
   */
  append(records: Buffer): void {
    this.ensureLoaded();
    this.checkLive();
    const start = this.bytes;
    try {
      this.logFile.write(records, 0, records.length, start);
    } catch (err) {
      try {
        this.logFile.truncate(start);
      } catch (err2) {
        throw new PartialWriteError(this.logFile.path, new AggregateError([err, err2], (err as Error).message));
      }
      throw err;
    }
    const base = this.baseOffset;
    let at = 0;
    let lastRel = this.nextRel - 1;
    while (at < records.length) {
      const size = LOG_OVERHEAD + records.readInt32BE(at + LENGTH_AT);
      lastRel = Number(records.readBigInt64BE(at) - base) + records.readInt32BE(at + LAST_DELTA_AT);
      const maxTs = readInt64AsNumber(records, at + MAX_TS_AT);
      if (start + at === 0) this.firstBatchTs = maxTs;
      this.indexBatch(start + at, lastRel, maxTs, size);
      at += size;
    }
    this.nextRel = lastRel + 1;
    this.bytes = start + records.length;
  }

  /**
   * The first batch whose last offset is >= `offset` (so the batch holding it, or the next one after a gap), or
   * null when the segment has none.
   */
  translate(offset: bigint): BatchLocation | null {
    this.ensureLoaded();
    return this.withRepair(
      () => `translating offset ${offset}`,
      () => this.translateRaw(offset),
    );
  }

  /**
   * Shows `visit` the header (`h[at..at+61)`, valid only during the call) of every batch whose last offset is >=
   * `from`, in order, reading headers only. Damage found on the way repairs the segment and the walk starts over,
   * so `visit` may see a batch twice.
   */
  visitBatches(from: bigint, visit: (h: Buffer, at: number) => void): void {
    this.ensureLoaded();
    if (this.bytes === 0) return;
    this.withRepair(
      () => `reading batch headers from offset ${from}`,
      () => {
        const loc = this.translateRaw(from);
        if (loc === null) return;
        this.walkHeadersFrom(loc.position, -1, (h, at) => {
          visit(h, at);
          return false;
        });
      },
    );
  }

  /** Reads `length` bytes at `position` into `buf` at `offset`; returns the bytes read. */
  readInto(buf: Buffer, offset: number, position: number, length: number): number {
    this.checkLive();
    return this.logFile.read(buf, offset, length, position);
  }

  /** The whole batch at a location. */
  readBatch(loc: BatchLocation): Buffer {
    const buf = Buffer.allocUnsafe(loc.size);
    const n = this.readInto(buf, 0, loc.position, loc.size);
    if (n !== loc.size) throw this.damaged(loc.position, `batch cut short: ${n} of ${loc.size} bytes`);
    return buf;
  }

  /**
   * ListOffsets by timestamp within this segment: the first record with timestamp >= `timestamp` and offset >=
   * `startOffset`, found through the time index, a scan of batch headers, and the decoding of the one batch that
   * holds it. Null when the segment has none.
   */
  findOffsetByTimestamp(timestamp: bigint, startOffset: bigint): TimestampOffset | null {
    this.ensureLoaded();
    const ts = Number(timestamp);
    if (this.bytes === 0 || this.maxTs < ts) return null;
    return this.withRepair(
      () => `searching timestamp ${timestamp}`,
      () => {
        const ti = this.timeIndex!;
        const oi = this.offsetIndex!;
        const entry = ti.floor(ts);
        let from = entry < 0 ? -1 : oi.floor(ti.offsetAt(entry));
        if (startOffset > this.baseOffset) {
          const startRel = startOffset - this.baseOffset;
          if (startRel >= BigInt(this.nextRel)) return null;
          from = Math.max(from, oi.floor(Number(startRel)));
        }
        let found: TimestampOffset | null = null;
        this.walkHeaders(from, (h, at, position, size) => {
          const baseOffset = h.readBigInt64BE(at);
          const lastOffset = baseOffset + BigInt(h.readInt32BE(at + LAST_DELTA_AT));
          if (lastOffset < startOffset || readInt64AsNumber(h, at + MAX_TS_AT) < ts) return false;
          const leaderEpoch = h.readInt32BE(at + EPOCH_AT);
          for (const r of this.decodeAt(position, size)) {
            if (r.offset >= startOffset && r.timestamp >= timestamp) {
              found = { timestamp: r.timestamp, offset: r.offset, leaderEpoch };
              return true;
            }
          }
          return false;
        });
        return found;
      },
    );
  }

  /**
   * The record with the largest timestamp among offsets >= `startOffset` (the first such record when several
   * share it), or null when there is none.
   */
  findMaxTimestamp(startOffset: bigint): TimestampOffset | null {
    this.ensureLoaded();
    if (this.bytes === 0) return null;
    return this.withRepair(
      () => 'searching the max timestamp',
      () => {
        let best: BatchLocation | null = null;
        let bestTs = -1;
        if (startOffset <= this.baseOffset && this.maxTsRel >= 0) {
          best = this.translateRaw(this.baseOffset + BigInt(this.maxTsRel));
          bestTs = this.maxTs;
        } else {
          // The log start is inside this segment: only batches (and records) at or above it count.
          const from = this.translateRaw(startOffset);
          if (from === null) return null;
          this.walkHeadersFrom(from.position, -1, (h, at, position, size) => {
            const baseOffset = h.readBigInt64BE(at);
            const lastRel = Number(baseOffset - this.baseOffset) + h.readInt32BE(at + LAST_DELTA_AT);
            let ts = readInt64AsNumber(h, at + MAX_TS_AT);
            if (ts <= bestTs) return false;
            if (baseOffset < startOffset) {
              ts = -1;
              for (const r of this.decodeAt(position, size)) {
                if (r.offset >= startOffset && Number(r.timestamp) > ts) ts = Number(r.timestamp);
              }
              if (ts <= bestTs) return false;
            }
            best = this.location(h, at, position, size, baseOffset, lastRel);
            bestTs = ts;
            return false;
          });
        }
        const loc = best as BatchLocation | null;
        if (loc === null || bestTs < 0) return null;
        let pick: KafkaRecord | null = null;
        for (const r of this.decodeAt(loc.position, loc.size)) {
          if (r.offset < startOffset) continue;
          if (pick === null || r.timestamp > pick.timestamp) pick = r;
        }
        if (pick === null) return null;
        return { timestamp: pick.timestamp, offset: pick.offset, leaderEpoch: loc.leaderEpoch };
      },
    );
  }

  /**
   * Cuts the segment before the batch holding `offset` (that batch and everything after go). Returns the bytes
   * removed.
   */
  truncateTo(offset: bigint): number {
    this.ensureLoaded();
    this.checkLive();
    const loc = this.translate(offset);
    if (loc === null) return 0;
    const removed = this.bytes - loc.position;
    this.cutAt(loc.position, Number(loc.baseOffset - this.baseOffset));
    return removed;
  }

  /** Rebuilds the segment after damage was found, logs what was removed and tells the owner. */
  private recoverAfterDamage(reason: string, message: string): void {
    const result = this.recover();
    this.logger.warn(
      {
        dir: this.dir,
        segment: this.name,
        reason,
        bytesRemoved: result.truncatedBytes,
        ...(result.reason ? { logDamage: result.reason } : {}),
      },
      message,
    );
    this.onRepair?.(this, result);
  }
  /**
   * Validates every batch from the start, cuts the .log at the first invalid one, and rebuilds both indexes.
   * `onBatch` sees each valid batch's partition leader epoch and offsets (to rebuild the epoch cache).
   */
  recover(onBatch?: (leaderEpoch: number, baseOffset: bigint, lastOffset: bigint) => void): RecoveryResult {
    this.checkLive();
    const fileSize = this.logFile.size();
    this.offsetIndex = OffsetIndex.empty(this.offsetIndexFile, this.maxOffsetEntries);
    this.timeIndex = TimeIndex.empty(this.timeIndexFile, this.maxTimeEntries);
    this.resetSummary();
    this.firstBatchTs = -1;
    const result = this.scan(0, fileSize, -1, onBatch);
    if (result.end < fileSize) this.logFile.truncate(result.end);
    this.bytes = result.end;
    this.offsetIndex.rewrite();
    this.timeIndex.rewrite();
    this.summaryKnown = true;
    return { validBytes: result.end, truncatedBytes: fileSize - result.end, reason: result.error };
  }

  /**
   * Loads and checks the indexes (a no-op when loaded). Anything suspicious makes the segment recover instead.
   * Also validates the batches after the last offset-index entry, which is how a cleanly shut-down active segment
   * has its last batch checked.
   */
  ensureLoaded(): void {
    if (this.offsetIndex !== null) return;
    this.checkLive();
    try {
      this.loadIndexes();
    } catch (err) {
      if (!(err instanceof CorruptIndexError)) throw err;
      this.recoverAfterDamage(err.message, 'index could not be trusted; rebuilt it from the log');
    }
  }

  /** Makes next offset and max timestamp known (loads the indexes once if needed). */
  ensureSummary(): void {
    if (!this.summaryKnown) this.ensureLoaded();
  }

  /** Writes the final time-index entry (the segment's max timestamp) and the index tails: the segment is rolled. */
  onBecomeInactive(): void {
    this.ensureLoaded();
    this.timeIndex!.maybeAppend(this.maxTs, this.maxTsRel, true);
    this.writeIndexTails();
  }

  /** Writes the index entries that are only in memory. */
  writeIndexTails(): void {
    if (this.offsetIndex === null || this.deleted) return;
    this.offsetIndex.writeTail();
    this.timeIndex!.writeTail();
  }

  /** fdatasync of the .log. */
  syncLog(): Promise<void> {
    if (this.deleted) return Promise.resolve();
    return this.logFile.sync(true);
  }

  /** Writes what is pending and fsyncs both index files (loaded or not). */
  async syncIndexes(): Promise<void> {
    if (this.deleted) return;
    this.writeIndexTails();
    await Promise.all([this.offsetIndexFile.sync(true), this.timeIndexFile.sync(true)]);
  }

  /** Drops the in-memory indexes (written out first); they reload on next use. The summary stays. */
  unloadIndexes(): void {
    if (this.offsetIndex === null) return;
    this.writeIndexTails();
    this.offsetIndex = null;
    this.timeIndex = null;
  }

  /** Releases the fds (the segment can still be used: they reopen on demand). */
  closeFiles(): void {
    this.logFile.release();
    this.offsetIndexFile.release();
    this.timeIndexFile.release();
  }

  /**
   * Renames the segment's files to `<name>.deleted` (so a crash leaves nothing that looks live) and releases them.
   * Returns the renamed paths for the caller to unlink (now or after file.delete.delay.ms).
   */
  markDeleted(): string[] {
    if (this.deleted) return [];
    const renamed: string[] = [];
    for (const file of [this.logFile, this.offsetIndexFile, this.timeIndexFile]) {
      const to = file.path + DELETED_SUFFIX;
      if (fs.existsSync(file.path)) {
        file.rename(to);
        renamed.push(to);
      }
      file.release();
    }
    const txn = join(this.dir, segmentFileName(this.baseOffset, TXN_INDEX_SUFFIX));
    if (fs.existsSync(txn)) {
      try {
        fs.renameSync(txn, txn + DELETED_SUFFIX);
        renamed.push(txn + DELETED_SUFFIX);
      } catch (err) {
        throw storageError(`cannot rename ${txn}`, err);
      }
    }
    this.deleted = true;
    this.offsetIndex = null;
    this.timeIndex = null;
    return renamed;
  }

  /**
   * Renames the segment's three files to `<base><kind><state>` (state '', `.cleaned` or `.swap`): the log cleaner's
   * install protocol. The index files go first and the .log last, so that the .log's name always tells what the
   * segment is (SegmentLog's open rebuilds indexes that do not match).
   */
  renameState(state: string): void {
    this.checkLive();
    const kinds: [CachedFile, string][] = [
      [this.offsetIndexFile, INDEX_SUFFIX],
      [this.timeIndexFile, TIME_INDEX_SUFFIX],
      [this.logFile, LOG_SUFFIX],
    ];
    for (const [file, kind] of kinds) {
      const to = join(this.dir, segmentFileName(this.baseOffset, kind) + state);
      if (file.path !== to) file.rename(to);
    }
  }

  /** Releases and unlinks the segment's files at once (an abandoned cleaner output); the segment is dead after. */
  discard(): void {
    for (const file of [this.logFile, this.offsetIndexFile, this.timeIndexFile]) {
      file.release();
      try {
        fs.rmSync(file.path, { force: true });
      } catch (err) {
        throw storageError(`cannot remove ${file.path}`, err);
      }
    }
    this.deleted = true;
    this.offsetIndex = null;
    this.timeIndex = null;
  }

  // ---- internals ----

  private checkLive(): void {
    if (this.deleted) throw storageError(`segment ${this.path}`, new Error('used after it was deleted'));
  }

  private resetSummary(): void {
    this.nextRel = 0;
    this.maxTs = -1;
    this.maxTsRel = -1;
    this.bytesSinceIndexEntry = 0;
  }

  /** The per-batch index rule (Kafka's): an entry once more than index.interval.bytes were added since the last. */
  private indexBatch(position: number, lastRel: number, maxTs: number, size: number): void {
    if (maxTs > this.maxTs) {
      this.maxTs = maxTs;
      this.maxTsRel = lastRel;
    }
    if (this.bytesSinceIndexEntry > this.indexInterval) {
      const oi = this.offsetIndex!;
      if (!oi.isFull) oi.append(lastRel, position);
      this.timeIndex!.maybeAppend(this.maxTs, this.maxTsRel);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
  }

  private loadIndexes(): void {
    const oi = OffsetIndex.load(this.offsetIndexFile, this.maxOffsetEntries, this.bytes);
    const ti = TimeIndex.load(this.timeIndexFile, this.maxTimeEntries);
    this.offsetIndex = oi;
    this.timeIndex = ti;
    try {
      this.resetSummary();
      this.maxTs = ti.lastTimestamp;
      this.maxTsRel = ti.lastOffset;
      // Re-walk (validating) from the last indexed batch: restores next offset, max timestamp and the
      // bytes-since-last-entry counter exactly as appending them did, and checks the tail of the log.
      const from = oi.lastPosition;
      const result = this.scan(from, this.bytes, oi.entries > 0 ? oi.lastOffset : -1);
      if (result.error !== null) {
        throw new CorruptIndexError(this.offsetIndexFile.path, `log after the last index entry: ${result.error}`);
      }
      if (ti.entries > 0) {
        if (ti.lastOffset >= this.nextRel) {
          throw new CorruptIndexError(
            this.timeIndexFile.path,
            `last entry names offset ${ti.lastOffset} beyond the segment`,
          );
        }
        const loc = this.translateRaw(this.baseOffset + BigInt(ti.lastOffset));
        if (
          loc === null ||
          loc.lastOffset !== this.baseOffset + BigInt(ti.lastOffset) ||
          loc.maxTimestamp !== ti.lastTimestamp
        ) {
          throw new CorruptIndexError(this.timeIndexFile.path, `last entry does not match the batch it names`);
        }
      }
      this.summaryKnown = true;
    } catch (err) {
      this.offsetIndex = null;
      this.timeIndex = null;
      if (err instanceof KafkaError && err.code === ErrorCode.KAFKA_STORAGE_ERROR && err.cause instanceof Damage) {
        throw new CorruptIndexError(this.offsetIndexFile.path, err.message);
      }
      throw err;
    }
  }

  /**
   * Walks and validates batches in [from, end), feeding the index rule. When `expectFirstRel` >= 0 the first batch
   * must end at that relative offset (it is the one the last index entry names). Stops at the first problem.
   */
  private scan(
    from: number,
    end: number,
    expectFirstRel: number,
    onBatch?: (leaderEpoch: number, baseOffset: bigint, lastOffset: bigint) => void,
  ): ScanResult {
    scanScratch ??= Buffer.allocUnsafe(SCAN_CHUNK);
    let buf = scanScratch;
    let bufStart = 0;
    let bufLen = 0;
    let pos = from;
    let prevLastRel = -1;
    let error: string | null = null;
    while (pos < end) {
      let at = pos - bufStart;
      const remaining = end - pos;
      if (remaining < HEADER_SIZE) {
        error = `${remaining} bytes at the end, too few for a batch`;
        break;
      }
      if (at < 0 || bufLen - at < HEADER_SIZE) {
        bufLen = this.logFile.read(buf, 0, Math.min(buf.length, remaining), pos);
        bufStart = pos;
        at = 0;
        if (bufLen < HEADER_SIZE) {
          error = `file ends at byte ${pos + bufLen}, before the expected ${end}`;
          break;
        }
      }
      const batchLength = buf.readInt32BE(at + LENGTH_AT);
      if (batchLength < MIN_BATCH_LENGTH) {
        error = `batch at byte ${pos} has an invalid length ${batchLength}`;
        break;
      }
      if (batchLength > remaining - LOG_OVERHEAD) {
        error = `batch at byte ${pos} needs ${LOG_OVERHEAD + batchLength} bytes, ${remaining} remain (torn write)`;
        break;
      }
      const size = LOG_OVERHEAD + batchLength;
      if (bufLen - at < size) {
        if (size > buf.length) buf = Buffer.allocUnsafe(size);
        bufLen = this.logFile.read(buf, 0, Math.min(buf.length, end - pos), pos);
        bufStart = pos;
        at = 0;
        if (bufLen < size) {
          error = `batch at byte ${pos} cut short`;
          break;
        }
      }
      try {
        validateBatch(buf, at, at + size);
      } catch (err) {
        error = (err as Error).message.replace(/at byte \d+/, `at byte ${pos}`);
        break;
      }
      const baseOffset = buf.readBigInt64BE(at);
      const baseRelBig = baseOffset - this.baseOffset;
      const delta = buf.readInt32BE(at + LAST_DELTA_AT);
      if (baseRelBig < 0n || baseRelBig > BigInt(INT32_MAX) || delta < 0 || Number(baseRelBig) + delta > INT32_MAX) {
        error = `batch at byte ${pos} has offsets ${baseOffset}..${baseOffset + BigInt(delta)} outside the segment`;
        break;
      }
      const baseRel = Number(baseRelBig);
      const lastRel = baseRel + delta;
      if (baseRel <= prevLastRel) {
        error = `batch at byte ${pos} starts at offset ${baseOffset}, not after the previous batch`;
        break;
      }
      if (pos === from && expectFirstRel >= 0 && lastRel !== expectFirstRel) {
        error = `the last index entry names offset ${this.baseOffset + BigInt(expectFirstRel)} but the batch there ends at ${baseOffset + BigInt(delta)}`;
        break;
      }
      const maxTs = readInt64AsNumber(buf, at + MAX_TS_AT);
      if (pos === 0) this.firstBatchTs = maxTs;
      this.indexBatch(pos, lastRel, maxTs, size);
      onBatch?.(buf.readInt32BE(at + EPOCH_AT), baseOffset, baseOffset + BigInt(delta));
      prevLastRel = lastRel;
      this.nextRel = lastRel + 1;
      pos += size;
    }
    return { end: pos, error };
  }

  /** translate without repair: damage surfaces as a KAFKA_STORAGE_ERROR caused by Damage. */
  private translateRaw(offset: bigint): BatchLocation | null {
    if (this.bytes === 0) return null;
    const relBig = offset - this.baseOffset;
    if (relBig >= BigInt(this.nextRel)) return null;
    const rel = relBig < 0n ? -1 : Number(relBig);
    let found: BatchLocation | null = null;
    this.walkHeaders(this.offsetIndex!.floor(rel), (h, at, position, size) => {
      const baseOffset = h.readBigInt64BE(at);
      const lastRel = Number(baseOffset - this.baseOffset) + h.readInt32BE(at + LAST_DELTA_AT);
      if (lastRel < rel) return false;
      found = this.location(h, at, position, size, baseOffset, lastRel);
      return true;
    });
    return found;
  }

  /**
   * Visits batch headers from offset-index entry `entry` (-1: the start of the log) until `visit` returns true or
   * the segment ends. The header is at `h[at..at+61)`. The batch an entry points at must end at the entry's offset,
   * and every header must look like a batch; otherwise a KAFKA_STORAGE_ERROR caused by Damage is thrown (the index
   * or the log is damaged, and the caller may repair).
   */
  private walkHeaders(entry: number, visit: (h: Buffer, at: number, position: number, size: number) => boolean): void {
    const oi = this.offsetIndex!;
    const from = entry < 0 ? 0 : oi.positionAt(entry);
    const expectRel = entry < 0 ? -1 : oi.offsetAt(entry);
    this.walkHeadersFrom(from, expectRel, visit);
  }

  /**
   * Visits batch headers from byte `from` until `visit` returns true or the segment ends. The header is at
   * `h[at..at+61)`. A header that cannot be a batch throws a KAFKA_STORAGE_ERROR caused by Damage.
   */
  private walkHeadersFrom(
    from: number,
    expectFirstRel: number,
    visit: (h: Buffer, at: number, position: number, size: number) => boolean,
  ): void {
    const h = headerScratch;
    const end = this.bytes;
    let bufStart = -1;
    let bufLen = 0;
    let pos = from;
    while (pos < end) {
      let at = pos - bufStart;
      if (bufStart < 0 || bufLen - at < HEADER_SIZE) {
        bufLen = this.logFile.read(h, 0, Math.min(h.length, end - pos), pos);
        bufStart = pos;
        at = 0;
      }
      if (bufLen - at < HEADER_SIZE) throw this.damaged(pos, 'batch header cut short');
      const size = LOG_OVERHEAD + h.readInt32BE(at + LENGTH_AT);
      if (size < HEADER_SIZE || size > end - pos || h.readInt8(at + MAGIC_AT) !== 2) {
        throw this.damaged(pos, `no valid batch header (length ${size - LOG_OVERHEAD})`);
      }
      if (pos === from && expectFirstRel >= 0) {
        const lastRel = Number(h.readBigInt64BE(at) - this.baseOffset) + h.readInt32BE(at + LAST_DELTA_AT);
        if (lastRel !== expectFirstRel) {
          throw this.damaged(pos, `the index names offset ${expectFirstRel} here, the batch ends at ${lastRel}`);
        }
      }
      if (visit(h, at, pos, size)) return;
      pos += size;
    }
  }

  /** Runs `fn`; if it meets damage, repairs the segment (recover) and runs it once more. */
  private withRepair<T>(what: () => string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof KafkaError) || !(err.cause instanceof Damage)) throw err;
      this.recoverAfterDamage(err.message, `damage found while ${what()}; segment recovered`);
      return fn();
    }
  }

  private damaged(position: number, reason: string): KafkaError {
    return storageError(`segment ${this.path} is damaged at byte ${position}`, new Damage(reason));
  }

  private location(
    h: Buffer,
    at: number,
    position: number,
    size: number,
    baseOffset: bigint,
    lastRel: number,
  ): BatchLocation {
    return {
      position,
      size,
      baseOffset,
      lastOffset: this.baseOffset + BigInt(lastRel),
      maxTimestamp: readInt64AsNumber(h, at + MAX_TS_AT),
      leaderEpoch: h.readInt32BE(at + EPOCH_AT),
    };
  }

  /** Records of the batch at `position` (one batch decoded, e.g. for timestamp lookups). */
  private decodeAt(position: number, size: number): KafkaRecord[] {
    const buf = Buffer.allocUnsafe(size);
    const n = this.readInto(buf, 0, position, size);
    if (n !== size) throw this.damaged(position, `batch cut short: ${n} of ${size} bytes`);
    try {
      return decodeRecordBatches(buf, { allowPartialTail: false })[0]?.records ?? [];
    } catch (err) {
      throw this.damaged(position, (err as Error).message);
    }
  }

  /** Cuts the log at `position` (a batch boundary whose batch starts at relative offset `cutRel`). */
  private cutAt(position: number, cutRel: number): void {
    this.logFile.truncate(position);
    this.bytes = position;
    const oi = this.offsetIndex!;
    const ti = this.timeIndex!;
    oi.truncateToPosition(position);
    ti.truncateToOffset(cutRel);
    this.resetSummary();
    if (position === 0) {
      this.firstBatchTs = -1;
      return;
    }
    this.maxTs = ti.lastTimestamp;
    this.maxTsRel = ti.lastOffset;
    const result = this.scan(oi.lastPosition, position, -1);
    if (result.error !== null) throw this.damaged(result.end, result.error);
  }
}

/** Marks a storage error as damage of the data (as opposed to a failing device): the segment can repair it. */
class Damage extends Error {
  override readonly name = 'Damage';
}
