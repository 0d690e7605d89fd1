/**
 * The group coordinator's persistence over the `__consumer_offsets` topic, and the loading of groups from it.
 *
 * Format: each `GroupPersistence` call becomes one uncompressed record batch (magic 2, no producer id, every
 * timestamp = now) of Kafka's own key/value records (`offsets-topic-records.ts`), appended as leader to partition
 * abs(hash(groupId)) % numPartitions: a group's records all land in one partition, in the order they were written.
 * A tombstone (null value) deletes an offset or a group; compaction (cleanup.policy=compact) keeps the last value
 * per key.
 *
 * Durability and errors: an append is acknowledged after the local append, and after its fsync when the topic has
 * `samsa.flush.before.ack`. A failure rejects with a `KafkaError` carrying the append's code
 * (NOT_LEADER_OR_FOLLOWER when the partition is not led here, UNKNOWN_TOPIC_OR_PARTITION when the topic does not
 * exist, MESSAGE_TOO_LARGE, KAFKA_STORAGE_ERROR...), which the coordinator maps to what clients see
 * (`store-errors.ts`). With replicas (cluster mode) a write is done once the ISR has it, as Kafka appends with
 * acks=all: `awaitReplicated` waits for the high watermark to pass the batch, so a commit acknowledged to a
 * client survives the loss of the coordinator's broker.
 *
 * Loading (`loadGroupsFromOffsetsTopic`) reads every partition led here from its log start to the high watermark in
 * bounded chunks, keeps the last value per key (tombstones delete) and hands each group to the coordinator. The
 * records come from disk and are untrusted: a batch or record that does not decode is logged as a warning and
 * skipped, never fatal; an unreadable partition is logged and its groups start empty.
 *
 * The topic is created on first use (the first write), as Kafka creates it on the first FindCoordinator: writes
 * made while it is being created wait for it, in call order.
 *
 * Concurrency: single-threaded. Once the topic exists, the append of each write happens synchronously in the call
 * (before the first `await`), so writes are persisted in call order, as `GroupPersistence` requires. The module
 * knows nothing of the broker: it reaches the topic through the small `OffsetsTopicAccess` interface, resolved on
 * every call (so the store may be created before the topic exists).
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { GroupMetadataValue } from '../../protocol/generated/data/group-metadata-value.js';
import { groupPartition } from '../../protocol/hash.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../protocol/records/index.js';
import type { AppendResult, ReadOptions, ReadResult } from '../../storage/types.js';
import { type ConsumerGroupRecord, encodeConsumerGroupRecord } from './consumer/records.js';
import {
  applyConsumerGroupRecord,
  type ConsumerGroupSnapshot,
  emptySnapshot,
  isLiveSnapshot,
} from './consumer/restore.js';
import type { GroupLogger } from './context.js';
import type { GroupCoordinator } from './group-coordinator.js';
import {
  decodeOffsetsTopicRecord,
  type EncodedRecord,
  groupMetadataRecord,
  offsetCommitRecord,
} from './offsets-topic-records.js';
import type { GroupPersistence, StoredOffset, TopicPartition } from './types.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** One partition of `__consumer_offsets` as the store needs it (the broker's `Partition` fits). */
export interface OffsetsTopicPartition {
  readonly isLeader: boolean;
  readonly highWatermark: bigint;
  /** May throw KAFKA_STORAGE_ERROR when the partition's log dir is offline. */
  readonly log: { readonly logStartOffset: bigint; readonly flushBeforeAck: boolean; flush(): Promise<void> };
  appendAsLeader(records: Buffer, now: number): AppendResult;
  read(offset: bigint, options: ReadOptions): ReadResult;
}

/** How the store reaches the topic; every member is consulted at each call. */
export interface OffsetsTopicAccess<P extends OffsetsTopicPartition = OffsetsTopicPartition> {
  /** The topic's partition count; 0 while it does not exist. */
  readonly numPartitions: number;
  /** The partition hosted here, or undefined. */
  partitionFor(index: number): P | undefined;
  /** Tells waiters (long-poll fetches, acks=all produces) that the partition has new data. */
  dataChanged(partition: P): void;
  /**
   * Creates the topic when it does not exist (idempotent; concurrent calls may share one creation). Without it,
   * writes before the topic exists fail with UNKNOWN_TOPIC_OR_PARTITION.
   */
  ensureTopic?(): Promise<void>;
  /**
   * Resolves once the partition's high watermark passes `lastOffset` (the ISR has the batch); rejects with a
   * KafkaError (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS) when that does not happen in time. Absent: done at append.
   */
  awaitReplicated?(partition: P, lastOffset: bigint): Promise<void>;
}

export interface OffsetsTopicStoreOptions {
  /** Wall clock for record timestamps; default Date.now. */
  now?: () => number;
}

export class OffsetsTopicStore<P extends OffsetsTopicPartition = OffsetsTopicPartition> implements GroupPersistence {
  private readonly now: () => number;
  /** While the topic is being created: the creation, behind which writes queue in call order. */
  private creation: Promise<void> | null = null;
  private queued = 0;

  constructor(
    private readonly topic: OffsetsTopicAccess<P>,
    options: OffsetsTopicStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The `__consumer_offsets` partition of a group; -1 while the topic does not exist. */
  partitionOf(groupId: string): number {
    const n = this.topic.numPartitions;
    return n > 0 ? groupPartition(groupId, n) : -1;
  }

  storeGroup(groupId: string, value: GroupMetadataValue | null): Promise<void> {
    return this.write(groupId, [groupMetadataRecord(groupId, value)]);
  }

  storeOffsets(groupId: string, offsets: readonly StoredOffset[]): Promise<void> {
    return this.write(
      groupId,
      offsets.map((o) => offsetCommitRecord(groupId, o.topic, o.partition, o.value)),
    );
  }

  storeConsumerGroupRecords(groupId: string, records: readonly ConsumerGroupRecord[]): Promise<void> {
    return this.write(groupId, records.map(encodeConsumerGroupRecord));
  }

  removeOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<void> {
    return this.write(
      groupId,
      partitions.map((tp) => offsetCommitRecord(groupId, tp.topic, tp.partition, null)),
    );
  }

  private write(groupId: string, records: readonly EncodedRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const ensure = this.topic.ensureTopic;
    if (this.creation === null && (this.topic.numPartitions > 0 || ensure === undefined)) {
      return this.append(groupId, records);
    }
    // First use: create the topic, queueing the writes meanwhile. Reactions to one promise run in the order they
    // were registered, so the appends keep call order; a write arriving while they drain queues behind them too.
    if (this.creation === null) {
      this.creation = ensure!.call(this.topic).catch((err: unknown) => {
        throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot create ${OFFSETS_TOPIC}: ${message(err)}`, {
          cause: err,
        });
      });
    }
    this.queued++;
    const done = () => {
      if (--this.queued === 0) this.creation = null;
    };
    return this.creation.then(
      () => {
        done();
        return this.append(groupId, records);
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  }

  /** Appends `records` as one batch now (synchronously), then awaits the fsync when the topic asks for it. */
  private append(groupId: string, records: readonly EncodedRecord[]): Promise<void> {
    let flush: Promise<void> | null = null;
    let replicated: Promise<void> | null = null;
    try {
      const index = this.partitionOf(groupId);
      if (index < 0) {
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${OFFSETS_TOPIC} does not exist`);
      }
      const partition = this.topic.partitionFor(index);
      if (partition === undefined || !partition.isLeader) {
        throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `${OFFSETS_TOPIC}-${index} is not led by this broker`);
      }
      const now = this.now();
      const batch = encodeRecordBatch({
        compression: 0,
        baseTimestamp: BigInt(now),
        records: records.map((r) => ({ key: r.key, value: r.value })),
      });
      const appended = partition.appendAsLeader(batch, now);
      this.topic.dataChanged(partition);
      if (partition.log.flushBeforeAck) flush = partition.log.flush();
      if (this.topic.awaitReplicated !== undefined && partition.highWatermark <= appended.lastOffset) {
        replicated = this.topic.awaitReplicated(partition, appended.lastOffset);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (flush === null) return replicated ?? Promise.resolve();
    const flushed = flush.catch((err: unknown) => {
      // The batch is in the page cache but not durable: the write does not count as done.
      if (err instanceof KafkaError) throw err;
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `flush of ${OFFSETS_TOPIC} failed`, { cause: err });
    });
    return replicated === null ? flushed : Promise.all([flushed, replicated]).then(() => undefined);
  }
}

// ---- loading ------------------------------------------------------------------------------------------------------

/** What loading needs of the coordinator. */
export type GroupLoadTarget = Pick<GroupCoordinator, 'beginLoading' | 'load' | 'loadConsumerGroup' | 'completeLoading'>;

export interface LoadOptions {
  /** Bytes per read (whole batches; a larger single batch is still returned whole). Default 1 MiB. */
  chunkBytes?: number;
}

export interface LoadSummary {
  /** Partitions read (led here). */
  partitions: number;
  batches: number;
  records: number;
  /** Batches and records that did not decode (each logged). */
  skipped: number;
  /** Groups handed to the coordinator (with metadata, offsets, or both). */
  groups: number;
  /** Offsets handed to the coordinator. */
  offsets: number;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Where an entry's magic byte is (after offset, length and the v2 epoch / v0-v1 crc). */
const MAGIC_POS = 16;
/** Where a v2 batch's lastOffsetDelta is. */
const LAST_OFFSET_DELTA_POS = 23;
/** The smallest entry: a v0 message without key and value (12 + 14 bytes); a v2 batch is at least 61. */
const MIN_ENTRY = 26;
const MIN_V2_BATCH = 61;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface LoadedGroup {
  /** undefined: no metadata record seen; null: a tombstone was last. */
  value: GroupMetadataValue | null | undefined;
  /** KIP-848 records, when the group has any. */
  consumer: ConsumerGroupSnapshot | undefined;
  /** By `<partition>:<topic>`. */
  offsets: Map<string, StoredOffset>;
}

/**
 * Rebuilds the coordinator's groups from `__consumer_offsets`: beginLoading, one `load` per group found, then
 * completeLoading (also when reading fails half-way).
 */
export async function loadGroupsFromOffsetsTopic(
  coordinator: GroupLoadTarget,
  topic: OffsetsTopicAccess,
  log: GroupLogger,
  options: LoadOptions = {},
): Promise<LoadSummary> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const summary: LoadSummary = { partitions: 0, batches: 0, records: 0, skipped: 0, groups: 0, offsets: 0 };
  const groups = new Map<string, LoadedGroup>();
  coordinator.beginLoading();
  try {
    const n = topic.numPartitions;
    for (let index = 0; index < n; index++) {
      const partition = topic.partitionFor(index);
      if (partition === undefined || !partition.isLeader) continue;
      summary.partitions++;
      try {
        await readPartition(partition, `${OFFSETS_TOPIC}-${index}`, chunkBytes, groups, summary, log);
      } catch (err) {
        log.error(`cannot read ${OFFSETS_TOPIC}-${index}, its groups start empty: ${message(err)}`);
      }
    }
    for (const [groupId, g] of groups) {
      const offsets = [...g.offsets.values()];
      const consumer = g.consumer !== undefined && isLiveSnapshot(g.consumer) ? g.consumer : null;
      if ((g.value ?? null) === null && consumer === null && offsets.length === 0) continue;
      try {
        if (consumer !== null) coordinator.loadConsumerGroup(groupId, consumer, offsets);
        else coordinator.load(groupId, g.value ?? null, offsets);
        summary.groups++;
        summary.offsets += offsets.length;
      } catch (err) {
        log.warn(`group ${JSON.stringify(groupId)} from ${OFFSETS_TOPIC} not loaded: ${message(err)}`);
      }
    }
  } finally {
    coordinator.completeLoading();
  }
  return summary;
}

async function readPartition(
  partition: OffsetsTopicPartition,
  where: string,
  chunkBytes: number,
  groups: Map<string, LoadedGroup>,
  summary: LoadSummary,
  log: GroupLogger,
): Promise<void> {
  let offset = partition.log.logStartOffset;
  const end = partition.highWatermark;
  while (offset < end) {
    const { records: buf } = partition.read(offset, { maxBytes: chunkBytes, maxOffset: end });
    let pos = 0;
    let next = offset;
    // Batch by batch, so that one bad batch costs only itself.
    while (pos + MAGIC_POS + 1 <= buf.length) {
      const size = 12 + buf.readInt32BE(pos + 8);
      if (size < MIN_ENTRY || pos + size > buf.length) break;
      const base = buf.readBigInt64BE(pos);
      // v2: base offset + last offset delta; v0/v1: an entry's offset is its (last) record's.
      const v2 = buf.readInt8(pos + MAGIC_POS) === 2 && size >= MIN_V2_BATCH;
      const last = v2 ? base + BigInt(buf.readInt32BE(pos + LAST_OFFSET_DELTA_POS)) : base;
      applyBatch(buf.subarray(pos, pos + size), base, where, groups, summary, log);
      if (last + 1n > next) next = last + 1n;
      pos += size;
    }
    if (next <= offset) {
      log.warn(`${where}: no readable batch at offset ${offset}, the rest of the partition is skipped`);
      summary.skipped++;
      return;
    }
    offset = next;
    // Let the event loop breathe between chunks of a large topic.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function applyBatch(
  bytes: Buffer,
  base: bigint,
  where: string,
  groups: Map<string, LoadedGroup>,
  summary: LoadSummary,
  log: GroupLogger,
): void {
  let batches: ReturnType<typeof decodeRecordBatches>;
  try {
    batches = decodeRecordBatches(bytes, { allowPartialTail: false });
  } catch (err) {
    log.warn(`${where}: skipping undecodable batch at offset ${base}: ${message(err)}`);
    summary.skipped++;
    return;
  }
  for (const batch of batches) {
    summary.batches++;
    // Transaction markers; transactional offset commits arrive with the transaction coordinator.
    if (batch.isControl) continue;
    for (const record of batch.records) {
      summary.records++;
      if (record.key === null) {
        log.warn(`${where}: skipping record without a key at offset ${record.offset}`);
        summary.skipped++;
        continue;
      }
      let decoded: ReturnType<typeof decodeOffsetsTopicRecord>;
      try {
        decoded = decodeOffsetsTopicRecord(record.key, record.value);
      } catch (err) {
        log.warn(`${where}: skipping undecodable record at offset ${record.offset}: ${message(err)}`);
        summary.skipped++;
        continue;
      }
      if (decoded === null) continue; // a record type this broker does not use (share and streams groups)
      let g = groups.get(decoded.group);
      if (g === undefined) {
        g = { value: undefined, consumer: undefined, offsets: new Map() };
        groups.set(decoded.group, g);
      }
      if (decoded.kind === 'group') {
        g.value = decoded.value;
        continue;
      }
      if (decoded.kind === 'consumer') {
        g.consumer ??= emptySnapshot();
        applyConsumerGroupRecord(g.consumer, decoded.record);
        continue;
      }
      const key = `${decoded.partition}:${decoded.topic}`;
      if (decoded.value === null) g.offsets.delete(key);
      else g.offsets.set(key, { topic: decoded.topic, partition: decoded.partition, value: decoded.value });
    }
  }
}
