/**
 * The Consumer's public types: its options (Kafka's consumer configs in camelCase, with Kafka's defaults), the
 * messages it delivers, the partitions and offsets its methods take, and the rebalance listener.
 */

import type { Deserializer } from '../serde.js';
import type { Assignor } from './assignors.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint;
}

/** A partition for `assign()`: without an offset it starts from the committed offset, else by `autoOffsetReset`. */
export interface AssignedPartition extends TopicPartition {
  offset?: bigint;
}

/** An offset to commit, with optional metadata stored next to it. */
export interface OffsetToCommit extends TopicPartitionOffset {
  metadata?: string;
  /** The leader epoch of the last consumed record; default: the one the consumer saw, else -1. */
  leaderEpoch?: number;
}

/** What `committed()` answers per partition: the Admin's shape (offset null when the group has none). */
export type { CommittedOffset } from '../admin/types.js';

export interface MessageHeader {
  key: string;
  value: Buffer | null;
}

export interface ConsumerMessage<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  offset: bigint;
  key: K;
  value: V;
  /** In the order the producer wrote them; a name may repeat. */
  headers: MessageHeader[];
  /** Milliseconds since the epoch (create time, or log append time when the topic uses it). */
  timestamp: bigint;
  /** 0: create time, 1: log append time. */
  timestampType: 0 | 1;
  /** The leader epoch of the batch the message came in (-1 for old message formats). */
  leaderEpoch: number;
}

/** One partition's messages handed to `eachBatch`, in offset order. */
export interface ConsumerBatch<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  messages: ConsumerMessage<K, V>[];
  /** The partition's high watermark at the time of the fetch (its lag is highWatermark - last offset - 1). */
  highWatermark: bigint;
}

/**
 * Called around rebalances; each is awaited before the rebalance continues. `onPartitionsRevoked` runs while the
 * partitions are still owned (offsets may be committed there); `onPartitionsLost` when they were taken away
 * without a chance to commit (the member was fenced or its session expired).
 */
export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/**
 * Milestones of the consumer's group membership, for monitoring and for adapters that report them (the
 * KafkaJS-compatible consumer's GROUP_JOIN, HEARTBEAT and REBALANCING events). Called synchronously; an exception
 * thrown by the callback is ignored.
 * - 'rebalancing': a member of the group is about to rejoin (not sent for its very first join);
 * - 'joined': SyncGroup handed out this member's assignment and the rebalance listener has taken it on;
 * - 'heartbeat': the coordinator answered a heartbeat without error.
 */
export type GroupEvent =
  | { type: 'rebalancing'; groupId: string; memberId: string; generationId: number; reason: string }
  | {
      type: 'joined';
      groupId: string;
      memberId: string;
      generationId: number;
      leaderId: string;
      /** The protocol (assignor name) the group agreed on. */
      protocol: string;
      /** From the start of the rejoin to the assignment taken on. */
      durationMs: number;
      /** Every partition this member owns now. */
      assignment: TopicPartition[];
    }
  | { type: 'heartbeat'; groupId: string; memberId: string; generationId: number };

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';
export type IsolationLevel = 'read_uncommitted' | 'read_committed';
export type AssignmentStrategy = 'range' | 'roundrobin' | 'cooperative-sticky';

export interface ConsumerOptions<K = Buffer | null, V = Buffer | null> {
  /** "host:port" of one or more brokers. */
  bootstrapServers: readonly string[];
  clientId?: string;
  /** The consumer group; needed for `subscribe()` and for committing offsets. */
  groupId?: string;
  /** Static membership (KIP-345): a restart with the same id within the session timeout causes no rebalance. */
  groupInstanceId?: string;
  /** Default 45000. */
  sessionTimeoutMs?: number;
  /** How long the group waits for members to rejoin in a rebalance (Kafka: max.poll.interval.ms); default 300000. */
  rebalanceTimeoutMs?: number;
  /** Default 3000. */
  heartbeatIntervalMs?: number;
  /**
   * Assignors in order of preference, by Kafka's name or as objects of your own; the group uses the first one
   * that every member offers. Default ['range', 'cooperative-sticky'] (Kafka's). The consumer rebalances
   * cooperatively (KIP-429) only when all of them are cooperative.
   */
  partitionAssignmentStrategy?: readonly (AssignmentStrategy | Assignor)[];
  /** Where to start when there is no committed offset or it is out of range; default 'latest'. */
  autoOffsetReset?: AutoOffsetReset;
  /** Default true. */
  enableAutoCommit?: boolean;
  /** Default 5000. */
  autoCommitIntervalMs?: number;
  /** Default 1. */
  fetchMinBytes?: number;
  /** Default 500. */
  fetchMaxWaitMs?: number;
  /** Default 52428800 (50 MiB). */
  fetchMaxBytes?: number;
  /** Default 1048576 (1 MiB). */
  maxPartitionFetchBytes?: number;
  /** Most messages one `eachBatch` call gets; default 500. */
  maxPollRecords?: number;
  /** Default 'read_uncommitted'. */
  isolationLevel?: IsolationLevel;
  /** Incremental fetch sessions (KIP-227): requests and answers carry only what changed; default true. */
  fetchSessions?: boolean;
  /** Check each batch's CRC; default true. */
  checkCrcs?: boolean;
  /** Default 30000. */
  requestTimeoutMs?: number;
  /** Default 100. */
  retryBackoffMs?: number;
  /** Default 300000; also how often subscriptions are checked for new partitions and matching topics. */
  metadataMaxAgeMs?: number;
  connectTimeoutMs?: number;
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  keyDeserializer?: Deserializer<K>;
  valueDeserializer?: Deserializer<V>;
  /** Told of group membership milestones (see GroupEvent). */
  onGroupEvent?: (event: GroupEvent) => void;
}
