/**
 * What request handlers see of the broker: its configuration, the cluster model, the partitions it hosts, topic
 * administration, and the waiting rooms for delayed requests. Handlers are created with it (one factory per API key
 * in handlers/) and hold no state of their own.
 */
import type { GroupCoordinator } from '../coordinator/group/index.js';
import type { ProducerIdManager } from '../coordinator/txn/producer-id-manager.js';
import type { Logger } from '../log/logger.js';
import type { OngoingReassignment, ReassignmentRequest, ReassignmentResult } from '../metadata/reassignment.js';
import type { TopicAdmin } from '../metadata/topic-admin.js';
import type { MetadataStore, TopicInfo } from '../metadata/types.js';
import type { LogManager } from '../storage/log-manager.js';
import type { BrokerConfig } from './config/broker-config.js';
import type { TopicSettings } from './config/topic-config.js';
import type { FetchSessionCache } from './fetch-session.js';
import type { Purgatory } from './purgatory.js';
import type { ReplicaManager } from './replica/replica-manager.js';

/** Cluster mode: what the controller serves to other brokers and admin clients (null in single-node mode). */
export interface ClusterControl {
  isController(): boolean;
  controlledShutdown(brokerId: number): Promise<{ topic: string; partition: number }[]>;
  electLeaders(
    type: number,
    partitions: readonly { topic: string; partition: number }[] | null,
  ): Promise<{ topic: string; partition: number; errorCode: number; message: string | null }[]>;
  alterPartitionReassignments(requests: readonly ReassignmentRequest[]): Promise<ReassignmentResult[]>;
  listPartitionReassignments(
    filter: readonly { topic: string; partitions: readonly number[] }[] | null,
  ): OngoingReassignment[];
}

export interface BrokerContext {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly metadata: MetadataStore;
  readonly replicas: ReplicaManager;
  readonly logs: LogManager;
  readonly topics: TopicAdmin;
  /** Long-poll fetches waiting for data, keyed by partition key (`<topic>-<partition>`). */
  readonly fetchPurgatory: Purgatory;
  /** acks=all produces waiting for the high watermark, keyed by partition key. */
  readonly producePurgatory: Purgatory;
  readonly fetchSessions: FetchSessionCache;
  /** The classic consumer-group coordinator (JoinGroup/SyncGroup, offsets). */
  readonly groups: GroupCoordinator;
  /** Producer ids for InitProducerId, unique across restarts. */
  readonly producerIds: ProducerIdManager;
  /**
   * Creates `__consumer_offsets` (internal, offsets.topic.num.partitions partitions, compacted) unless it exists;
   * concurrent calls share one creation. The coordinator's first write does it too; FindCoordinator may call it so
   * that the topic exists before the first group is formed, as in Kafka.
   */
  ensureOffsetsTopic(): Promise<void>;
  readonly logger: Logger;
  readonly clusterControl: ClusterControl | null;
  /** Effective settings of a topic: broker defaults overlaid with its overrides. */
  settingsOf(topic: TopicInfo): TopicSettings;
}
