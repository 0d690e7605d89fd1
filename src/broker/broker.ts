/**
 * A broker process's parts, wired together: the metadata store (embedded: this node is a cluster of one; or, with
 * `zookeeper.connect`, the cluster's model in ZooKeeper, with this broker registered there and standing for
 * controller), the
 * log manager over `log.dirs`, the replica manager hosting partitions, the waiting rooms for long polls and
 * acks=all, the handler registry (one handler module per API key) and one TCP server per listener.
 *
 * Start order: metadata, logs (recovered if the last stop was not clean), partitions, the groups and committed
 * offsets read back from `__consumer_offsets`, then the listeners, so that no request sees a half-built broker.
 * `stop()` reverses it: listeners close, waiting requests are answered, the group coordinator stops, logs are
 * flushed and checkpointed and the clean-shutdown marker is written, so the next start skips recovery.
 *
 * `__consumer_offsets` is created on first use, as in Kafka: by the coordinator's first write, or earlier through
 * `ensureOffsetsTopic()` (e.g. from FindCoordinator). Creating its 50 partitions at start measured 35-170 ms
 * (median of runs 90-170 ms on a busy 2-core machine) plus about 25 ms more at stop, against 3-10 ms for the whole
 * start without it: too much for a broker that tests start over and over, mostly without groups. A data dir that
 * has the topic pays about 20 ms per start to open and read it.
 */
import { resolve } from 'node:path';
import { BrokerConnection } from '../client/network/connection.js';
import {
  GroupCoordinator,
  loadGroupsFromOffsetsTopic,
  OFFSETS_TOPIC,
  type OffsetsTopicAccess,
  type OffsetsTopicPartition,
  OffsetsTopicStore,
} from '../coordinator/group/index.js';
import { FileProducerIdBlockStore } from '../coordinator/txn/producer-id-block-file.js';
import { ZkProducerIdBlockStore } from '../coordinator/txn/producer-id-block-zk.js';
import { ProducerIdManager } from '../coordinator/txn/producer-id-manager.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { EmbeddedMetadataStore } from '../metadata/embedded/embedded-store.js';
import { TopicAdmin } from '../metadata/topic-admin.js';
import type { BrokerEndpoint, BrokerInfo, TopicInfo } from '../metadata/types.js';
import { ZkController } from '../metadata/zookeeper/controller.js';
import { ZkMetadataStore } from '../metadata/zookeeper/zk-store.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { groupPartition } from '../protocol/hash.js';
import type { ControlledShutdownResponse } from '../protocol/index.js';
import { LogManager } from '../storage/log-manager.js';
import type { BrokerConfig, ListenerConfig } from './config/broker-config.js';
import { type TopicSettings, topicSettings, validateTopicConfigs } from './config/topic-config.js';
import type { BrokerContext, ClusterControl } from './context.js';
import { FetchSessionCache } from './fetch-session.js';
import { allHandlers } from './handlers/index.js';
import { HandlerRegistry } from './handlers/registry.js';
import { Purgatory } from './purgatory.js';
import type { Partition } from './replica/partition.js';
import { ReplicaFetcherManager } from './replica/replica-fetcher.js';
import { ReplicaManager } from './replica/replica-manager.js';
import { type RunningServer, startServer } from './server.js';
import { topicCatalog } from './topic-catalog.js';

/** Kafka's offsets.commit.timeout.ms default: how long a commit waits for the ISR. */
const OFFSETS_COMMIT_TIMEOUT_MS = 5000;

export interface BoundListener {
  name: string;
  /** The address the listener is bound to. */
  host: string;
  port: number;
  /** What clients are told to connect to. */
  advertisedHost: string;
  advertisedPort: number;
}

export class Broker implements BrokerContext {
  /** Cluster mode: the controller's services, answered by this broker while it is the controller. */
  readonly clusterControl: ClusterControl | null;
  readonly nodeId: number;
  readonly topics: TopicAdmin;
  readonly fetchPurgatory = new Purgatory({ name: 'fetch' });
  readonly producePurgatory = new Purgatory({ name: 'produce' });
  readonly fetchSessions: FetchSessionCache;
  readonly replicas: ReplicaManager;
  readonly groups: GroupCoordinator;
  readonly producerIds: ProducerIdManager;
  /** The coordinator's `__consumer_offsets` writes. */
  readonly offsetsStore: OffsetsTopicStore<Partition>;
  private readonly offsetsTopic: OffsetsTopicAccess<Partition>;
  private offsetsExpiry: NodeJS.Timeout | null = null;
  private creatingOffsetsTopic: Promise<void> | null = null;
  private servers: RunningServer[] = [];
  private bound: BoundListener[] = [];
  private stopping: Promise<void> | null = null;
  private readonly settingsCache = new WeakMap<TopicInfo, TopicSettings>();
  /** Cluster mode: this broker's candidacy for (and term as) controller. */
  private controller: ZkController | null = null;
  /** Cluster mode: the followers' fetchers. */
  private fetchers: ReplicaFetcherManager | null = null;
  /** `__consumer_offsets` partitions led here (cluster mode: their groups are loaded here), and those loading. */
  private readonly ledOffsets = new Set<number>();
  private readonly loadingOffsets = new Set<number>();

  private constructor(
    readonly config: BrokerConfig,
    readonly metadata: EmbeddedMetadataStore | ZkMetadataStore,
    readonly logs: LogManager,
    readonly logger: Logger,
  ) {
    this.nodeId = config.nodeId;
    this.clusterControl =
      metadata instanceof ZkMetadataStore
        ? {
            isController: () => this.controller?.isActive ?? false,
            controlledShutdown: (id) => this.controller!.controlledShutdown(id),
            electLeaders: (type, partitions) => this.controller!.electLeaders(type, partitions),
            alterPartitionReassignments: (requests) => this.controller!.alterPartitionReassignments(requests),
            listPartitionReassignments: (filter) => this.controller!.listPartitionReassignments(filter),
          }
        : null;
    this.topics = new TopicAdmin(metadata, config, validateTopicConfigs);
    // Single-node mode: blocks are recorded next to the metadata (the first log dir). Cluster mode: in ZooKeeper,
    // where every broker claims from the same sequence.
    this.producerIds = new ProducerIdManager({
      brokerId: config.nodeId,
      store:
        metadata instanceof ZkMetadataStore
          ? new ZkProducerIdBlockStore(metadata.zk)
          : new FileProducerIdBlockStore(resolve(config.logDirs[0]!)),
    });
    this.fetchSessions = new FetchSessionCache({ maxSlots: config.maxIncrementalFetchSessionCacheSlots });
    this.replicas = new ReplicaManager({
      nodeId: config.nodeId,
      logs,
      metadata,
      logger,
      logConfigFor: (t) => this.settingsOf(t),
      removeStrays: metadata instanceof ZkMetadataStore,
    });
    // Resolved at every call: the topic may not exist yet (it is created on first use).
    this.offsetsTopic = {
      get numPartitions() {
        return metadata.topic(OFFSETS_TOPIC)?.partitions.length ?? 0;
      },
      partitionFor: (index) => this.replicas.get(OFFSETS_TOPIC, index),
      dataChanged: (p) => this.replicas.dataChanged(p),
      ensureTopic: () => this.ensureOffsetsTopic(),
      // Cluster mode: a commit is done once the ISR has it (Kafka writes offsets with acks=all).
      ...(metadata instanceof ZkMetadataStore
        ? { awaitReplicated: (p: Partition, lastOffset: bigint) => this.awaitReplicated(p, lastOffset) }
        : {}),
    };
    this.offsetsStore = new OffsetsTopicStore(this.offsetsTopic);
    this.groups = new GroupCoordinator({
      persistence: this.offsetsStore,
      isCoordinatorFor: (groupId) => this.coordinates(groupId),
      isLoadingFor: (groupId) =>
        this.loadingOffsets.size > 0 && this.loadingOffsets.has(this.offsetsPartitionOf(groupId)),
      config: {
        groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
        groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        groupMaxSize: config.groupMaxSize,
        offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
        offsetsRetentionMs: config.offsetsRetentionMs,
        consumerGroupSessionTimeoutMs: config.consumerGroupSessionTimeoutMs,
        consumerGroupHeartbeatIntervalMs: config.consumerGroupHeartbeatIntervalMs,
        consumerGroupMaxSize: config.consumerGroupMaxSize,
        consumerGroupAssignors: config.consumerGroupAssignors,
      },
      topics: topicCatalog(metadata),
      logger: {
        info: (m) => logger.info(m),
        warn: (m) => logger.warn(m),
        error: (m) => logger.error(m),
      },
    });
    this.replicas.onDataChanged((p) => {
      this.fetchPurgatory.notify(p.key);
      this.producePurgatory.notify(p.key);
    });
    if (metadata instanceof ZkMetadataStore) {
      this.fetchers = new ReplicaFetcherManager({
        nodeId: config.nodeId,
        metadata,
        replicas: this.replicas,
        logger: logger.child({ component: 'replica-fetcher' }),
        listener: config.listeners[0]?.name ?? 'PLAINTEXT',
        maxWaitMs: config.replicaFetchWaitMaxMs,
        maxBytesPerPartition: config.replicaFetchMaxBytes,
        maxBytes: config.replicaFetchResponseMaxBytes,
      });
      this.replicas.isrWriter = (p, isr) => metadata.updateIsr(p.topic, p.index, p.leaderEpoch, isr);
      this.replicas.startIsrChecks(config.replicaLagTimeMaxMs);
    }
  }

  /** Starts a broker with `config`; resolves once every listener accepts connections. */
  static async start(config: BrokerConfig, logger: Logger = silentLogger): Promise<Broker> {
    const logDirs = config.logDirs.map((d) => resolve(d));
    const metadata =
      config.zookeeperConnect === null
        ? EmbeddedMetadataStore.open({
            dir: logDirs[0]!,
            self: selfInfo(config, config.advertisedListeners),
            clusterId: config.clusterId,
          })
        : await ZkMetadataStore.open({
            connect: config.zookeeperConnect,
            nodeId: config.nodeId,
            sessionTimeoutMs: config.zookeeperSessionTimeoutMs,
            connectionTimeoutMs: config.zookeeperConnectionTimeoutMs,
            logger: logger.child({ component: 'zookeeper' }),
          });
    const logs = new LogManager({
      logDirs,
      defaultConfig: config.logDefaults,
      logger,
      checkpointIntervalMs: config.logFlushOffsetCheckpointIntervalMs,
      retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
      cleanerEnable: config.logCleanerEnable,
      producerIdExpirationMs: config.producerIdExpirationMs,
      producerIdExpirationCheckIntervalMs: config.producerIdExpirationCheckIntervalMs,
    });
    const broker = new Broker(config, metadata, logs, logger);
    try {
      logs.startup((topic) => {
        const info = metadata.topic(topic);
        return info === undefined ? {} : broker.settingsOf(info);
      });
      broker.replicas.start();
      await broker.startGroupCoordinator();
      await broker.listen();
      logs.startScheduler();
    } catch (err) {
      await broker.stop().catch(() => {});
      throw err;
    }
    logger.info(
      {
        nodeId: config.nodeId,
        clusterId: metadata.clusterId,
        listeners: broker.bound.map((l) => `${l.name}://${l.advertisedHost}:${l.advertisedPort}`),
        logDirs,
        topics: [...metadata.topics()].length,
      },
      'broker started',
    );
    return broker;
  }

  /** The listeners as bound (ports resolved when configured as 0). */
  get listeners(): readonly BoundListener[] {
    return this.bound;
  }

  /** `host:port` of the first advertised listener: what a client's bootstrap.servers needs. */
  get bootstrap(): string {
    const l = this.bound[0]!;
    return `${l.advertisedHost}:${l.advertisedPort}`;
  }

  settingsOf(topic: TopicInfo): TopicSettings {
    let s = this.settingsCache.get(topic);
    if (s === undefined) {
      s = topicSettings(topic.configs, this.config);
      this.settingsCache.set(topic, s);
    }
    return s;
  }

  /** Graceful shutdown: stop listening, answer waiting requests, flush and checkpoint every log. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.logger.info({ nodeId: this.nodeId }, 'broker stopping');
    if (this.metadata instanceof ZkMetadataStore && this.config.controlledShutdownEnable && this.bound.length > 0) {
      // Followers stop first, so that no leader takes this broker back into an ISR the controller shrinks.
      await this.fetchers?.stop();
      await this.controlledShutdown().catch((err: unknown) =>
        this.logger.warn({ err: (err as Error).message }, 'controlled shutdown failed; stopping anyway'),
      );
    }
    await Promise.all(this.servers.map((s) => s.close()));
    this.servers = [];
    await this.controller?.stop();
    await this.fetchers?.stop();
    this.fetchPurgatory.expireAll();
    this.producePurgatory.expireAll();
    if (this.offsetsExpiry !== null) clearInterval(this.offsetsExpiry);
    this.offsetsExpiry = null;
    this.groups.close();
    await this.replicas.stop();
    await this.logs.shutdown();
    await this.metadata.close();
    this.logger.info({ nodeId: this.nodeId }, 'broker stopped');
  }

  /**
   * Whether this broker coordinates `groupId`: it leads the group's `__consumer_offsets` partition. Before the topic
   * exists every group is ours (writes then fail with a retriable COORDINATOR_NOT_AVAILABLE).
   */
  private coordinates(groupId: string): boolean {
    const n = this.offsetsTopic.numPartitions;
    if (n === 0) return true;
    return this.replicas.get(OFFSETS_TOPIC, groupPartition(groupId, n))?.isLeader ?? false;
  }

  private offsetsPartitionOf(groupId: string): number {
    const n = this.offsetsTopic.numPartitions;
    return n === 0 ? -1 : groupPartition(groupId, n);
  }

  /** Waits (bounded by offsets.commit.timeout.ms) for the partition's high watermark to pass `lastOffset`. */
  private awaitReplicated(partition: Partition, lastOffset: bigint): Promise<void> {
    // Only this term's high watermark acknowledges the write: a broker that stopped leading (it may truncate the
    // batch as a follower and then see the high watermark pass it with another leader's records) fails it.
    const epoch = partition.leaderEpoch;
    return new Promise((resolve, reject) => {
      this.producePurgatory.watch(
        {
          tryComplete: () => {
            if (!partition.isLeader || partition.leaderEpoch !== epoch) {
              reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `${partition.key} is no longer led here`));
              return true;
            }
            if (partition.highWatermark <= lastOffset) return false;
            resolve();
            return true;
          },
          onExpire: () =>
            reject(
              new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `${partition.key}: the ISR did not get the commit in time`),
            ),
        },
        [partition.key],
        OFFSETS_COMMIT_TIMEOUT_MS,
      );
    });
  }

  /**
   * Cluster mode: groups follow the leadership of their `__consumer_offsets` partition. Becoming its leader loads
   * them from the log (requests get COORDINATOR_LOAD_IN_PROGRESS meanwhile); losing it unloads them (requests get
   * NOT_COORDINATOR and clients look the coordinator up again). A partition with nothing written yet (just created)
   * has nothing to load, and groups already begun here stay.
   */
  private followOffsetsLeadership(partition: Partition, hosted: boolean): void {
    if (partition.topic !== OFFSETS_TOPIC) return;
    const index = partition.index;
    const leads = hosted && partition.isLeader;
    if (leads === this.ledOffsets.has(index)) return;
    if (!leads) {
      this.ledOffsets.delete(index);
      this.groups.unloadWhere((id) => this.offsetsPartitionOf(id) === index);
      this.logger.info({ partition: partition.key }, 'groups of this partition handed over');
      return;
    }
    this.ledOffsets.add(index);
    let empty: boolean;
    try {
      empty = partition.log.logEndOffset === partition.log.logStartOffset;
    } catch {
      return;
    }
    if (empty) return;
    this.loadingOffsets.add(index);
    const started = performance.now();
    // Up to the log end, not the high watermark: a new leader learns the high watermark only from its followers'
    // next fetches, and every commit acknowledged to a client is already in its log (the ISR had it).
    const toLogEnd: OffsetsTopicPartition = {
      isLeader: true,
      get highWatermark() {
        return partition.log.logEndOffset;
      },
      get log() {
        return partition.log;
      },
      appendAsLeader: (records, now) => partition.appendAsLeader(records, now),
      read: (offset, options) => partition.read(offset, options),
    };
    const one: OffsetsTopicAccess = {
      numPartitions: index + 1,
      partitionFor: (i) => (i === index ? toLogEnd : undefined),
      dataChanged: () => {},
    };
    const target = {
      beginLoading: () => {},
      completeLoading: () => {},
      load: this.groups.load.bind(this.groups),
      loadConsumerGroup: this.groups.loadConsumerGroup.bind(this.groups),
    };
    this.groups.unloadWhere((id) => this.offsetsPartitionOf(id) === index);
    loadGroupsFromOffsetsTopic(target, one, {
      info: (m) => this.logger.info(m),
      warn: (m) => this.logger.warn(m),
      error: (m) => this.logger.error(m),
    })
      .then(
        (loaded) =>
          this.logger.info(
            { partition: partition.key, ...loaded, ms: Math.round(performance.now() - started) },
            'groups loaded after becoming leader',
          ),
        (err: unknown) =>
          this.logger.error({ partition: partition.key, err: (err as Error).message }, 'groups not loaded'),
      )
      .finally(() => this.loadingOffsets.delete(index));
  }

  /**
   * Asks the controller (ControlledShutdown) to move this broker's leaderships away, retrying while some remain
   * (controlled.shutdown.max.retries, controlled.shutdown.retry.backoff.ms), as Kafka brokers do.
   */
  private async controlledShutdown(): Promise<void> {
    const metadata = this.metadata as ZkMetadataStore;
    for (let attempt = 0; ; attempt++) {
      let remaining: number;
      const controllerId = metadata.controllerId();
      if (controllerId === this.nodeId && this.controller !== null && this.controller.isActive) {
        remaining = (await this.controller.controlledShutdown(this.nodeId)).length;
      } else {
        const node = controllerId < 0 ? undefined : metadata.broker(controllerId);
        const ep = node?.endpoints.find((e) => e.listener === this.config.listeners[0]?.name) ?? node?.endpoints[0];
        if (ep === undefined) throw new Error('no controller to ask');
        const conn = await BrokerConnection.connect({
          host: ep.host,
          port: ep.port,
          clientId: `samsa-broker-${this.nodeId}`,
          requestTimeoutMs: 30_000,
        });
        try {
          const res = await conn.send<ControlledShutdownResponse>(7, 3, { brokerId: this.nodeId, brokerEpoch: -1n });
          if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode);
          remaining = res.remainingPartitions.length;
        } finally {
          conn.close();
        }
      }
      this.logger.info({ remaining, attempt }, 'controlled shutdown');
      if (remaining === 0 || attempt >= this.config.controlledShutdownMaxRetries) return;
      await new Promise((r) => setTimeout(r, this.config.controlledShutdownRetryBackoffMs));
    }
  }

  /** Loads the groups from `__consumer_offsets` when it exists and schedules offset expiration. */
  private async startGroupCoordinator(): Promise<void> {
    if (this.offsetsTopic.numPartitions > 0) {
      const started = performance.now();
      const loaded = await loadGroupsFromOffsetsTopic(this.groups, this.offsetsTopic, {
        info: (m) => this.logger.info(m),
        warn: (m) => this.logger.warn(m),
        error: (m) => this.logger.error(m),
      });
      this.logger.info({ ...loaded, ms: Math.round(performance.now() - started) }, 'groups loaded');
    }
    if (this.metadata instanceof ZkMetadataStore) {
      const n = this.offsetsTopic.numPartitions;
      for (let i = 0; i < n; i++) if (this.replicas.get(OFFSETS_TOPIC, i)?.isLeader) this.ledOffsets.add(i);
      this.replicas.onRoleChanged((p, hosted) => this.followOffsetsLeadership(p, hosted));
    }
    const interval = Math.min(this.config.offsetsRetentionCheckIntervalMs, 0x7fffffff);
    this.offsetsExpiry = setInterval(() => {
      this.groups.expireOffsets().then(
        (removed) => {
          if (removed > 0) this.logger.info({ removed }, 'expired committed offsets removed');
        },
        (err: unknown) => this.logger.warn({ err: (err as Error).message }, 'offset expiration failed'),
      );
    }, interval);
    this.offsetsExpiry.unref();
  }

  /**
   * Creates `__consumer_offsets` unless it exists (concurrent calls share one creation). A new topic is empty, so
   * there is nothing to load.
   */
  ensureOffsetsTopic(): Promise<void> {
    if (this.metadata.topic(OFFSETS_TOPIC) !== undefined) return Promise.resolve();
    this.creatingOffsetsTopic ??= this.createOffsetsTopic().finally(() => {
      this.creatingOffsetsTopic = null;
    });
    return this.creatingOffsetsTopic;
  }

  private async createOffsetsTopic(): Promise<void> {
    if (this.metadata.topic(OFFSETS_TOPIC) !== undefined) return;
    // Kafka refuses to create the topic while fewer brokers than offsets.topic.replication.factor are alive (groups
    // get COORDINATOR_NOT_AVAILABLE until then). Samsa caps the factor at the live brokers instead, so that the
    // default of 3 works on one-node development clusters; production clusters should start with enough brokers.
    const live = this.metadata.brokers().length;
    const replicationFactor = Math.max(1, Math.min(this.config.offsetsTopicReplicationFactor, live));
    try {
      await this.topics.createTopic({
        name: OFFSETS_TOPIC,
        numPartitions: this.config.offsetsTopicNumPartitions,
        replicationFactor,
        assignments: [],
        configs: {
          'cleanup.policy': 'compact',
          'compression.type': 'producer',
          // Kafka's offsets.topic.segment.bytes default.
          'segment.bytes': '104857600',
        },
        // Groups must work even when only some brokers have a rack: place without racks then.
        rackAwareMode: 'safe',
      });
    } catch (err) {
      // Another broker created it first (cluster mode).
      if (err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) return;
      throw err;
    }
    this.logger.info(
      { topic: OFFSETS_TOPIC, partitions: this.config.offsetsTopicNumPartitions, replicationFactor },
      'created the offsets topic',
    );
  }

  private async listen(): Promise<void> {
    const registry = new HandlerRegistry(allHandlers(this));
    for (const l of this.config.listeners) {
      const server = await startServer({
        host: l.host === '' ? '::' : l.host,
        port: l.port,
        logger: this.logger.child({ listener: l.name }),
        maxRequestBytes: this.config.socketRequestMaxBytes,
        maxConnections: this.config.maxConnections,
        idleMs: this.config.connectionsMaxIdleMs,
        handlers: registry,
        listenerName: l.name,
      });
      this.servers.push(server);
      const adv = this.config.advertisedListeners.find((a) => a.name === l.name) ?? l;
      this.bound.push({
        name: l.name,
        host: server.address,
        port: server.port,
        advertisedHost: adv.host === '' ? 'localhost' : adv.host,
        // A listener on port 0 gets a free port, which is then also the one advertised.
        advertisedPort: adv.port === 0 ? server.port : adv.port,
      });
    }
    const self = selfInfo(
      this.config,
      this.bound.map((b) => ({
        name: b.name,
        host: b.advertisedHost,
        port: b.advertisedPort,
        securityProtocol: this.config.listeners.find((l) => l.name === b.name)?.securityProtocol ?? 'PLAINTEXT',
      })),
    );
    if (this.metadata instanceof ZkMetadataStore) {
      // Registered once clients can connect (as Kafka does), then a candidate for controller.
      await this.metadata.register(self);
      this.controller = new ZkController(this.metadata, this.nodeId, this.logger.child({ component: 'controller' }), {
        autoLeaderRebalance: this.config.autoLeaderRebalanceEnable,
        imbalanceCheckIntervalMs: this.config.leaderImbalanceCheckIntervalMs,
        imbalancePercentage: this.config.leaderImbalancePerBrokerPercentage,
      });
      this.controller.start();
    } else this.metadata.updateSelf(self);
  }
}

function selfInfo(config: BrokerConfig, listeners: readonly ListenerConfig[]): BrokerInfo {
  const endpoints: BrokerEndpoint[] = listeners.map((l) => ({
    listener: l.name,
    host: l.host,
    port: l.port,
    securityProtocol: l.securityProtocol,
  }));
  return { id: config.nodeId, rack: config.brokerRack, endpoints };
}
