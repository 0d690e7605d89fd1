/**
 * FileCache: a bounded pool of open file descriptors shared by every segment of every log, so that thousands of
 * partitions (each with several segments of three files) do not need thousands of open files.
 *
 * A segment holds one `CachedFile` per file (a path and maybe an fd) and asks it for I/O; the fd is opened on
 * demand (O_RDWR, never O_APPEND: every read and write is positional) and kept in a least-recently-used list. When
 * opening one more would exceed `maxOpen`, the least recently used idle fds are closed; they reopen transparently
 * on their next use. An fd with an fsync in flight is pinned and never closed under it (a closed fd number can be
 * reused by another open, and the fsync would then sync the wrong file); if every fd is pinned the pool exceeds its
 * maximum for as long as the syncs last. EMFILE/ENFILE on open makes the pool close idle fds and retry once.
 *
 * Every file-system failure is thrown as KafkaError(KAFKA_STORAGE_ERROR) with the errno error as cause.
 *
 * No file format of its own; nothing to recover after a crash. Concurrency: synchronous calls from the event loop;
 * only `sync()` is asynchronous (it runs in libuv's pool while the loop keeps reading and writing the same fd,
 * which POSIX allows).
 */
import * as fs from 'node:fs';
import { type Logger, silentLogger } from '../log/logger.js';
import { errnoCode, storageError } from './errors.js';

const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;

export interface FileCacheOptions {
  /** Most fds open at once (pinned ones may exceed it briefly). Default 1024. */
  maxOpen?: number;
  logger?: Logger;
}

/** How `FileCache.file` opens a file the first time: it must exist, may be created, or must not exist yet. */
export type OpenMode = 'existing' | 'create' | 'new';

export class FileCache {
  static readonly DEFAULT_MAX_OPEN = 1024;
  readonly maxOpen: number;
  private readonly logger: Logger;
  /** Most recently used open file. */
  private head: CachedFile | null = null;
  /** Least recently used open file. */
  private tail: CachedFile | null = null;
  private openFds = 0;
  private opens = 0;
  private evictions = 0;

  constructor(options: FileCacheOptions = {}) {
    const max = options.maxOpen ?? FileCache.DEFAULT_MAX_OPEN;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`FileCache maxOpen must be >= 1, got ${max}`);
    this.maxOpen = max;
    this.logger = options.logger ?? silentLogger;
  }

  /** Fds open now. */
  get openCount(): number {
    return this.openFds;
  }

  /** Counters for tests and metrics. */
  get stats(): { open: number; opens: number; evictions: number } {
    return { open: this.openFds, opens: this.opens, evictions: this.evictions };
  }

  /**
   * A handle on `path`. With 'create' or 'new' the file is opened (and created) at once, so that a failure shows
   * here; with 'existing' it is opened on first use.
   */
  file(path: string, mode: OpenMode = 'existing'): CachedFile {
    const file = new CachedFile(this, path, mode);
    if (mode !== 'existing') file.fd();
    return file;
  }

  /** Closes every idle fd (files stay usable and reopen on demand); pinned ones close when their sync ends. */
  closeAll(): void {
    let f = this.tail;
    while (f !== null) {
      const prev = f.prev;
      if (f.pins === 0) this.closeFd(f);
      f = prev;
    }
  }

  /** @internal Moves an open file to the most-recently-used end. */
  touch(f: CachedFile): void {
    if (this.head === f) return;
    this.unlink(f);
    this.pushHead(f);
  }

  /** @internal Opens the fd of `f`, evicting idle fds to stay within the maximum. */
  openFd(f: CachedFile, flags: number): number {
    this.evictFor(1);
    let fd: number;
    try {
      fd = fs.openSync(f.path, flags, 0o644);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'EMFILE' && code !== 'ENFILE') throw storageError(`cannot open ${f.path}`, err);
      // The process limit is lower than our maximum: give back half of what we hold and try once more.
      this.logger.warn({ file: f.path, open: this.openFds, code }, 'out of file descriptors; closing idle files');
      this.evictIdle(Math.max(1, this.openFds >> 1));
      try {
        fd = fs.openSync(f.path, flags, 0o644);
      } catch (err2) {
        throw storageError(`cannot open ${f.path}`, err2);
      }
    }
    f.fdNum = fd;
    this.openFds++;
    this.opens++;
    this.pushHead(f);
    return fd;
  }

  /** @internal Closes the fd of `f` now (the caller checked it is not pinned). */
  closeFd(f: CachedFile): void {
    if (f.fdNum < 0) return;
    const fd = f.fdNum;
    f.fdNum = -1;
    this.unlink(f);
    this.openFds--;
    try {
      fs.closeSync(fd);
    } catch (err) {
      // The data written through it is already in the page cache; a failing close (NFS) is worth a line only.
      this.logger.warn({ file: f.path, err: (err as Error).message }, 'closing a file failed');
    }
  }

  /** Closes least-recently-used idle fds until `room` more can be opened within the maximum. */
  private evictFor(room: number): void {
    const excess = this.openFds + room - this.maxOpen;
    if (excess > 0) this.evictIdle(excess);
  }

  /** Closes up to `count` idle fds, least recently used first. */
  private evictIdle(count: number): void {
    let f = this.tail;
    while (count > 0 && f !== null) {
      const prev = f.prev;
      if (f.pins === 0) {
        this.closeFd(f);
        this.evictions++;
        count--;
      }
      f = prev;
    }
  }

  private pushHead(f: CachedFile): void {
    f.prev = null;
    f.next = this.head;
    if (this.head !== null) this.head.prev = f;
    this.head = f;
    if (this.tail === null) this.tail = f;
  }

  private unlink(f: CachedFile): void {
    if (f.prev !== null) f.prev.next = f.next;
    else if (this.head === f) this.head = f.next;
    if (f.next !== null) f.next.prev = f.prev;
    else if (this.tail === f) this.tail = f.prev;
    f.prev = null;
    f.next = null;
  }
}

/**
 * One file of the pool. Reads and writes are positional and complete (short reads stop only at end of file;
 * short writes are continued). Errors are KAFKA_STORAGE_ERROR.
 */
export class CachedFile {
  /** Current path (changes with rename). */
  path: string;
  /** @internal */ fdNum = -1;
  /** @internal fsyncs in flight. */ pins = 0;
  /** @internal */ prev: CachedFile | null = null;
  /** @internal */ next: CachedFile | null = null;
  private readonly cache: FileCache;
  private flags: number;
  private released = false;

  /** @internal use FileCache.file */
  constructor(cache: FileCache, path: string, mode: OpenMode) {
    this.cache = cache;
    this.path = path;
    this.flags = mode === 'existing' ? O_RDWR : mode === 'create' ? O_RDWR | O_CREAT : O_RDWR | O_CREAT | O_EXCL;
  }

  get isOpen(): boolean {
    return this.fdNum >= 0;
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** The fd, opened (or reopened after eviction) if needed, and marked most recently used. */
  fd(): number {
    if (this.fdNum >= 0) {
      this.cache.touch(this);
      return this.fdNum;
    }
    if (this.released) throw storageError(`file ${this.path}`, new Error('used after it was released'));
    const fd = this.cache.openFd(this, this.flags);
    // Created now; a later reopen must find this very file, never silently create an empty one.
    this.flags = O_RDWR;
    return fd;
  }

  /** Reads up to `length` bytes at `position`; fewer only at end of file. */
  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    const fd = this.fd();
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw storageError(`cannot read ${this.path} at ${position + done}`, err);
    }
    return done;
  }

  /** Writes all `length` bytes at `position`. */
  write(buf: Uint8Array, offset: number, length: number, position: number): void {
    const fd = this.fd();
    let done = 0;
    try {
      while (done < length) done += fs.writeSync(fd, buf, offset + done, length - done, position + done);
    } catch (err) {
      throw storageError(`cannot write ${length} bytes to ${this.path} at ${position + done}`, err);
    }
  }

  truncate(length: number): void {
    const fd = this.fd();
    try {
      fs.ftruncateSync(fd, length);
    } catch (err) {
      throw storageError(`cannot truncate ${this.path} to ${length} bytes`, err);
    }
  }

  size(): number {
    const fd = this.fd();
    try {
      return fs.fstatSync(fd).size;
    } catch (err) {
      throw storageError(`cannot stat ${this.path}`, err);
    }
  }

  /**
   * fdatasync (or fsync with `dataOnly` false) without blocking the event loop. The fd is pinned meanwhile so the
   * pool never closes it; a release during the sync closes it when the sync ends.
   */
  sync(dataOnly = true): Promise<void> {
    let fd: number;
    try {
      fd = this.fd();
    } catch (err) {
      return Promise.reject(err);
    }
    this.pins++;
    return new Promise<void>((resolve, reject) => {
      const done = (err: NodeJS.ErrnoException | null) => {
        this.pins--;
        if (this.pins === 0 && this.released) this.cache.closeFd(this);
        if (err) reject(storageError(`cannot ${dataOnly ? 'fdatasync' : 'fsync'} ${this.path}`, err));
        else resolve();
      };
      if (dataOnly) fs.fdatasync(fd, done);
      else fs.fsync(fd, done);
    });
  }

  /** Renames the file; an open fd stays valid and later reopens use the new path. */
  rename(to: string): void {
    try {
      fs.renameSync(this.path, to);
    } catch (err) {
      throw storageError(`cannot rename ${this.path} to ${to}`, err);
    }
    this.path = to;
  }

  /** Closes the fd (after any sync in flight) and forbids further use. */
  release(): void {
    this.released = true;
    if (this.pins === 0) this.cache.closeFd(this);
  }
}
