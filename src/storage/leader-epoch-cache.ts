/**
 * The leader-epoch cache of one partition: for every leader epoch that wrote to the log, the offset of its first
 * batch. It answers OffsetForLeaderEpoch (KIP-101 / KIP-279 / KIP-320) so that a follower or a consumer can find
 * where its copy of the log diverged from the leader's.
 *
 * Invariant: epochs and start offsets are both strictly increasing.
 *
 * File: `<partitionDir>/leader-epoch-checkpoint`, Kafka's checkpoint format (see checkpoint.ts) with version 0 and
 * one `<epoch> <startOffset>` entry per line, oldest first:
 *
 *     0
 *     2
 *     0 0
 *     3 120
 *
 * Changes stay in memory until `flush()`, which rewrites the file atomically (write .tmp, fsync, rename, fsync the
 * directory) when anything changed. After a crash the file holds the state of the last completed flush, which may
 * be behind or ahead of the log: the log's recovery re-assigns the epochs of the batches it scans (from their
 * headers, via `assign`) and calls `truncateFromEnd` when it cuts the tail, which brings the cache back in line.
 * For the same reason a corrupt checkpoint is not fatal: `load` logs a warning and starts empty, and the next flush
 * replaces the damaged file. An I/O error while reading or writing (not a format problem) is thrown as a
 * KAFKA_STORAGE_ERROR `CheckpointError`.
 *
 * Concurrency: owned by one partition log and used from the event loop only; calls never interleave.
 */
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import {
  CHECKPOINT_VERSION,
  CorruptCheckpointError,
  parseInt32Field,
  parseInt64Field,
  readCheckpoint,
  splitFields,
  writeCheckpoint,
} from './checkpoint.js';
import type { EpochEndOffset } from './types.js';

/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1n;

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: bigint;
}

function parseEntry(line: string): EpochEntry {
  const [epochText, offsetText] = splitFields(line, 2) as [string, string];
  return {
    epoch: parseInt32Field(epochText, 'epoch', 0),
    startOffset: parseInt64Field(offsetText, 'start offset', 0n),
  };
}

export class LeaderEpochCache {
  private readonly file: string | null;
  private readonly logger: Logger;
  /** Parallel arrays, both strictly increasing. */
  private epochs: number[] = [];
  private starts: bigint[] = [];
  private dirty = false;

  private constructor(file: string | null, logger: Logger) {
    this.file = file;
    this.logger = logger;
  }

  /**
   * Loads the cache from `file` (a missing file is an empty cache), or makes a memory-only cache when `file` is
   * null. A corrupt file is logged and ignored (see the class comment); other read errors are thrown.
   */
  static load(file: string | null, logger: Logger = silentLogger): LeaderEpochCache {
    const cache = new LeaderEpochCache(file, logger);
    if (file === null) return cache;
    let loaded: EpochEntry[] | null;
    try {
      loaded = readCheckpoint(file, parseEntry, CHECKPOINT_VERSION);
      if (loaded !== null) {
        for (let i = 1; i < loaded.length; i++) {
          const prev = loaded[i - 1]!;
          const cur = loaded[i]!;
          if (cur.epoch <= prev.epoch || cur.startOffset <= prev.startOffset) {
            throw new CorruptCheckpointError(
              file,
              i + 3,
              `entries not strictly increasing: (${prev.epoch}, ${prev.startOffset}) then (${cur.epoch}, ${cur.startOffset})`,
            );
          }
        }
      }
    } catch (err) {
      if (!(err instanceof CorruptCheckpointError)) throw err;
      logger.warn(
        { file, err: err.message },
        'corrupt leader-epoch checkpoint ignored; epochs will be rebuilt from batch headers during log recovery',
      );
      cache.dirty = true;
      return cache;
    }
    for (const entry of loaded ?? []) {
      cache.epochs.push(entry.epoch);
      cache.starts.push(entry.startOffset);
    }
    return cache;
  }

  /**
   * Records that `epoch` starts at `startOffset`. A no-op when `epoch` is negative (unknown, e.g. old-format
   * batches) or not newer than the latest epoch. Entries starting at or after `startOffset` (necessarily of smaller
   * epochs) are removed first: they were written by an old leader and never committed.
   */
  assign(epoch: number, startOffset: bigint): void {
    if (!Number.isInteger(epoch) || epoch > 0x7fffffff) throw new RangeError(`invalid leader epoch ${epoch}`);
    if (startOffset < 0n) throw new RangeError(`invalid start offset ${startOffset} for leader epoch ${epoch}`);
    if (epoch < 0 || epoch <= this.latestEpoch()) return;
    let keep = this.starts.length;
    while (keep > 0 && this.starts[keep - 1]! >= startOffset) keep--;
    if (keep < this.starts.length) {
      this.logger.warn(
        { epoch, startOffset: String(startOffset), removed: this.describe(keep, this.epochs.length) },
        'new leader epoch starts at or below earlier epochs; removing them',
      );
      this.epochs.length = keep;
      this.starts.length = keep;
    }
    this.epochs.push(epoch);
    this.starts.push(startOffset);
    this.dirty = true;
  }

  /** The latest epoch, or -1 when the cache is empty. */
  latestEpoch(): number {
    return this.epochs.length > 0 ? this.epochs[this.epochs.length - 1]! : UNDEFINED_EPOCH;
  }

  /**
   * OffsetForLeaderEpoch, with Kafka's semantics:
   * - requested epoch undefined (negative), larger than the latest, or the cache empty: (-1, -1);
   * - requested epoch == latest: (latest, logEndOffset);
   * - otherwise the largest known epoch <= the requested one, ending where the next higher known epoch starts
   *   (so an epoch the leader skipped maps to the epoch before it);
   * - requested epoch below the first known epoch (its history was removed by retention): (requested epoch,
   *   start offset of the first known epoch), so the follower truncates no further than the leader's log start.
   */
  endOffsetFor(epoch: number, logEndOffset: bigint): EpochEndOffset {
    const undefinedResult = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (epoch < 0 || this.epochs.length === 0) return undefinedResult;
    const latest = this.latestEpoch();
    if (epoch === latest) return { epoch, endOffset: logEndOffset };
    if (epoch > latest) return undefinedResult;
    // First index whose epoch is > requested; exists since requested < latest.
    const higher = this.upperBound(epoch);
    if (higher === 0) return { epoch, endOffset: this.starts[0]! };
    return { epoch: this.epochs[higher - 1]!, endOffset: this.starts[higher]! };
  }

  /** The log was truncated to `endOffset` (exclusive): drops entries starting at or after it. Ignores -1. */
  truncateFromEnd(endOffset: bigint): void {
    if (endOffset < 0n) return;
    let keep = this.starts.length;
    while (keep > 0 && this.starts[keep - 1]! >= endOffset) keep--;
    if (keep === this.starts.length) return;
    this.epochs.length = keep;
    this.starts.length = keep;
    this.dirty = true;
  }

  /**
   * The log start moved up to `startOffset`: drops entries that end at or below it, and moves the start of the
   * entry covering `startOffset` up to it. When `startOffset` is beyond every entry's start, the latest epoch is
   * kept, starting at `startOffset`.
   */
  truncateFromStart(startOffset: bigint): void {
    if (this.starts.length === 0 || this.starts[0]! >= startOffset) return;
    // Last index whose start <= startOffset (index 0 qualifies).
    let covering = 0;
    while (covering + 1 < this.starts.length && this.starts[covering + 1]! <= startOffset) covering++;
    this.epochs.splice(0, covering);
    this.starts.splice(0, covering);
    this.starts[0] = startOffset;
    this.dirty = true;
  }

  /** Removes every entry (the log was emptied). */
  clear(): void {
    if (this.epochs.length === 0) return;
    this.epochs = [];
    this.starts = [];
    this.dirty = true;
  }

  /** The epoch of the entry covering `offset` (the last one starting at or before it), or -1 if none. */
  epochForOffset(offset: bigint): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? UNDEFINED_EPOCH : this.epochs[lo - 1]!;
  }

  /** A snapshot of the entries, oldest first. */
  entries(): readonly EpochEntry[] {
    return this.epochs.map((epoch, i) => ({ epoch, startOffset: this.starts[i]! }));
  }

  /**
   * Writes the checkpoint atomically if anything changed since the last flush (or load). A no-op for a
   * memory-only cache. Throws CheckpointError on I/O failure and stays dirty, so a later flush retries.
   */
  flush(): void {
    if (!this.dirty || this.file === null) return;
    writeCheckpoint(
      this.file,
      CHECKPOINT_VERSION,
      this.epochs.map((epoch, i) => `${epoch} ${this.starts[i]}`),
    );
    this.dirty = false;
  }

  private upperBound(epoch: number): number {
    let lo = 0;
    let hi = this.epochs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.epochs[mid]! <= epoch) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private describe(from: number, to: number): string {
    const parts: string[] = [];
    for (let i = from; i < to; i++) parts.push(`${this.epochs[i]}@${this.starts[i]}`);
    return parts.join(',');
  }
}
