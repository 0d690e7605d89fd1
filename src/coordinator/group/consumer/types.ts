/**
 * Data shapes of the KIP-848 consumer group protocol at the coordinator's boundary: ConsumerGroupHeartbeat in and
 * out, ConsumerGroupDescribe out, and the view of the cluster's topics the coordinator needs to resolve
 * subscriptions (names and regular expressions) to topic ids and partition counts.
 *
 * Concurrency: types only.
 */

export interface TopicView {
  readonly id: string;
  readonly name: string;
  readonly numPartitions: number;
  /** Internal topics (`__consumer_offsets`) never match a subscription regex. */
  readonly internal: boolean;
}

/** The cluster's topics as the coordinator sees them (the broker's metadata). */
export interface TopicCatalog {
  byName(name: string): TopicView | undefined;
  byId(id: string): TopicView | undefined;
  all(): Iterable<TopicView>;
}

export const EMPTY_CATALOG: TopicCatalog = {
  byName: () => undefined,
  byId: () => undefined,
  all: () => [],
};

export interface WireTopicPartitions {
  topicId: string;
  partitions: number[];
}

export interface ConsumerGroupHeartbeatRequest {
  groupId: string;
  /** '' on a v0 join (the coordinator picks one); v1 clients generate their own. */
  memberId: string;
  /** 0 joins, -1 leaves, -2 leaves temporarily (static members), otherwise the member's current epoch. */
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  /** -1 when unchanged. */
  rebalanceTimeoutMs: number;
  /** null when unchanged. */
  subscribedTopicNames: readonly string[] | null;
  /** null when unchanged; '' clears it. */
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  /** What the member owns; null when unchanged. */
  topicPartitions: readonly WireTopicPartitions[] | null;
  clientId: string;
  clientHost: string;
}

export interface ConsumerGroupHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** Sent when the member joins or its assignment changed; null otherwise. */
  assignment: WireTopicPartitions[] | null;
}

export interface DescribedTopicPartitions {
  topicId: string;
  topicName: string;
  partitions: number[];
}

export interface ConsumerGroupDescribedMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: DescribedTopicPartitions[];
  targetAssignment: DescribedTopicPartitions[];
}

export interface ConsumerGroupDescribed {
  groupId: string;
  errorCode: number;
  errorMessage: string | null;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: ConsumerGroupDescribedMember[];
}
