/**
 * Data shapes of the group coordinator's operations: requests in, results out (plain data, error codes from
 * `ErrorCode`), the persistence interface through which the coordinator asks for `__consumer_offsets` writes, and
 * its configuration. The handler layer maps these to and from wire messages (JoinGroup v0-9, SyncGroup v0-5,
 * Heartbeat v0-4, LeaveGroup v0-5, OffsetCommit v0-9, OffsetFetch v0-9, OffsetDelete v0, ListGroups v0-5,
 * DescribeGroups v0-5, DeleteGroups v0-2).
 *
 * Concurrency: types only.
 */

import type { GroupMetadataValue } from '../../protocol/generated/data/group-metadata-value.js';
import type { OffsetCommitValue } from '../../protocol/generated/data/offset-commit-value.js';
import type { ConsumerGroupStateName } from './consumer/consumer-group.js';
import type { ConsumerGroupRecord } from './consumer/records.js';
import type { GroupProtocol } from './member.js';

export type { GroupProtocol } from './member.js';

export interface JoinGroupRequest {
  groupId: string;
  /** '' for a member without an id yet. */
  memberId: string;
  /** KIP-345 static membership (JoinGroup v5+); null for dynamic members. */
  groupInstanceId: string | null;
  protocolType: string;
  protocols: readonly GroupProtocol[];
  sessionTimeoutMs: number;
  /** JoinGroup v1+; a negative value (v0) means "same as the session timeout". */
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** True for JoinGroup v4+ (KIP-394): a new dynamic member first gets MEMBER_ID_REQUIRED and its id. */
  requireKnownMemberId: boolean;
  /** True for JoinGroup v9+: a static leader rejoining a Stable group is told to skip the assignment. */
  supportSkippingAssignment?: boolean;
  /** KIP-800 reason (JoinGroup v8+), for logs. */
  reason?: string | null;
}

export interface JoinGroupResponseMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  /** '' in error responses. */
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  /** Every member with its metadata for the chosen protocol; only in the leader's response. */
  members: JoinGroupResponseMember[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5+ (KIP-559); null when the version does not carry it (then not checked). */
  protocolType: string | null;
  protocolName: string | null;
  /** Only the leader sends assignments. */
  assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupRequest {
  groupId: string;
  /** v0-2 carry one member id; v3+ a batch, possibly by `groupInstanceId` with member id ''. */
  members: readonly { memberId: string; groupInstanceId: string | null; reason?: string | null }[];
}

export interface LeaveGroupResult {
  /** Group-level error; when not NONE `members` is empty. v0-2 handlers use the single member's code. */
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface ListGroupsRequest {
  /** KIP-518 (v4+): state names, case-insensitive; empty means all. */
  statesFilter?: readonly string[];
  /** KIP-848 (v5+): group types ('classic', 'consumer'), case-insensitive; empty means all. */
  typesFilter?: readonly string[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: GroupStateName | ConsumerGroupStateName;
  groupType: 'classic' | 'consumer';
}

export interface ListGroupsResult {
  errorCode: number;
  groups: ListedGroup[];
}

export interface DescribedGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Only in the Stable state; empty otherwise. */
  memberMetadata: Buffer;
  /** Only in the Stable state; empty otherwise. */
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  groupId: string;
  errorCode: number;
  /** '' when the request failed (Kafka's "no state"). */
  groupState: GroupStateName | ConsumerGroupStateName | '';
  protocolType: string;
  /** The chosen protocol, only in the Stable state; '' otherwise. */
  protocolData: string;
  members: DescribedGroupMember[];
}

export interface DeleteGroupsResultEntry {
  groupId: string;
  errorCode: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** One partition of an OffsetCommit. */
export interface OffsetCommitEntry extends TopicPartition {
  offset: bigint;
  /** -1 when unknown. */
  leaderEpoch: number;
  /** null is stored as ''. */
  metadata: string | null;
  /** OffsetCommit v1 per-partition commit timestamp; absent or -1 means "now". */
  commitTimestamp?: number;
  /** OffsetCommit v1-4 retention: absolute expiry time in ms; absent or null means broker retention. */
  expireTimestamp?: number | null;
}

export interface OffsetCommitRequest extends CommitValidation {
  offsets: readonly OffsetCommitEntry[];
}

export interface PartitionError extends TopicPartition {
  errorCode: number;
}

export interface CommitValidation {
  groupId: string;
  /** The generation (classic groups) or member epoch (KIP-848 consumer groups); -1 for standalone commits. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit version; KIP-848 members must use v9+. Unchecked when absent. */
  apiVersion?: number;
}

export interface FetchedOffset extends TopicPartition {
  /** -1 when nothing is committed. */
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  offsets: FetchedOffset[];
}

export interface OffsetDeleteResult {
  /** Group-level error; when not NONE `partitions` is empty. */
  errorCode: number;
  partitions: PartitionError[];
}

/** An offset as handed to (and loaded from) the persistence layer: the key's topic/partition and the value. */
export interface StoredOffset extends TopicPartition {
  value: OffsetCommitValue;
}

/**
 * Where `__consumer_offsets` records go. The coordinator calls these at the points Kafka appends to that topic and
 * awaits them; it writes nothing itself. Calls for one group are made in the order of the state changes they
 * record, and the store must persist them in call order (an append to one partition does). A rejected promise
 * means "not written": a `KafkaError` carries the append error (mapped like Kafka: see `storeErrorCode`), any other
 * error counts as the coordinator being unavailable.
 */
export interface GroupPersistence {
  /** The group's metadata record; null writes a tombstone (group Dead). */
  storeGroup(groupId: string, value: GroupMetadataValue | null): Promise<void>;
  /** Offset commit records; the commit is acknowledged only after this resolves. */
  storeOffsets(groupId: string, offsets: readonly StoredOffset[]): Promise<void>;
  /** Tombstones for offsets (OffsetDelete, DeleteGroups, expiration). */
  removeOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<void>;
  /**
   * KIP-848 group records (epochs, member metadata, target and current assignments; null values are tombstones).
   * Optional: without it consumer groups live in memory only, as with NO_PERSISTENCE.
   */
  storeConsumerGroupRecords?(groupId: string, records: readonly ConsumerGroupRecord[]): Promise<void>;
}

export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms, default 6000. */
  groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms, default 1800000. */
  groupMaxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms, default 3000. */
  groupInitialRebalanceDelayMs: number;
  /** group.max.size, default Int.MAX. */
  groupMaxSize: number;
  /** offset.metadata.max.bytes, default 4096 (compared with the string length, as Kafka does). */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes in ms, default 7 days. */
  offsetsRetentionMs: number;
  /** How long a new member may wait in JoinGroup before it is dropped (Kafka: 5 minutes, not configurable). */
  newMemberJoinTimeoutMs: number;
  /** group.consumer.session.timeout.ms (KIP-848 groups), default 45000. */
  consumerGroupSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms, default 5000. */
  consumerGroupHeartbeatIntervalMs: number;
  /** group.consumer.max.size, default Int.MAX. */
  consumerGroupMaxSize: number;
  /** group.consumer.assignors: server-side assignor names, the first is the default. */
  consumerGroupAssignors: readonly string[];
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = Object.freeze({
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1800000,
  groupInitialRebalanceDelayMs: 3000,
  groupMaxSize: 2147483647,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  newMemberJoinTimeoutMs: 5 * 60 * 1000,
  consumerGroupSessionTimeoutMs: 45000,
  consumerGroupHeartbeatIntervalMs: 5000,
  consumerGroupMaxSize: 2147483647,
  consumerGroupAssignors: Object.freeze(['uniform', 'range']),
});
