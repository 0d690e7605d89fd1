/**
 * The shapes of KafkaJS's API (configs, messages, results), as its documentation and type declarations name them,
 * so that code written against KafkaJS type-checks against the adapter. Offsets, timestamps and high watermarks
 * are decimal strings, as in KafkaJS.
 */
import type { Assignor } from '../consumer/assignors.js';
import type { AssignmentStrategy } from '../consumer/types.js';
import type { CompressionTypes, ConfigResourceTypes, ConfigSource } from './enums.js';
import type { LogCreator, LogLevel } from './logger.js';

export interface RetryOptions {
  /** Upper bound of one wait between retries; default 30000. */
  maxRetryTime?: number;
  /** First wait; default 300. */
  initialRetryTime?: number;
  /** Randomization of each wait (0.2: +-20%); default 0.2. */
  factor?: number;
  /** Growth of the wait per retry; default 2. */
  multiplier?: number;
  /** Default 5. */
  retries?: number;
  /** Consumers: asked whether to restart after a crash with a retriable error; default: always. */
  restartOnFailure?: (e: Error) => Promise<boolean>;
}

export type BrokersFunction = () => string[] | Promise<string[]>;

export interface KafkaConfig {
  brokers: string[] | BrokersFunction;
  clientId?: string;
  /** Connection timeout in ms; default 1000. */
  connectionTimeout?: number;
  /** Request timeout in ms; default 30000. */
  requestTimeout?: number;
  /** Accepted and ignored: requests always time out after `requestTimeout`. */
  enforceRequestTimeout?: boolean;
  retry?: RetryOptions;
  logLevel?: LogLevel;
  logCreator?: LogCreator;
  /** Not supported: only `false` / absent is accepted. */
  ssl?: unknown;
  /** Not supported: must be absent. */
  sasl?: unknown;
  /** Not supported: must be absent. */
  socketFactory?: unknown;
  authenticationTimeout?: number;
  reauthenticationThreshold?: number;
}

export interface PartitionMetadata {
  partitionErrorCode: number;
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas?: number[];
}

export interface IHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined;
}

export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: IHeaders;
  /** Milliseconds since the epoch, as a string. */
  timestamp?: string;
}

export interface PartitionerArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: Message;
}

export type ICustomPartitioner = () => (args: PartitionerArgs) => number;

export interface ProducerConfig {
  createPartitioner?: ICustomPartitioner;
  retry?: RetryOptions;
  metadataMaxAge?: number;
  /** Default true. */
  allowAutoTopicCreation?: boolean;
  /** Not supported (only false). */
  idempotent?: boolean;
  /** Not supported. */
  transactionalId?: string;
  transactionTimeout?: number;
  /** Produce requests in flight per broker; default 5 here (KafkaJS: unbounded). */
  maxInFlightRequests?: number;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  /** -1 (all in-sync replicas, default), 1 (the leader) or 0 (no answer). */
  acks?: number;
  /** How long the broker may wait for the acks, in ms; default 30000. */
  timeout?: number;
  compression?: CompressionTypes;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

export interface ProducerBatch {
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
  topicMessages?: TopicMessages[];
}

export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
  offset?: string;
  timestamp?: string;
}

/** A KafkaJS partition assigner factory (`PartitionAssigners.roundRobin`). */
// biome-ignore lint/suspicious/noExplicitAny: KafkaJS hands assigners its own cluster and logger objects.
export type PartitionAssigner = (config: { cluster: any; groupId: string; logger: any }) => {
  name: string;
  version: number;
};

export interface ConsumerConfig {
  groupId: string;
  /**
   * Default [PartitionAssigners.roundRobin] (protocol 'RoundRobinAssigner', as KafkaJS, so that KafkaJS members
   * can share the group). Beyond KafkaJS: Samsa assignors and Kafka's strategy names ('range', 'roundrobin',
   * 'cooperative-sticky') are accepted too.
   */
  partitionAssigners?: (PartitionAssigner | Assignor | AssignmentStrategy)[];
  metadataMaxAge?: number;
  /** Default 30000. */
  sessionTimeout?: number;
  /** Default 60000. */
  rebalanceTimeout?: number;
  /** Default 3000. */
  heartbeatInterval?: number;
  /** Default 1048576. */
  maxBytesPerPartition?: number;
  /** Default 1. */
  minBytes?: number;
  /** Default 10485760. */
  maxBytes?: number;
  /** Default 5000. */
  maxWaitTimeInMs?: number;
  retry?: RetryOptions;
  /** Accepted; topics are never created by consumers here. */
  allowAutoTopicCreation?: boolean;
  maxInFlightRequests?: number;
  /** Default false: read_committed, as KafkaJS. */
  readUncommitted?: boolean;
  /** Not supported (fetching from followers). */
  rackId?: string;
}

export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch, as a string. */
  timestamp: string;
  /** Record attributes (always 0 for record batch v2 records). */
  attributes: number;
  offset: string;
  headers: IHeaders;
  magicByte: number;
  isControlRecord: boolean;
  size?: never;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface TopicOffsets {
  topic: string;
  partitions: PartitionOffset[];
}

export interface Offsets {
  topics: TopicOffsets[];
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

export interface EachBatchPayload {
  batch: Batch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: Offsets): Promise<void>;
  uncommittedOffsets(): Offsets;
  isRunning(): boolean;
  isStale(): boolean;
}

export type EachMessageHandler = (payload: EachMessagePayload) => Promise<void>;
export type EachBatchHandler = (payload: EachBatchPayload) => Promise<void>;

export interface ConsumerRunConfig {
  /** Default true. */
  autoCommit?: boolean;
  /** Also commit between batches once this many ms passed since the last commit. */
  autoCommitInterval?: number | null;
  /** Also commit between batches once this many offsets were resolved since the last commit. */
  autoCommitThreshold?: number | null;
  /** Default true: a batch counts as processed once eachBatch resolves. */
  eachBatchAutoResolve?: boolean;
  /** Accepted; partitions are handed to the handler one batch at a time. */
  partitionsConsumedConcurrently?: number;
  eachBatch?: EachBatchHandler;
  eachMessage?: EachMessageHandler;
}

export type ConsumerSubscribeTopic = { topic: string | RegExp; fromBeginning?: boolean };
export type ConsumerSubscribeTopics = { topics: (string | RegExp)[]; fromBeginning?: boolean };

export interface TopicPartitionOffsetAndMetadata {
  topic: string;
  partition: number;
  offset: string;
  metadata?: string | null;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface MemberDescription {
  memberId: string;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export type ConsumerGroupState = 'Unknown' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead' | 'Empty';

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: ConsumerGroupState;
  protocolType: string;
  protocol: string;
  members: MemberDescription[];
}

// ---- admin ----------------------------------------------------------------------------------------------------

export interface AdminConfig {
  retry?: RetryOptions;
}

export interface IResourceConfigEntry {
  name: string;
  value: string;
}

export interface ITopicConfig {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  replicaAssignment?: { partition: number; replicas: number[] }[];
  configEntries?: IResourceConfigEntry[];
}

export interface ITopicPartitionConfig {
  topic: string;
  count: number;
  assignments?: number[][];
}

export interface ITopicMetadata {
  name: string;
  partitions: PartitionMetadata[];
}

export interface ResourceConfigQuery {
  type: ConfigResourceTypes;
  name: string;
  configNames?: string[];
}

// Declared as KafkaJS declares them; as in KafkaJS, values of sensitive configs and absent messages are null.
export interface ConfigSynonyms {
  configName: string;
  configValue: string;
  configSource: ConfigSource;
}

export interface ConfigEntries {
  configName: string;
  configValue: string;
  readOnly: boolean;
  isDefault: boolean;
  configSource: ConfigSource;
  isSensitive: boolean;
  configSynonyms: ConfigSynonyms[];
}

export interface DescribeConfigResponse {
  resources: {
    errorCode: number;
    errorMessage: string;
    resourceType: ConfigResourceTypes;
    resourceName: string;
    configEntries: ConfigEntries[];
  }[];
  // Declared as KafkaJS declares it; like KafkaJS 2.2.4, results do not carry it.
  throttleTime: number;
}

export interface IResourceConfig {
  type: ConfigResourceTypes;
  name: string;
  configEntries: IResourceConfigEntry[];
}

export interface AlterConfigsResponse {
  resources: {
    errorCode: number;
    errorMessage: string | null;
    resourceType: ConfigResourceTypes;
    resourceName: string;
  }[];
  // Declared as KafkaJS declares it; like KafkaJS 2.2.4, results do not carry it.
  throttleTime: number;
}

export interface GroupOverview {
  groupId: string;
  protocolType: string;
}

export interface DeleteGroupsResult {
  groupId: string;
  errorCode: number;
}

export type SeekEntry = PartitionOffset;
export type FetchOffsetsPartition = PartitionOffset & { metadata: string | null };
