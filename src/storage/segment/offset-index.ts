/**
 * OffsetIndex: the sparse offset index of one segment (`<base offset>.index`).
 *
 * File format (Kafka's): a sequence of 8-byte entries, big-endian, no header:
 *
 *     relativeOffset int32   last offset of an indexed batch minus the segment's base offset
 *     position       int32   byte position of that batch in the segment's .log file
 *
 * Both columns strictly increase. The log adds an entry for a batch when more than `index.interval.bytes` of log
 * were appended since the previous entry, so a lookup lands at most about that many bytes before the batch sought.
 * The number of entries is bounded by `segment.index.bytes / 8`; a full index makes the log roll.
 *
 * Lookups (`floor`) binary-search the entries in memory. On load the file is checked (size a multiple of 8,
 * strictly increasing columns, positions inside the log) and a violation is a CorruptIndexError: the segment then
 * rebuilds the index from the log. The segment also checks the last entry against the batch it points to.
 *
 * Crash behaviour and write-behind: see IndexBase. Concurrency: owned by one segment, event loop only.
 */
import { CorruptIndexError } from '../errors.js';
import type { CachedFile } from '../file-cache.js';
import { IndexBase } from './index-base.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class OffsetIndex extends IndexBase {
  private offsets = new Int32Array(0);
  private positions = new Int32Array(0);

  private constructor(file: CachedFile, maxEntries: number) {
    super(file, maxEntries);
  }

  /** An empty index over `file` (whose content is replaced on the next write). */
  static empty(file: CachedFile, maxEntries: number): OffsetIndex {
    return new OffsetIndex(file, maxEntries);
  }

  /**
   * Loads `file` and checks it against a log of `logSize` bytes; throws CorruptIndexError when it cannot be
   * trusted.
   */
  static load(file: CachedFile, maxEntries: number, logSize: number): OffsetIndex {
    const index = new OffsetIndex(file, maxEntries);
    index.loadFile();
    if (index.count > 0) {
      const last = index.positions[index.count - 1]!;
      if (last >= logSize) {
        throw new CorruptIndexError(file.path, `last entry points at byte ${last}, the log has ${logSize} bytes`);
      }
    }
    return index;
  }

  get entrySize(): number {
    return OFFSET_INDEX_ENTRY_SIZE;
  }

  /** Relative offset of entry `i`. */
  offsetAt(i: number): number {
    return this.offsets[i]!;
  }

  /** Log position of entry `i`. */
  positionAt(i: number): number {
    return this.positions[i]!;
  }

  /** Relative offset of the last entry, or -1. */
  get lastOffset(): number {
    return this.count > 0 ? this.offsets[this.count - 1]! : -1;
  }

  /** Position of the last entry, or 0 (the start of the log) when empty. */
  get lastPosition(): number {
    return this.count > 0 ? this.positions[this.count - 1]! : 0;
  }

  /** Adds an entry; both values must be above the last entry's. */
  append(relativeOffset: number, position: number): void {
    if (this.count > 0 && (relativeOffset <= this.lastOffset || position <= this.lastPosition)) {
      throw new Error(
        `offset index ${this.file.path}: entry (${relativeOffset}, ${position}) after (${this.lastOffset}, ${this.lastPosition})`,
      );
    }
    this.ensureCapacity(this.count + 1);
    this.offsets[this.count] = relativeOffset;
    this.positions[this.count] = position;
    this.count++;
  }

  /** Index of the last entry whose relative offset is <= `relativeOffset`, or -1. */
  floor(relativeOffset: number): number {
    let lo = 0;
    let hi = this.count;
    const offsets = this.offsets;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid]! <= relativeOffset) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Where to start scanning for `relativeOffset`: the position of the floor entry, or 0. */
  lookup(relativeOffset: number): number {
    const i = this.floor(relativeOffset);
    return i < 0 ? 0 : this.positions[i]!;
  }

  /** Drops the entries pointing at or after byte `position` (the log is truncated there). */
  truncateToPosition(position: number): void {
    let n = this.count;
    while (n > 0 && this.positions[n - 1]! >= position) n--;
    this.truncateEntries(n);
  }

  /** Drops the entries whose relative offset is >= `relativeOffset`. */
  truncateToOffset(relativeOffset: number): void {
    this.truncateEntries(this.floor(relativeOffset - 1) + 1);
  }

  protected resize(cap: number): void {
    const offsets = new Int32Array(cap);
    const positions = new Int32Array(cap);
    offsets.set(this.offsets.subarray(0, this.count));
    positions.set(this.positions.subarray(0, this.count));
    this.offsets = offsets;
    this.positions = positions;
  }

  protected encode(buf: Buffer, pos: number, i: number): void {
    buf.writeInt32BE(this.offsets[i]!, pos);
    buf.writeInt32BE(this.positions[i]!, pos + 4);
  }

  protected decode(buf: Buffer, n: number): void {
    let prevOffset = -1;
    let prevPosition = -1;
    for (let i = 0; i < n; i++) {
      const offset = buf.readInt32BE(i * 8);
      const position = buf.readInt32BE(i * 8 + 4);
      if (offset <= prevOffset || position <= prevPosition) {
        throw new CorruptIndexError(
          this.file.path,
          `entry ${i} (${offset}, ${position}) does not follow (${prevOffset}, ${prevPosition})`,
        );
      }
      this.offsets[i] = offset;
      this.positions[i] = position;
      prevOffset = offset;
      prevPosition = position;
    }
  }
}
