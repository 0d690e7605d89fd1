/**
 * TimeIndex: the sparse time index of one segment (`<base offset>.timeindex`).
 *
 * File format (Kafka's): a sequence of 12-byte entries, big-endian, no header:
 *
 *     timestamp      int64   the largest batch max-timestamp seen in the segment so far
 *     relativeOffset int32   last offset of the batch that first reached it, minus the segment's base offset
 *
 * Timestamps strictly increase and offsets never decrease. An entry is added next to each offset-index entry when
 * the segment's max timestamp grew since the previous one, and once more when the segment is rolled or closed, so
 * the last entry of an inactive segment holds its largest timestamp (what retention.ms needs after a restart
 * without reading the log). To find the first batch with a timestamp >= T, take the last entry with timestamp
 * <= T: every batch before the one it names has a smaller max timestamp, so scanning from there finds it.
 *
 * Bounded by `segment.index.bytes / 12` entries (the entry written on roll/close may exceed it by one, as in Kafka).
 * On load the file is checked (size a multiple of 12, increasing columns); a violation is a CorruptIndexError and
 * the segment rebuilds the index. Timestamps are held as numbers (exact for any millisecond timestamp below 2^53).
 *
 * Crash behaviour and write-behind: see IndexBase. Concurrency: owned by one segment, event loop only.
 */
import { CorruptIndexError } from '../errors.js';
import type { CachedFile } from '../file-cache.js';
import { IndexBase, readInt64AsNumber, writeNumberAsInt64 } from './index-base.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export class TimeIndex extends IndexBase {
  private timestamps = new Float64Array(0);
  private offsets = new Int32Array(0);

  private constructor(file: CachedFile, maxEntries: number) {
    super(file, maxEntries);
  }

  static empty(file: CachedFile, maxEntries: number): TimeIndex {
    return new TimeIndex(file, maxEntries);
  }

  /** Loads and checks `file`; throws CorruptIndexError when it cannot be trusted. */
  static load(file: CachedFile, maxEntries: number): TimeIndex {
    const index = new TimeIndex(file, maxEntries);
    index.loadFile();
    return index;
  }

  get entrySize(): number {
    return TIME_INDEX_ENTRY_SIZE;
  }

  timestampAt(i: number): number {
    return this.timestamps[i]!;
  }

  offsetAt(i: number): number {
    return this.offsets[i]!;
  }

  /** Timestamp of the last entry, or -1. */
  get lastTimestamp(): number {
    return this.count > 0 ? this.timestamps[this.count - 1]! : -1;
  }

  /** Relative offset of the last entry, or -1. */
  get lastOffset(): number {
    return this.count > 0 ? this.offsets[this.count - 1]! : -1;
  }

  /**
   * Adds (timestamp, relativeOffset) when the timestamp is above the last entry's (and >= 0) and the index is not
   * full (`force` ignores the bound: the entry written on roll/close). Returns whether it was added.
   */
  maybeAppend(timestamp: number, relativeOffset: number, force = false): boolean {
    if (timestamp < 0 || timestamp <= this.lastTimestamp || relativeOffset < this.lastOffset) return false;
    if (!force && this.isFull) return false;
    this.ensureCapacity(this.count + 1);
    this.timestamps[this.count] = timestamp;
    this.offsets[this.count] = relativeOffset;
    this.count++;
    return true;
  }

  /** Index of the last entry whose timestamp is <= `timestamp`, or -1. */
  floor(timestamp: number): number {
    let lo = 0;
    let hi = this.count;
    const ts = this.timestamps;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid]! <= timestamp) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Drops the entries whose relative offset is >= `relativeOffset`. */
  truncateToOffset(relativeOffset: number): void {
    let n = this.count;
    while (n > 0 && this.offsets[n - 1]! >= relativeOffset) n--;
    this.truncateEntries(n);
  }

  protected resize(cap: number): void {
    const timestamps = new Float64Array(cap);
    const offsets = new Int32Array(cap);
    timestamps.set(this.timestamps.subarray(0, this.count));
    offsets.set(this.offsets.subarray(0, this.count));
    this.timestamps = timestamps;
    this.offsets = offsets;
  }

  protected encode(buf: Buffer, pos: number, i: number): void {
    writeNumberAsInt64(buf, pos, this.timestamps[i]!);
    buf.writeInt32BE(this.offsets[i]!, pos + 8);
  }

  protected decode(buf: Buffer, n: number): void {
    let prevTs = -1;
    let prevOffset = 0;
    for (let i = 0; i < n; i++) {
      const ts = readInt64AsNumber(buf, i * 12);
      const offset = buf.readInt32BE(i * 12 + 8);
      if (ts <= prevTs || offset < prevOffset || !Number.isSafeInteger(ts)) {
        throw new CorruptIndexError(
          this.file.path,
          `entry ${i} (${ts}, ${offset}) does not follow (${prevTs}, ${prevOffset})`,
        );
      }
      this.timestamps[i] = ts;
      this.offsets[i] = offset;
      prevTs = ts;
      prevOffset = offset;
    }
  }
}
