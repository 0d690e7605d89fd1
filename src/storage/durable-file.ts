/**
 * Atomic, durable replacement of a small file: the content goes to `<path>.tmp`, which is fsynced, renamed over
 * `<path>`, and then the directory is fsynced so the rename itself survives a power loss. After a crash at any
 * point a reader sees either the old or the new content, never a mix. Used by checkpoints and the embedded
 * metadata store.
 */
import fs from 'node:fs';
import nodePath from 'node:path';

/** A failed durable write; `stage` says which step failed, and `path` still holds its previous content. */
export class DurableWriteError extends Error {
  constructor(
    readonly path: string,
    readonly stage: string,
    cause: unknown,
  ) {
    super(`Cannot ${stage} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DurableWriteError';
  }
}

export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (err) {
    // Some platforms (Windows) cannot open a directory; the rename is as durable as the OS makes it there.
    if ((err as NodeJS.ErrnoException).code === 'EISDIR' || (err as NodeJS.ErrnoException).code === 'EPERM') return;
    throw err;
  }
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces `path` with `content` atomically and durably; throws DurableWriteError on an I/O failure. */
export function writeFileDurably(path: string, content: string | Buffer): void {
  const tmp = `${path}.tmp`;
  let stage = 'write';
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, content);
      stage = 'fsync';
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    stage = 'rename';
    fs.renameSync(tmp, path);
    stage = 'fsync the directory of';
    fsyncDirectory(nodePath.dirname(path));
  } catch (err) {
    if (stage !== 'fsync the directory of') {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // Best effort: a leftover .tmp is harmless, the next write replaces it.
      }
    }
    throw new DurableWriteError(path, stage, err);
  }
}
