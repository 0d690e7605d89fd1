/**
 * What the offset index and the time index share: entries kept in memory (typed arrays, growing up to the bound
 * set by `segment.index.bytes`) and written behind to their file, which always holds a prefix of them.
 *
 * Write-behind: `append` only touches memory; `writeTail` writes the entries not yet in the file with one write,
 * and `sync` fsyncs it. The segment calls them when it is rolled, flushed or closed. Until then a crash can leave
 * the file shorter than the log needs, which is harmless: the segments the file could be stale for are those at or
 * above the recovery point, and recovery rebuilds their indexes from the log. Index files are not preallocated
 * (Kafka preallocates `segment.index.bytes` and trims on close, because it mmaps them); ours are exactly
 * `entries * entrySize` bytes at all times, so a file of another length is itself a sign of damage.
 *
 * Concurrency: owned by one segment; synchronous except `sync`.
 */
import { CorruptIndexError } from '../errors.js';
import type { CachedFile } from '../file-cache.js';

export abstract class IndexBase {
  readonly file: CachedFile;
  /** Entries allowed by segment.index.bytes; `isFull` makes the log roll. */
  readonly maxEntries: number;
  protected count = 0;
  /** Entries already in the file (always a prefix of the entries in memory). */
  protected written = 0;
  protected capacity = 0;

  protected constructor(file: CachedFile, maxEntries: number) {
    this.file = file;
    this.maxEntries = Math.max(1, maxEntries);
  }

  abstract get entrySize(): number;

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Entries not yet written to the file. */
  get unwritten(): number {
    return this.count - this.written;
  }

  /** Grows the arrays to hold at least `n` entries. */
  protected ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    let cap = Math.max(64, this.capacity);
    while (cap < n) cap *= 2;
    this.resize(cap);
    this.capacity = cap;
  }

  /** Replaces the arrays with ones of `cap` entries holding the first `count` entries. */
  protected abstract resize(cap: number): void;

  /** Encodes entry `i` at `pos` of `buf`. */
  protected abstract encode(buf: Buffer, pos: number, i: number): void;

  /** Decodes the file content into the arrays and checks the format; throws CorruptIndexError. */
  protected abstract decode(buf: Buffer, n: number): void;

  /** Reads the whole file into memory and validates its shape (entry size, ordering). */
  protected loadFile(): void {
    const size = this.file.size();
    if (size % this.entrySize !== 0) {
      throw new CorruptIndexError(this.file.path, `size ${size} is not a multiple of the entry size ${this.entrySize}`);
    }
    const n = size / this.entrySize;
    const buf = Buffer.allocUnsafe(size);
    const got = this.file.read(buf, 0, size, 0);
    if (got !== size) throw new CorruptIndexError(this.file.path, `short read: ${got} of ${size} bytes`);
    this.ensureCapacity(n);
    this.decode(buf, n);
    this.count = n;
    this.written = n;
  }

  /** Drops entries from `n` on, in memory and in the file. */
  protected truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.written > n) {
      this.file.truncate(n * this.entrySize);
      this.written = n;
    }
  }

  /** Removes every entry (memory and file). */
  reset(): void {
    this.truncateEntries(0);
  }

  /** Writes the entries that are only in memory, with one write. */
  writeTail(): void {
    const n = this.count - this.written;
    if (n <= 0) return;
    const size = this.entrySize;
    const buf = Buffer.allocUnsafe(n * size);
    for (let i = 0; i < n; i++) this.encode(buf, i * size, this.written + i);
    this.file.write(buf, 0, buf.length, this.written * size);
    this.written = this.count;
  }

  /** Rewrites the whole file from memory (after a rebuild). */
  rewrite(): void {
    this.file.truncate(0);
    this.written = 0;
    this.writeTail();
  }

  /** Writes what is pending and fsyncs. */
  sync(): Promise<void> {
    this.writeTail();
    return this.file.sync(true);
  }
}

/** Reads a big-endian int64 as a number (exact below 2^53; timestamps in ms are). */
export function readInt64AsNumber(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

/** Writes a number as a big-endian int64. */
export function writeNumberAsInt64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * 4294967296, pos + 4);
}
