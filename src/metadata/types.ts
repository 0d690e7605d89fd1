/**
 * The cluster model every broker part reads: brokers, topics, partitions with their replicas, leader, leader epoch
 * and ISR, and topic config overrides. It is the same shape in the embedded single-node mode and in ZooKeeper
 * mode (Kafka's znode layout holds exactly these facts), so handlers never know which store is behind it.
 */

export interface BrokerEndpoint {
  /** Listener name, e.g. PLAINTEXT. */
  listener: string;
  host: string;
  port: number;
  securityProtocol: string;
}

export interface BrokerInfo {
  id: number;
  rack: string | null;
  /** Advertised endpoints, one per listener. */
  endpoints: readonly BrokerEndpoint[];
}

export interface PartitionState {
  partition: number;
  /** Broker id of the leader, -1 when none is available. */
  leader: number;
  leaderEpoch: number;
  /** Bumped on every change of this state (Kafka's partition epoch / znode version). */
  partitionEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
}

export interface TopicInfo {
  name: string;
  /** Kafka Uuid in its base64url text form. */
  id: string;
  internal: boolean;
  /** Indexed by partition number. */
  partitions: readonly PartitionState[];
  /** Topic-level config overrides (Kafka names). */
  configs: Readonly<Record<string, string>>;
}

/** What changed, for the parts that follow the model (the replica manager creates and deletes logs). */
export type MetadataChange =
  | { kind: 'topic-created'; topic: TopicInfo }
  | { kind: 'partitions-added'; topic: TopicInfo; from: number }
  | { kind: 'topic-deleted'; topic: TopicInfo }
  | { kind: 'configs-changed'; topic: TopicInfo }
  /** Leader, leader epoch, ISR or replicas of these partitions changed (cluster mode). */
  | { kind: 'partitions-changed'; topic: TopicInfo; partitions: readonly number[] }
  /** A broker registered or went away (cluster mode). */
  | { kind: 'brokers-changed' }
  | { kind: 'controller-changed'; controllerId: number };

export interface NewTopic {
  name: string;
  /** Replica lists, one per partition; the first replica is the preferred leader. */
  assignments: readonly (readonly number[])[];
  configs: Readonly<Record<string, string>>;
  internal?: boolean;
}

/**
 * The store of the cluster model. Reads are synchronous (an in-memory image); changes are asynchronous because a
 * store persists them (a file here, ZooKeeper in cluster mode) before they become visible.
 */
export interface MetadataStore {
  readonly clusterId: string;
  controllerId(): number;
  /**
   * Whether this broker may act on the image as a leader: false in cluster mode while its ZooKeeper session may
   * have expired and until a new one has re-read the image.
   */
  sessionCurrent(): boolean;
  brokers(): readonly BrokerInfo[];
  broker(id: number): BrokerInfo | undefined;
  topic(name: string): TopicInfo | undefined;
  topicById(id: string): TopicInfo | undefined;
  topics(): IterableIterator<TopicInfo>;
  createTopic(topic: NewTopic): Promise<TopicInfo>;
  deleteTopic(name: string): Promise<void>;
  addPartitions(name: string, assignments: readonly (readonly number[])[]): Promise<TopicInfo>;
  /** Replaces the topic's overrides with `configs`. */
  setTopicConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicInfo>;
  /** Calls `listener` after every change is visible; returns a function that removes it. */
  subscribe(listener: (change: MetadataChange) => void): () => void;
  close(): Promise<void>;
}
