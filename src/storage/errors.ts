/**
 * Errors of the on-disk storage engine.
 *
 * - Any failure of the file system (ENOSPC, EIO, EACCES, EROFS, a vanished file...) leaves storage as a
 *   KafkaError(KAFKA_STORAGE_ERROR) whose `cause` is the original errno error, so the caller (LogManager) can take
 *   the log dir offline while every other dir keeps serving. `storageError` does the wrapping and leaves errors that
 *   already are KafkaErrors untouched.
 * - `CorruptIndexError` is internal: an index file that fails its sanity check. It never escapes a segment, which
 *   rebuilds the index from the log instead of trusting it.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';

/** Wraps a file-system failure as KAFKA_STORAGE_ERROR (keeps KafkaErrors as they are). */
export function storageError(what: string, cause: unknown): KafkaError {
  if (cause instanceof KafkaError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${what}: ${code ? `${code}: ` : ''}${reason}`, { cause });
}

/** True for a KafkaError carrying KAFKA_STORAGE_ERROR. */
export function isStorageError(err: unknown): err is KafkaError {
  return err instanceof KafkaError && err.code === ErrorCode.KAFKA_STORAGE_ERROR;
}

/** The errno code of a Node file-system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  const cause = err instanceof KafkaError ? err.cause : err;
  return (cause as NodeJS.ErrnoException | undefined)?.code;
}

/** An index file failed its sanity check; the segment rebuilds it from the log. */
export class CorruptIndexError extends Error {
  override readonly name = 'CorruptIndexError';
  readonly file: string;

  constructor(file: string, reason: string) {
    super(`corrupt index ${file}: ${reason}`);
    this.file = file;
  }
}

/**
 * An append failed and its partial bytes could not be cut back: the segment may end in a torn batch (recovery
 * will cut it). The log must stop taking appends.
 */
export class PartialWriteError extends KafkaError {
  constructor(file: string, cause: unknown) {
    super(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `${file}: an append failed and its partial write could not be removed: ${(cause as Error).message}`,
      { cause },
    );
  }
}
