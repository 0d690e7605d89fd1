/**
 * The Admin client's public types: what each method takes and answers. Names follow Kafka's AdminClient and tools
 * (camelCase), offsets are bigint, and "no value" is null (a partition without a committed offset has
 * `committedOffset: null` and `lag: null`, where kafka-consumer-groups prints '-').
 */

export interface AdminOptions {
  /** "host:port" of one or more brokers. */
  bootstrapServers: readonly string[];
  clientId?: string;
  /** Default 30000 (Kafka's request.timeout.ms). */
  requestTimeoutMs?: number;
  /** Default 10000. */
  connectTimeoutMs?: number;
  /** Default 100 (Kafka's retry.backoff.ms): the pause before retrying after a moved leader or coordinator. */
  retryBackoffMs?: number;
  /** Default 300000 (Kafka's metadata.max.age.ms). */
  metadataMaxAgeMs?: number;
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

// ---- topics ---------------------------------------------------------------------------------------------------

export interface NewTopic {
  name: string;
  /** Default -1: the broker's num.partitions. Must be left out (or -1) when `assignments` is given. */
  numPartitions?: number;
  /** Default -1: the broker's default.replication.factor. Must be left out (or -1) when `assignments` is given. */
  replicationFactor?: number;
  /** Topic configs by Kafka name, e.g. { 'cleanup.policy': 'compact' }. */
  configs?: Readonly<Record<string, string>>;
  /** Manual placement: `assignments[p]` are the broker ids of partition p's replicas, the first the preferred leader. */
  assignments?: readonly (readonly number[])[];
}

export interface CreateTopicsOptions {
  /** Check everything, create nothing. */
  validateOnly?: boolean;
  /** How long the broker may take; default `requestTimeoutMs`. */
  timeoutMs?: number;
}

export interface CreatedTopic {
  name: string;
  /** The zero id ('AAAAAAAAAAAAAAAAAAAAAA') for validateOnly or brokers before CreateTopics v7. */
  topicId: string;
  /** -1 when the broker does not say (before CreateTopics v5). */
  numPartitions: number;
  replicationFactor: number;
  /** The topic's effective configs as the broker reports them (empty before CreateTopics v5); sensitive ones null. */
  configs: Record<string, string | null>;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionDescription[];
}

export interface PartitionDescription {
  partition: number;
  /** Node id of the leader, -1 when there is none. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface NewPartitions {
  topic: string;
  /** The topic's partition count afterwards (it can only grow). */
  totalCount: number;
  /** Replicas of each new partition, in order, when placing them by hand. */
  assignments?: readonly (readonly number[])[];
}

// ---- configs --------------------------------------------------------------------------------------------------

export type ConfigResourceType = 'topic' | 'broker' | 'broker-logger' | 'group' | 'client-metrics';

export interface ConfigResource {
  type: ConfigResourceType;
  /** Topic name, broker id ('' for the cluster-wide broker defaults), group id. */
  name: string;
  /** Only these keys; default all. */
  configNames?: readonly string[];
}

/** Kafka's ConfigEntry.ConfigSource names. */
export type ConfigSource =
  | 'UNKNOWN'
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG'
  | 'DYNAMIC_BROKER_LOGGER_CONFIG'
  | 'CLIENT_METRICS_CONFIG'
  | 'GROUP_CONFIG';

/** Kafka's ConfigEntry.ConfigType names. */
export type ConfigType =
  | 'UNKNOWN'
  | 'BOOLEAN'
  | 'STRING'
  | 'INT'
  | 'SHORT'
  | 'LONG'
  | 'DOUBLE'
  | 'LIST'
  | 'CLASS'
  | 'PASSWORD';

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: ConfigSource;
}

export interface ConfigEntry {
  name: string;
  /** null for sensitive values (and values that are unset). */
  value: string | null;
  source: ConfigSource;
  /** True when the value is Kafka's default (source DEFAULT_CONFIG). */
  isDefault: boolean;
  readOnly: boolean;
  sensitive: boolean;
  /** Where else the value could come from, most specific first (only with `includeSynonyms`). */
  synonyms: ConfigSynonym[];
  /** 'UNKNOWN' before DescribeConfigs v3. */
  type: ConfigType;
  /** Only with `includeDocumentation` (DescribeConfigs v3+). */
  documentation: string | null;
}

export interface DescribeConfigsOptions {
  includeSynonyms?: boolean;
  includeDocumentation?: boolean;
}

export interface ResourceConfigs {
  type: ConfigResourceType;
  name: string;
  entries: ConfigEntry[];
}

/** IncrementalAlterConfigs operations: append and subtract work on list-valued configs. */
export type AlterConfigOpType = 'set' | 'delete' | 'append' | 'subtract';

export interface AlterConfigOp {
  name: string;
  /** Default 'set'. */
  op?: AlterConfigOpType;
  /** Required except for 'delete'. */
  value?: string | null;
}

export interface AlterConfigsResource {
  type: ConfigResourceType;
  name: string;
  ops: readonly AlterConfigOp[];
}

// ---- groups ---------------------------------------------------------------------------------------------------

export interface ListGroupsOptions {
  /** Only groups in these states (case-insensitive, e.g. 'Stable', 'Empty'); needs ListGroups v4. */
  states?: readonly string[];
  /** Only groups of these types ('classic', 'consumer'); needs ListGroups v5. */
  types?: readonly string[];
}

export interface GroupListing {
  groupId: string;
  /** 'consumer' for Kafka consumers, 'connect' for Connect workers, '' for groups that only hold offsets. */
  protocolType: string;
  /** '' when the broker does not say (ListGroups before v4). */
  state: string;
  /** 'classic' or 'consumer' (KIP-848); '' before ListGroups v5. */
  type: string;
  /** The coordinator that answered. */
  coordinator: number;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /**
   * The partitions assigned to the member: decoded from ConsumerProtocolAssignment for protocol type 'consumer',
   * the current assignment of a KIP-848 member; null for other protocol types or undecodable bytes.
   */
  assignment: TopicPartitions[] | null;
  /** Subscribed topics (consumer protocol), or null. */
  subscription: string[] | null;
  /** The raw bytes of classic groups (empty for KIP-848 groups and outside the Stable state). */
  memberMetadata: Buffer;
  memberAssignment: Buffer;
  /** KIP-848 groups only (else null). */
  memberEpoch: number | null;
  targetAssignment: TopicPartitions[] | null;
}

export interface GroupDescription {
  groupId: string;
  /** 'classic' (JoinGroup/SyncGroup) or 'consumer' (KIP-848). */
  type: 'classic' | 'consumer';
  /** Kafka's state names: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead (classic); Empty, Assigning, Reconciling, Stable (consumer). */
  state: string;
  protocolType: string;
  /** The chosen protocol of a Stable classic group (the assignor for consumers), the assignor of a KIP-848 group. */
  protocol: string;
  members: GroupMember[];
  coordinator: number;
  /** KIP-848 groups only (else null). */
  groupEpoch: number | null;
  assignmentEpoch: number | null;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** null when the group has no committed offset for the partition. */
  offset: bigint | null;
  leaderEpoch: number | null;
  metadata: string | null;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** null: no committed offset ('-' in kafka-consumer-groups). */
  committedOffset: bigint | null;
  /** The high watermark (ListOffsets latest); null when it could not be read (e.g. the topic is gone). */
  logEndOffset: bigint | null;
  /** logEndOffset - committedOffset; null when either is unknown. */
  lag: bigint | null;
  /** The member the partition is assigned to, or null ('-'). */
  memberId: string | null;
  groupInstanceId: string | null;
  clientId: string | null;
  host: string | null;
}

export interface GroupLag {
  groupId: string;
  state: string;
  /** Every partition with a committed offset or an assigned member, by topic then partition. */
  partitions: PartitionLag[];
  /** Sum of the known lags. */
  totalLag: bigint;
}

export type ResetTarget =
  | 'earliest'
  | 'latest'
  /** The first offset whose record timestamp is at or after this time (the log end when there is none). */
  | { datetime: Date | number }
  /** Clamped to [earliest, latest]. */
  | { offset: bigint | number }
  /** The committed offset moved by this (negative: back), clamped to [earliest, latest]. */
  | { shiftBy: bigint | number };

export interface ResetGroupOffsetsOptions {
  topic: string;
  /** Default: every partition of the topic. */
  partitions?: readonly number[];
  to: ResetTarget;
  /** Compute and answer the new offsets without committing them. */
  dryRun?: boolean;
}

export interface ResetOffset {
  topic: string;
  partition: number;
  /** The offset committed (or that would be, with dryRun). */
  offset: bigint;
  /** The committed offset before, or null. */
  previousOffset: bigint | null;
}

// ---- cluster and offsets --------------------------------------------------------------------------------------

export interface BrokerDescription {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterDescription {
  clusterId: string | null;
  /** null when the cluster has no controller right now. */
  controller: BrokerDescription | null;
  brokers: BrokerDescription[];
}

export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: Date | number | bigint };

export interface ListOffsetsRequestItem extends TopicPartitionRef {
  spec: OffsetSpec;
}

export interface ListOffsetsOptions {
  /** Default 'read_uncommitted': latest is the high watermark; 'read_committed': the last stable offset. */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
}

export interface ListedOffset extends TopicPartitionRef {
  /** -1 when no record matches (a timestamp after every record's). */
  offset: bigint;
  /** The record's timestamp for timestamp and max-timestamp specs, else -1. */
  timestamp: bigint;
  /** null when the broker does not say. */
  leaderEpoch: number | null;
}

export interface TopicOffsets {
  partition: number;
  /** The log start offset. */
  earliest: bigint;
  /** The high watermark: the offset the next record will get once replicated. */
  latest: bigint;
  /** The last stable offset (what read_committed consumers see); equal to latest without open transactions. */
  lastStable: bigint;
}

export interface DeleteRecordsItem extends TopicPartitionRef {
  /** Records before this offset are deleted; -1 means the high watermark (everything). */
  beforeOffset: bigint | number;
}

export interface DeletedRecords extends TopicPartitionRef {
  /** The partition's log start offset afterwards. */
  lowWatermark: bigint;
}

// ---- partition reassignments ----------------------------------------------------------------------------------

/** A partition to move (AlterPartitionReassignments): its target replicas, or null to cancel a move in progress. */
export interface PartitionReassignmentRequest extends TopicPartitionRef {
  /** The replicas to move to, the first one the preferred leader; null cancels the reassignment in progress. */
  replicas: readonly number[] | null;
}

/** A reassignment in progress (ListPartitionReassignments). */
export interface PartitionReassignment extends TopicPartitionRef {
  /** The whole replica set while it runs: the targets first, then the original replicas being removed. */
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}
