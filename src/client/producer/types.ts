/**
 * The producer's public shapes: its options, the records it takes and the delivery reports it gives back.
 */
import type { Serializer } from '../serde.js';

/** 0: no answer; 1: the leader wrote it; -1 / 'all': every in-sync replica has it. */
export type Acks = 0 | 1 | -1 | 'all';

export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export type HeaderValue = Buffer | string | null;

/**
 * Record headers: a list (order and repeated names kept as given) or an object, where an array value repeats the
 * name once per element and an undefined value is left out.
 */
export type RecordHeaders =
  | readonly { key: string; value: HeaderValue }[]
  | Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>;

export interface ProducerRecord<K = Buffer | null, V = Buffer | null> {
  topic: string;
  /** Absent means a null key. */
  key?: K;
  value: V;
  headers?: RecordHeaders;
  /** Sends to this partition instead of asking the partitioner. */
  partition?: number;
  /** Create time in ms (default: when `send` is called). Topics with LogAppendTime replace it with the broker's. */
  timestamp?: number | bigint | Date;
}

export interface DeliveryReport {
  topic: string;
  partition: number;
  /** The record's offset; -1n with acks=0, where the broker does not answer. */
  offset: bigint;
  /** The record's timestamp in ms: its create time, or the broker's append time on LogAppendTime topics. */
  timestamp: number;
  /** The partition's log start offset when the record was written, as the broker reported it (-1n when unknown). */
  logStartOffset: bigint;
}

/** What a custom partitioner is told about a record. */
export interface PartitionerContext {
  topic: string;
  /** The serialized key. */
  key: Buffer | null;
  /** All partitions are 0 .. partitionCount - 1. */
  partitionCount: number;
  /** Partitions that have a leader right now. */
  availablePartitions: readonly number[];
}

/**
 * - 'default': the Java client's: murmur2 of the key for keyed records; null keys stick to one available partition
 *   until its batch is sent, then move to another (KIP-480).
 * - 'murmur2_random': librdkafka's default: murmur2 for keyed records, a random partition per null-key record.
 * - 'round-robin': the Java RoundRobinPartitioner: every record (keyed or not) to the next available partition.
 * - a function: returns the partition for a record.
 */
export type Partitioner = 'default' | 'murmur2_random' | 'round-robin' | ((context: PartitionerContext) => number);

export interface ProducerOptions<K = Buffer | null, V = Buffer | null> {
  /** "host:port" of one or more brokers. */
  bootstrapServers: readonly string[];
  clientId?: string;
  /** Default -1 ('all'). */
  acks?: Acks;
  /** How long a partition's batch waits for more records before it is sent. Default 5. */
  lingerMs?: number;
  /** Upper bound of one batch in bytes (compressed batches hold about this much compressed data). Default 16384. */
  batchSize?: number;
  /** Default 'none'. */
  compression?: CompressionType;
  /** Level for gzip (1-9) and zstd (1-22); the codec's default when absent. */
  compressionLevel?: number;
  /** Produce requests waiting for an answer per broker connection. Default 5. */
  maxInFlightRequestsPerConnection?: number;
  /**
   * Idempotence (KIP-98): the producer gets a producer id from the cluster and numbers each partition's batches, so
   * the broker writes every batch once and in order however often it is resent, and up to 5 batches per partition
   * can be in flight without reordering. Default: on when acks is 'all', retries is above 0 and
   * maxInFlightRequestsPerConnection is at most 5 (Kafka's rules), and off otherwise or when the broker has no
   * InitProducerId; `true` insists (an error for other settings or such a broker), `false` turns it off.
   */
  enableIdempotence?: boolean;
  /** Retries of a batch after retriable errors, within deliveryTimeoutMs. Default: unbounded. */
  retries?: number;
  /** First wait before a retry, doubled each time up to retryBackoffMaxMs. Default 100. */
  retryBackoffMs?: number;
  /** Default 1000. */
  retryBackoffMaxMs?: number;
  /** How long a Produce request may wait for its answer (also the broker's wait for acks=all). Default 30000. */
  requestTimeoutMs?: number;
  /**
   * Upper bound on the time from `send` until the record is acknowledged or fails, retries included.
   * Default 120000; must be at least lingerMs + requestTimeoutMs.
   */
  deliveryTimeoutMs?: number;
  /** How long records of a topic wait for its metadata (e.g. while it is auto-created). Default 60000. */
  maxBlockMs?: number;
  /** Largest Produce request, and so largest record. Default 1048576. */
  maxRequestSize?: number;
  /** Default 10000. */
  connectTimeoutMs?: number;
  /** Default 300000. */
  metadataMaxAgeMs?: number;
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  keySerializer?: Serializer<K>;
  valueSerializer?: Serializer<V>;
  /** Default 'default' (the Java client's). */
  partitioner?: Partitioner;
}

/** Counters since the producer was created. */
export interface ProducerMetrics {
  /** Produce requests sent. */
  requests: number;
  /** Batches sent (retries included). */
  batches: number;
  /** Records acknowledged (written, with acks=0). */
  recordsDelivered: number;
  /** Records that failed. */
  recordsFailed: number;
  /** Batches sent again after a retriable error. */
  retries: number;
  /** Batches split after the broker found them too large. */
  splits: number;
}
