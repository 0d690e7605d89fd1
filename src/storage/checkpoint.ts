/**
 * Kafka's checkpoint text files, as found in every log dir and partition dir.
 *
 * File format (a fact of Kafka's on-disk layout, kept byte for byte so a Kafka log dir can be read and vice versa):
 *
 *     <version>\n          line 1: format version, "0" for every file here
 *     <count>\n            line 2: number of entries that follow
 *     <field> <field>...\n one entry per line, fields separated by a single space
 *
 * Two log-dir-level files use it with entries `<topic> <partition> <offset>`: `recovery-point-offset-checkpoint`
 * and `log-start-offset-checkpoint`; the per-partition `leader-epoch-checkpoint` uses `<epoch> <startOffset>`
 * (see leader-epoch-cache.ts).
 *
 * Writing is atomic and durable: the content goes to `<path>.tmp`, which is fsynced, renamed over `<path>`, and then
 * the directory is fsynced so the rename itself survives a power loss. After a crash at any point a reader sees
 * either the complete old file or the complete new one; a leftover `<path>.tmp` is never read and is overwritten by
 * the next write.
 *
 * Reading validates the version, the count and every entry and throws `CorruptCheckpointError` on anything
 * malformed. A missing file reads as `null`. An empty (zero-byte) file reads as no entries, as in Kafka: it is what
 * a file system without ordered metadata may leave after a crash, and every caller can rebuild what it lost (the
 * recovery point by scanning, the epochs from batch headers).
 *
 * Concurrency: all calls are synchronous; two writers of the same path must not run at the same time (they would
 * share the `.tmp` file). Callers own one file each, and the event loop serialises them.
 */
import * as fs from 'node:fs';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { DurableWriteError, writeFileDurably } from './durable-file.js';

/** The only checkpoint version Kafka writes for these files. */
export const CHECKPOINT_VERSION = 0;

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';

/** An I/O failure while reading or writing a checkpoint file (KAFKA_STORAGE_ERROR; the errno error is the cause). */
export class CheckpointError extends KafkaError {
  readonly path: string;

  constructor(path: string, message: string, options?: ErrorOptions) {
    super(ErrorCode.KAFKA_STORAGE_ERROR, message, options);
    this.path = path;
  }
}

/** A checkpoint file whose content does not follow the format (KAFKA_STORAGE_ERROR). */
export class CorruptCheckpointError extends CheckpointError {
  /** 1-based line number of the offending line, or 0 when the problem is the file as a whole. */
  readonly line: number;

  constructor(path: string, line: number, reason: string, options?: ErrorOptions) {
    super(path, `Malformed checkpoint file ${path}${line > 0 ? ` at line ${line}` : ''}: ${reason}`, options);
    this.line = line;
  }
}

const INTEGER = /^-?[0-9]+$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Splits an entry line into exactly `count` space-separated fields; throws (with a reason) otherwise. */
export function splitFields(line: string, count: number): string[] {
  const fields = line.split(' ');
  if (fields.length !== count || fields.some((f) => f.length === 0)) {
    throw new Error(`expected ${count} fields separated by single spaces, got ${JSON.stringify(line)}`);
  }
  return fields;
}

/** Parses a decimal int32 field; throws (with a reason) when it is not one or is below `min`. */
export function parseInt32Field(text: string, what: string, min = INT32_MIN): number {
  if (!INTEGER.test(text)) throw new Error(`${what} is not an integer: ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > INT32_MAX) throw new Error(`${what} out of range: ${text}`);
  return value;
}

/** Parses a decimal int64 field; throws (with a reason) when it is not one or is below `min`. */
export function parseInt64Field(text: string, what: string, min = INT64_MIN): bigint {
  if (!INTEGER.test(text)) throw new Error(`${what} is not an integer: ${JSON.stringify(text)}`);
  const value = BigInt(text);
  if (value < min || value > INT64_MAX) throw new Error(`${what} out of range: ${text}`);
  return value;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads a checkpoint file. `parseLine` turns one entry line (without its newline) into a value and throws on a
 * malformed line; its error becomes a `CorruptCheckpointError` naming the line. Returns null when the file does not
 * exist. Throws `CorruptCheckpointError` for malformed content and `CheckpointError` for other I/O failures.
 */
export function readCheckpoint<T>(
  path: string,
  parseLine: (line: string) => T,
  expectedVersion: number = CHECKPOINT_VERSION,
): T[] | null {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw new CheckpointError(path, `Cannot read checkpoint file ${path}: ${describe(err)}`, { cause: err });
  }
  if (text.length === 0) return [];

  const lines = text.split('\n');
  // A well-formed file ends with a newline, leaving one empty string after the split; tolerate its absence.
  if (lines[lines.length - 1] === '') lines.pop();

  const versionText = lines[0] ?? '';
  if (!INTEGER.test(versionText)) {
    throw new CorruptCheckpointError(path, 1, `version is not an integer: ${JSON.stringify(versionText)}`);
  }
  if (Number(versionText) !== expectedVersion) {
    throw new CorruptCheckpointError(path, 1, `unsupported version ${versionText} (expected ${expectedVersion})`);
  }

  const countText = lines[1];
  if (countText === undefined) throw new CorruptCheckpointError(path, 2, 'missing entry count');
  if (!/^[0-9]+$/.test(countText)) {
    throw new CorruptCheckpointError(
      path,
      2,
      `entry count is not a non-negative integer: ${JSON.stringify(countText)}`,
    );
  }
  const count = Number(countText);
  const actual = lines.length - 2;
  if (actual !== count) {
    throw new CorruptCheckpointError(path, 0, `header announces ${count} entries but the file holds ${actual} lines`);
  }

  const entries: T[] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    try {
      entries.push(parseLine(line));
    } catch (err) {
      throw new CorruptCheckpointError(path, i + 1, describe(err), { cause: err });
    }
  }
  return entries;
}

/**
 * Writes a checkpoint file atomically and durably (see the module comment). `lines` are the entry lines without
 * newlines. Throws `CheckpointError` on an I/O failure, in which case `path` still holds its previous content.
 */
export function writeCheckpoint(path: string, version: number, lines: readonly string[]): void {
  if (!Number.isInteger(version) || version < 0) throw new RangeError(`invalid checkpoint version ${version}`);
  for (const line of lines) {
    if (line.length === 0 || line.includes('\n') || line.includes('\r')) {
      throw new RangeError(`invalid checkpoint entry ${JSON.stringify(line)}`);
    }
  }
  const content = `${version}\n${lines.length}\n${lines.length > 0 ? `${lines.join('\n')}\n` : ''}`;
  try {
    writeFileDurably(path, content);
  } catch (err) {
    if (!(err instanceof DurableWriteError)) throw err;
    throw new CheckpointError(path, `Cannot ${err.stage} checkpoint file ${path}: ${describe(err.cause)}`, {
      cause: err.cause,
    });
  }
}

/** A topic partition as written in the log-dir-level offset checkpoints. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * The key used in the offset checkpoint maps: `<topic>-<partition>`, the same as the partition's directory name.
 * Topic names may contain '-', so split with `parsePartitionKey` (which splits at the last '-').
 */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Inverse of `partitionKey`. Throws RangeError on a key that is not `<topic>-<non-negative int>`. */
export function parsePartitionKey(key: string): TopicPartition {
  const dash = key.lastIndexOf('-');
  const partitionText = key.slice(dash + 1);
  if (dash <= 0 || !/^[0-9]+$/.test(partitionText) || Number(partitionText) > INT32_MAX) {
    throw new RangeError(`not a topic-partition key: ${JSON.stringify(key)}`);
  }
  return { topic: key.slice(0, dash), partition: Number(partitionText) };
}

function checkTopic(topic: string): void {
  if (topic.length === 0 || /\s/.test(topic)) throw new RangeError(`invalid topic name ${JSON.stringify(topic)}`);
}

/**
 * Reads `recovery-point-offset-checkpoint` or `log-start-offset-checkpoint`: a map from `partitionKey(topic,
 * partition)` to offset. A missing file reads as an empty map. Should a key appear twice, the last line wins (as
 * in Kafka, which never writes duplicates). Throws `CorruptCheckpointError` / `CheckpointError` as readCheckpoint.
 */
export function readOffsetCheckpoint(path: string): Map<string, bigint> {
  const entries = readCheckpoint(path, (line) => {
    const [topic, partitionText, offsetText] = splitFields(line, 3) as [string, string, string];
    const partition = parseInt32Field(partitionText, 'partition', 0);
    const offset = parseInt64Field(offsetText, 'offset');
    return [partitionKey(topic, partition), offset] as const;
  });
  return new Map(entries ?? []);
}

/**
 * Writes an offset checkpoint atomically (see writeCheckpoint). Keys are `partitionKey(topic, partition)`.
 * Throws RangeError on an invalid key or an offset outside int64, CheckpointError on I/O failure.
 */
export function writeOffsetCheckpoint(path: string, entries: ReadonlyMap<string, bigint>): void {
  const lines: string[] = [];
  for (const [key, offset] of entries) {
    const { topic, partition } = parsePartitionKey(key);
    checkTopic(topic);
    if (offset < INT64_MIN || offset > INT64_MAX) throw new RangeError(`offset out of int64 range: ${offset}`);
    lines.push(`${topic} ${partition} ${offset}`);
  }
  writeCheckpoint(path, CHECKPOINT_VERSION, lines);
}
