/**
 * Producer state of one partition log: what makes idempotent producers (KIP-98) exactly-once per partition. For
 * every producer id that wrote to the log it keeps the producer epoch, the sequence range, offsets and max timestamp
 * of its last 5 batches (a producer has at most 5 requests in flight per connection, so a retry can only repeat one
 * of those), and the timestamp of its last batch (for `producer.id.expiration.ms`).
 *
 * Leader appends are checked before anything is written (Kafka's rules, ProducerAppendInfo in Kafka 3.x/4.x):
 *   - a batch equal (epoch, first and last sequence) to a cached one is a duplicate: it is not appended again and
 *     the caller answers with the original offsets;
 *   - an epoch older than the known one: INVALID_PRODUCER_EPOCH;
 *   - a newer epoch must start at sequence 0, the same epoch at the sequence after the last one (2^31-1 wraps to 0);
 *     anything else: OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - a producer without state is accepted at any sequence. Kafka has done so since 2.5 (KIP-360): the state may be
 *     gone legitimately (retention or DeleteRecords removed its batches, or it expired), and refusing the next batch
 *     with UNKNOWN_PRODUCER_ID or OUT_OF_ORDER_SEQUENCE_NUMBER would make the client reset its sequences or fail,
 *     which for an idempotent producer re-sends what may already be stored.
 * A refused batch changes nothing. Batches of one append are checked in order against the state left by the ones
 * before them (`ProducerAppend`), and the state changes only when the caller commits after a successful write.
 * Follower appends and recovery apply stored batches without checks (`applyStored`), as Kafka does for replication.
 *
 * Snapshots: `takeSnapshot(offset)` stores the whole state as of log offset `offset` in a `ProducerSnapshotStore`
 * (files `<20-digit offset>.snapshot` in the partition dir; memory for MemoryLog). The log takes one at every
 * segment roll (named by the new segment's base offset) and at a clean close (at the log end). To rebuild the state
 * (at load, after a truncation) the log calls `reload(end)`, which drops snapshots above `end` and unreadable ones,
 * loads the newest remaining one and returns its offset; the log then feeds the batch headers from there to `end`
 * through `applyStored`. Applying a batch the state has already seen (offset below `mapEndOffset`) is a no-op, so a
 * scan may safely restart.
 *
 * Snapshot format, version 1 (big-endian):
 *     magic   "SPSN" (4 bytes: not a Kafka producer snapshot, which starts with its int16 version)
 *     int16   version (1)
 *     uint32  CRC-32C of every byte after this field
 *     int64   log offset the snapshot describes (the state after every batch below it)
 *     int32   producer count
 *     per producer: int64 producerId | int16 epoch | int64 lastTimestamp | int8 batch count (0..5)
 *       per batch, oldest first: int32 firstSeq | int32 lastSeq | int64 firstOffset | int64 lastOffset | int64 timestamp
 * A snapshot whose magic, version, CRC, offset or counts do not check out is unusable: `reload` logs it, removes it
 * and falls back to an older one (or to scanning the whole log), which loses nothing but time.
 *
 * Expiration: `removeExpired(now)` drops producers whose last batch timestamp is `producer.id.expiration.ms` or
 * more in the past (Kafka measures from the batch's max timestamp, not from the wall clock of the append). The log
 * calls it periodically and at the end of every rebuild, so a restart or truncation does not bring expired
 * producers back from an older snapshot.
 *
 * Concurrency: owned by one partition log and used from the event loop only.
 */
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { crc32c } from '../protocol/records/crc32c.js';
import type { AppendResult } from './types.js';

/** How many batches of each producer are kept for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN). */
export const PRODUCER_BATCHES_RETAINED = 5;
/** Kafka's default `producer.id.expiration.ms` (one day). */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

// Record batch v2 header fields this module reads.
const ATTRIBUTES_AT = 21;
const CONTROL_BIT = 0x20;
const LAST_OFFSET_DELTA_AT = 23;
const MAX_TIMESTAMP_AT = 35;
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const BASE_SEQUENCE_AT = 53;
const INT32_MAX = 0x7fffffff;

const SNAPSHOT_MAGIC = 0x5350534e; // "SPSN"
const SNAPSHOT_VERSION = 1;
const SNAPSHOT_HEADER = 4 + 2 + 4 + 8 + 4;
const CRC_FROM = 10;
const ENTRY_HEADER = 8 + 2 + 8 + 1;
const BATCH_SIZE = 4 + 4 + 8 + 8 + 8;

/** One cached batch of a producer. */
export interface ProducerBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  /** The batch's max timestamp as stored (the append time under LogAppendTime). */
  readonly timestamp: number;
}

/** What the log knows of one producer. Entries are replaced, never changed in place, once in the state. */
export interface ProducerEntry {
  readonly producerId: bigint;
  readonly epoch: number;
  /** Oldest first, at most PRODUCER_BATCHES_RETAINED. */
  readonly batches: readonly ProducerBatch[];
  /** Max timestamp of the last batch. */
  readonly lastTimestamp: number;
}

/** Where snapshots live: files in the partition dir, or memory. */
export interface ProducerSnapshotStore {
  /** Offsets of the stored snapshots, ascending. */
  offsets(): bigint[];
  /** The snapshot at `offset`, or null when it is gone. */
  read(offset: bigint): Buffer | null;
  write(offset: bigint, data: Buffer): void;
  remove(offset: bigint): void;
}

/** Snapshots kept in memory (MemoryLog, tests). */
export class MemorySnapshotStore implements ProducerSnapshotStore {
  private readonly snapshots = new Map<bigint, Buffer>();

  offsets(): bigint[] {
    return [...this.snapshots.keys()].sort(compareBigint);
  }

  read(offset: bigint): Buffer | null {
    return this.snapshots.get(offset) ?? null;
  }

  write(offset: bigint, data: Buffer): void {
    this.snapshots.set(offset, data);
  }

  remove(offset: bigint): void {
    this.snapshots.delete(offset);
  }
}

/** A snapshot that cannot be used (damaged, foreign or from another version). */
export class CorruptSnapshotError extends Error {
  override readonly name = 'CorruptSnapshotError';
}

export function nextSequence(seq: number): number {
  return seq === INT32_MAX ? 0 : seq + 1;
}

/** The sequence `delta` after `seq`, wrapping past 2^31-1 to 0 (Kafka's incrementSequence). */
export function addSequence(seq: number, delta: number): number {
  return seq > INT32_MAX - delta ? delta - (INT32_MAX - seq) - 1 : seq + delta;
}

/** Whether the batch whose header starts at `at` carries a producer id (one comparison: the id's sign). */
export function hasProducerId(buf: Buffer, at: number): boolean {
  return buf.readInt32BE(at + PRODUCER_ID_AT) >= 0;
}

/** A batch an append repeats: its offsets, so that the producer is answered as the first time. */
export interface DuplicateBatch {
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly timestamp: number;
}

/** What a leader append that repeats `dup` returns (both engines): the original batch's offsets, nothing written. */
export function duplicateAppendResult(
  dup: DuplicateBatch,
  logAppendTime: boolean,
  logStartOffset: bigint,
): AppendResult {
  const ts = BigInt(dup.timestamp);
  return {
    firstOffset: dup.firstOffset,
    lastOffset: dup.lastOffset,
    logAppendTime: logAppendTime ? ts : -1n,
    maxTimestamp: ts,
    offsetOfMaxTimestamp: dup.lastOffset,
    batchCount: 0,
    recordCount: 0,
    bytes: 0,
    logStartOffset,
    duplicate: true,
  };
}

/**
 * The entries one leader append would leave, staged while its batches are checked and applied by `commit` once the
 * write succeeded. An append carries one batch in practice, so a short array beats a map.
 */
export class ProducerAppend {
  readonly staged: ProducerEntry[] = [];

  find(producerId: bigint): ProducerEntry | undefined {
    for (let i = this.staged.length - 1; i >= 0; i--) {
      if (this.staged[i]!.producerId === producerId) return this.staged[i];
    }
    return undefined;
  }
}

export interface ProducerStateOptions {
  /** `producer.id.expiration.ms` */
  expirationMs?: number;
  logger?: Logger;
  /** For log lines: the partition dir or name. */
  name?: string;
}

export class ProducerStateManager {
  private producers = new Map<bigint, ProducerEntry>();
  /** The offset after the last batch applied: batches below it are already in the state. */
  private end = 0n;
  /** Whether the state changed since it was last loaded from or written to a snapshot at `end`. */
  private changed = false;
  private readonly store: ProducerSnapshotStore;
  private readonly logger: Logger;
  private readonly name: string;
  expirationMs: number;

  constructor(store: ProducerSnapshotStore, options: ProducerStateOptions = {}) {
    this.store = store;
    this.expirationMs = options.expirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    this.logger = options.logger ?? silentLogger;
    this.name = options.name ?? '';
  }

  /** Producers with state. */
  get size(): number {
    return this.producers.size;
  }

  /** The offset up to which batches are reflected in the state. */
  get mapEndOffset(): bigint {
    return this.end;
  }

  entry(producerId: bigint): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<ProducerEntry> {
    return this.producers.values();
  }

  /** Offsets of the stored snapshots, ascending. */
  snapshotOffsets(): bigint[] {
    return this.store.offsets();
  }

  // ---- leader appends ----

  /**
   * Checks the batch whose (offset-assigned) header starts at `buf[at]` and stages its effect in `append`. Returns
   * the cached batch it duplicates, or null when it is new; throws INVALID_PRODUCER_EPOCH or
   * OUT_OF_ORDER_SEQUENCE_NUMBER when it must be refused.
   */
  check(append: ProducerAppend, buf: Buffer, at: number): DuplicateBatch | null {
    const producerId = buf.readBigInt64BE(at + PRODUCER_ID_AT);
    const epoch = buf.readInt16BE(at + PRODUCER_EPOCH_AT);
    if ((buf.readInt16BE(at + ATTRIBUTES_AT) & CONTROL_BIT) !== 0) {
      // Transaction markers come from the coordinator, not the producer: no sequence to check (Kafka checks them
      // only against the coordinator's epoch, which arrives with transactions).
      append.staged.push(
        withMarker(append.find(producerId) ?? this.producers.get(producerId), producerId, epoch, buf, at),
      );
      return null;
    }
    const firstSeq = buf.readInt32BE(at + BASE_SEQUENCE_AT);
    const lastSeq = addSequence(firstSeq, buf.readInt32BE(at + LAST_OFFSET_DELTA_AT));
    const current = append.find(producerId) ?? this.producers.get(producerId);
    if (current !== undefined) {
      if (epoch === current.epoch) {
        for (const b of current.batches) {
          if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return b;
        }
      }
      if (epoch < current.epoch) {
        throw new KafkaError(
          ErrorCode.INVALID_PRODUCER_EPOCH,
          `Epoch of producer ${producerId} is ${epoch}, which is smaller than the last seen epoch ${current.epoch}`,
        );
      }
      if (epoch > current.epoch) {
        if (firstSeq !== 0) {
          throw new KafkaError(
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            `Invalid sequence number for new epoch ${epoch} of producer ${producerId}: ${firstSeq} (expected 0, current epoch ${current.epoch})`,
          );
        }
      } else {
        const last = current.batches.length > 0 ? current.batches[current.batches.length - 1]!.lastSeq : -1;
        if (firstSeq !== nextSequence(last)) {
          throw new KafkaError(
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            `Out of order sequence number for producer ${producerId}: ${firstSeq} (incoming seq. number), ${last} (current end sequence number)`,
          );
        }
      }
    }
    append.staged.push(withBatch(current, producerId, epoch, batchOf(buf, at, firstSeq, lastSeq)));
    return null;
  }

  /** Applies what `append` staged; `endOffset` is the log end after the write. */
  commit(append: ProducerAppend, endOffset: bigint): void {
    for (const e of append.staged) this.producers.set(e.producerId, e);
    this.end = endOffset;
    this.changed = true;
  }

  // ---- stored batches: follower appends and rebuilding ----

  /**
   * Applies a stored batch (header at `buf[at]`, offsets assigned) without checks; a batch below `mapEndOffset` is
   * already reflected and ignored. Batches without a producer id only move `mapEndOffset`.
   */
  applyStored(buf: Buffer, at: number): void {
    const baseOffset = buf.readBigInt64BE(at);
    if (baseOffset < this.end) return;
    const delta = buf.readInt32BE(at + LAST_OFFSET_DELTA_AT);
    this.end = baseOffset + BigInt(delta) + 1n;
    if (!hasProducerId(buf, at)) return;
    const producerId = buf.readBigInt64BE(at + PRODUCER_ID_AT);
    const epoch = buf.readInt16BE(at + PRODUCER_EPOCH_AT);
    this.changed = true;
    if ((buf.readInt16BE(at + ATTRIBUTES_AT) & CONTROL_BIT) !== 0) {
      this.producers.set(producerId, withMarker(this.producers.get(producerId), producerId, epoch, buf, at));
      return;
    }
    const firstSeq = buf.readInt32BE(at + BASE_SEQUENCE_AT);
    const batch = batchOf(buf, at, firstSeq, addSequence(firstSeq, delta));
    this.producers.set(producerId, withBatch(this.producers.get(producerId), producerId, epoch, batch));
  }

  /** Records that the log continues at `offset` with nothing in between (an empty log, a gap before a roll). */
  advanceTo(offset: bigint): void {
    if (offset > this.end) this.end = offset;
  }

  // ---- expiration ----

  /** Drops producers whose last batch is `expirationMs` or more before `now`; returns how many. */
  removeExpired(now: number): number {
    let removed = 0;
    for (const [id, e] of this.producers) {
      if (this.isExpired(e, now)) {
        this.producers.delete(id);
        removed++;
      }
    }
    if (removed > 0) this.changed = true;
    return removed;
  }

  private isExpired(e: ProducerEntry, now: number): boolean {
    return now - e.lastTimestamp >= this.expirationMs;
  }

  // ---- snapshots ----

  /**
   * Stores the state as of log offset `offset` (everything below it applied, nothing at or above), unless a
   * snapshot of this very state is already there. Returns whether one was written.
   */
  takeSnapshot(offset: bigint): boolean {
    this.advanceTo(offset);
    const offsets = this.store.offsets();
    if (!this.changed && offsets.length > 0 && offsets[offsets.length - 1] === offset) return false;
    this.store.write(offset, this.serialize(offset));
    this.changed = false;
    return true;
  }

  /** Removes the snapshots above `offset` (the log was cut there). */
  removeSnapshotsAbove(offset: bigint): void {
    for (const o of this.store.offsets()) if (o > offset) this.store.remove(o);
  }

  /**
   * Removes the snapshots below `offset` (the base of the oldest segment left after retention or DeleteRecords): no
   * rebuild can start below the data the log still holds.
   */
  removeSnapshotsBelow(offset: bigint): void {
    for (const o of this.store.offsets()) if (o < offset) this.store.remove(o);
  }

  /**
   * Keeps, besides the newest snapshot, only those at `keep` offsets (segment base offsets): a clean close's
   * snapshot inside a segment is useless once a newer one exists.
   */
  pruneSnapshots(keep: (offset: bigint) => boolean): void {
    const offsets = this.store.offsets();
    for (let i = 0; i < offsets.length - 1; i++) if (!keep(offsets[i]!)) this.store.remove(offsets[i]!);
  }

  /** Forgets everything, snapshots included (the log was emptied and restarts at `offset`). */
  clear(offset: bigint): void {
    for (const o of this.store.offsets()) this.store.remove(o);
    this.producers = new Map();
    this.end = offset;
    this.changed = false;
  }

  /**
   * Starts rebuilding the state for a log ending at `logEnd`: snapshots above it are removed, the newest readable
   * one is loaded and its offset returned: the caller applies every stored batch from there to the end (and then
   * drops the producers expired by now, so that the result depends only on the log and the clock, not on which
   * snapshot was used). Null when no snapshot could be used: the state is empty and the caller applies the whole log.
   */
  reload(logEnd: bigint): bigint | null {
    this.removeSnapshotsAbove(logEnd);
    this.producers = new Map();
    this.end = 0n;
    this.changed = true;
    const offsets = this.store.offsets();
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i]!;
      try {
        const data = this.store.read(offset);
        if (data === null) continue;
        for (const e of parseSnapshot(data, offset)) this.producers.set(e.producerId, e);
        this.end = offset;
        this.changed = false;
        return offset;
      } catch (err) {
        if (!(err instanceof CorruptSnapshotError)) throw err;
        this.logger.warn(
          { log: this.name, snapshot: String(offset), err: err.message },
          'unusable producer snapshot removed; producer state is rebuilt from older data',
        );
        this.producers = new Map();
        this.store.remove(offset);
      }
    }
    return null;
  }

  private serialize(offset: bigint): Buffer {
    let size = SNAPSHOT_HEADER;
    for (const e of this.producers.values()) size += ENTRY_HEADER + e.batches.length * BATCH_SIZE;
    const buf = Buffer.allocUnsafe(size);
    buf.writeUInt32BE(SNAPSHOT_MAGIC, 0);
    buf.writeInt16BE(SNAPSHOT_VERSION, 4);
    buf.writeBigInt64BE(offset, 10);
    buf.writeInt32BE(this.producers.size, 18);
    let at = SNAPSHOT_HEADER;
    for (const e of this.producers.values()) {
      buf.writeBigInt64BE(e.producerId, at);
      buf.writeInt16BE(e.epoch, at + 8);
      buf.writeBigInt64BE(BigInt(e.lastTimestamp), at + 10);
      buf.writeInt8(e.batches.length, at + 18);
      at += ENTRY_HEADER;
      for (const b of e.batches) {
        buf.writeInt32BE(b.firstSeq, at);
        buf.writeInt32BE(b.lastSeq, at + 4);
        buf.writeBigInt64BE(b.firstOffset, at + 8);
        buf.writeBigInt64BE(b.lastOffset, at + 16);
        buf.writeBigInt64BE(BigInt(b.timestamp), at + 24);
        at += BATCH_SIZE;
      }
    }
    buf.writeUInt32BE(crc32c(buf.subarray(CRC_FROM)), 6);
    return buf;
  }
}

/** Parses a snapshot taken at `offset`; throws CorruptSnapshotError when it cannot be trusted. */
export function parseSnapshot(buf: Buffer, offset: bigint): ProducerEntry[] {
  if (buf.length < SNAPSHOT_HEADER) throw new CorruptSnapshotError(`${buf.length} bytes, too short for a snapshot`);
  if (buf.readUInt32BE(0) !== SNAPSHOT_MAGIC) throw new CorruptSnapshotError('not a samsa producer snapshot');
  const version = buf.readInt16BE(4);
  if (version !== SNAPSHOT_VERSION) throw new CorruptSnapshotError(`unsupported snapshot version ${version}`);
  const crc = crc32c(buf.subarray(CRC_FROM));
  if (crc !== buf.readUInt32BE(6)) throw new CorruptSnapshotError('CRC-32C mismatch');
  const at0 = buf.readBigInt64BE(10);
  if (at0 !== offset) throw new CorruptSnapshotError(`describes offset ${at0}, named for ${offset}`);
  const count = buf.readInt32BE(18);
  if (count < 0 || count > (buf.length - SNAPSHOT_HEADER) / ENTRY_HEADER) {
    throw new CorruptSnapshotError(`producer count ${count} does not fit ${buf.length} bytes`);
  }
  const entries: ProducerEntry[] = [];
  let at = SNAPSHOT_HEADER;
  for (let i = 0; i < count; i++) {
    if (buf.length - at < ENTRY_HEADER) throw new CorruptSnapshotError(`entry ${i} cut short`);
    const producerId = buf.readBigInt64BE(at);
    const epoch = buf.readInt16BE(at + 8);
    const lastTimestamp = Number(buf.readBigInt64BE(at + 10));
    const n = buf.readInt8(at + 18);
    at += ENTRY_HEADER;
    if (producerId < 0n || n < 0 || n > PRODUCER_BATCHES_RETAINED || buf.length - at < n * BATCH_SIZE) {
      throw new CorruptSnapshotError(`entry ${i} (producer ${producerId}, ${n} batches) is invalid`);
    }
    const batches: ProducerBatch[] = [];
    for (let k = 0; k < n; k++) {
      batches.push({
        firstSeq: buf.readInt32BE(at),
        lastSeq: buf.readInt32BE(at + 4),
        firstOffset: buf.readBigInt64BE(at + 8),
        lastOffset: buf.readBigInt64BE(at + 16),
        timestamp: Number(buf.readBigInt64BE(at + 24)),
      });
      at += BATCH_SIZE;
    }
    entries.push({ producerId, epoch, batches, lastTimestamp });
  }
  if (at !== buf.length) throw new CorruptSnapshotError(`${buf.length - at} bytes after the last entry`);
  return entries;
}

function batchOf(buf: Buffer, at: number, firstSeq: number, lastSeq: number): ProducerBatch {
  const firstOffset = buf.readBigInt64BE(at);
  return {
    firstSeq,
    lastSeq,
    firstOffset,
    lastOffset: firstOffset + BigInt(buf.readInt32BE(at + LAST_OFFSET_DELTA_AT)),
    timestamp: Number(buf.readBigInt64BE(at + MAX_TIMESTAMP_AT)),
  };
}

/** The entry after `batch`: a new epoch starts an empty batch cache (Kafka's rule), the same epoch keeps the last 4. */
function withBatch(
  current: ProducerEntry | undefined,
  producerId: bigint,
  epoch: number,
  batch: ProducerBatch,
): ProducerEntry {
  let batches: ProducerBatch[];
  if (current === undefined || current.epoch !== epoch) {
    batches = [batch];
  } else {
    const kept = current.batches;
    const from = kept.length >= PRODUCER_BATCHES_RETAINED ? kept.length - PRODUCER_BATCHES_RETAINED + 1 : 0;
    batches = kept.slice(from);
    batches.push(batch);
  }
  return { producerId, epoch, batches, lastTimestamp: batch.timestamp };
}

/** The entry after a transaction marker: its epoch becomes current (a new one empties the cache), no batch added. */
function withMarker(
  current: ProducerEntry | undefined,
  producerId: bigint,
  epoch: number,
  buf: Buffer,
  at: number,
): ProducerEntry {
  const batches = current !== undefined && current.epoch === epoch ? current.batches : [];
  return { producerId, epoch, batches, lastTimestamp: Number(buf.readBigInt64BE(at + MAX_TIMESTAMP_AT)) };
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
