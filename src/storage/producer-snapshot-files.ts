/**
 * Producer snapshot files of one partition dir (see producer-state.ts for their content): `<20-digit offset>.snapshot`,
 * Kafka's naming. Our format starts with its own magic, so a Kafka snapshot found here is recognised as foreign,
 * counted unusable and replaced by a rebuild, as Kafka does with a snapshot it cannot read.
 *
 * A snapshot is written to `<name>.tmp` and renamed into place without waiting for the disk: the partition log
 * fsyncs the files written since its last flush round (`sync`) together with its segments, in the background, so a
 * segment roll never blocks on an fsync. After a crash a snapshot may therefore be missing or, after a power loss,
 * damaged; reading checks magic, version and CRC, and an unusable snapshot only means a longer rebuild. A leftover
 * `.tmp` file is removed when the store is opened.
 *
 * Concurrency: owned by one log; every call but `sync` is synchronous and they never interleave.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { storageError } from './errors.js';
import { CorruptSnapshotError, type ProducerSnapshotStore } from './producer-state.js';
import { offsetName } from './segment/names.js';

export const SNAPSHOT_SUFFIX = '.snapshot';
const NAME = /^(\d{20})\.snapshot$/;
const TMP = /^\d{20}\.snapshot\.tmp$/;
/** Larger files are not read: no sane partition has state of this size, and Buffers are bounded anyway. */
const MAX_SNAPSHOT_BYTES = 1 << 30;

export class FileSnapshotStore implements ProducerSnapshotStore {
  private readonly dir: string;
  /** Ascending. */
  private list: bigint[] = [];
  private unsynced = new Set<string>();

  /** Lists the snapshots of `dir` and removes leftover temporary files. */
  constructor(dir: string) {
    this.dir = dir;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (err) {
      throw storageError(`cannot list ${dir}`, err);
    }
    for (const name of names) {
      const m = NAME.exec(name);
      if (m) this.list.push(BigInt(m[1]!));
      else if (TMP.test(name)) this.unlink(join(dir, name));
    }
    this.list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private path(offset: bigint): string {
    return join(this.dir, offsetName(offset) + SNAPSHOT_SUFFIX);
  }

  offsets(): bigint[] {
    return this.list.slice();
  }

  read(offset: bigint): Buffer | null {
    const path = this.path(offset);
    try {
      const size = fs.statSync(path).size;
      if (size > MAX_SNAPSHOT_BYTES) throw new CorruptSnapshotError(`${size} bytes, more than a snapshot may have`);
      return fs.readFileSync(path);
    } catch (err) {
      if (err instanceof CorruptSnapshotError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw storageError(`cannot read ${path}`, err);
    }
  }

  write(offset: bigint, data: Buffer): void {
    const path = this.path(offset);
    const tmp = `${path}.tmp`;
    try {
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, path);
    } catch (err) {
      this.unlink(tmp);
      throw storageError(`cannot write ${path}`, err);
    }
    this.unsynced.add(path);
    if (!this.list.includes(offset)) {
      this.list.push(offset);
      this.list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
  }

  remove(offset: bigint): void {
    const path = this.path(offset);
    this.unsynced.delete(path);
    this.list = this.list.filter((o) => o !== offset);
    try {
      fs.rmSync(path, { force: true });
    } catch (err) {
      throw storageError(`cannot remove ${path}`, err);
    }
  }

  /** Whether snapshots were written since the last `sync` (the caller then fsyncs the directory too). */
  get hasUnsynced(): boolean {
    return this.unsynced.size > 0;
  }

  /** Fsyncs the snapshots written since the last call. A snapshot removed meanwhile is skipped. */
  async sync(): Promise<void> {
    if (this.unsynced.size === 0) return;
    const paths = [...this.unsynced];
    this.unsynced.clear();
    await Promise.all(
      paths.map(async (path) => {
        let handle: fs.promises.FileHandle | null = null;
        try {
          handle = await fs.promises.open(path, 'r');
          await handle.sync();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw storageError(`cannot fsync ${path}`, err);
        } finally {
          await handle?.close().catch(() => {});
        }
      }),
    );
  }

  private unlink(path: string): void {
    try {
      fs.rmSync(path, { force: true });
    } catch {
      // Best effort: a leftover .tmp is removed at the next open.
    }
  }
}
