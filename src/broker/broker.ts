/**
 * A broker process's parts, wired together: the metadata store (embedded: this node is a cluster of one), the
 * log manager over `log.dirs`, the replica manager hosting partitions, the waiting rooms for long polls and
 * acks=all, the handler registry (one handler module per API key) and one TCP server per listener.
 *
 * Start order: metadata, logs (recovered if the last stop was not clean), partitions, then the listeners, so
 * that no request sees a half-built broker. `stop()` reverses it: listeners close, waiting requests are
 * answered, logs are flushed and checkpointed and the clean-shutdown marker is written, so the next start skips
 * recovery.
 */
import { resolve } from 'node:path';
import { GroupCoordinator } from '../coordinator/group/index.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { EmbeddedMetadataStore } from '../metadata/embedded/embedded-store.js';
import { TopicAdmin } from '../metadata/topic-admin.js';
import type { BrokerEndpoint, BrokerInfo, TopicInfo } from '../metadata/types.js';
import { LogManager } from '../storage/log-manager.js';
import type { BrokerConfig, ListenerConfig } from './config/broker-config.js';
import { type TopicSettings, topicSettings, validateTopicConfigs } from './config/topic-config.js';
import type { BrokerContext } from './context.js';
import { FetchSessionCache } from './fetch-session.js';
import { allHandlers } from './handlers/index.js';
import { HandlerRegistry } from './handlers/registry.js';
import { Purgatory } from './purgatory.js';
import { ReplicaManager } from './replica/replica-manager.js';
import { type RunningServer, startServer } from './server.js';

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
  readonly nodeId: number;
  readonly topics: TopicAdmin;
  readonly fetchPurgatory = new Purgatory({ name: 'fetch' });
  readonly producePurgatory = new Purgatory({ name: 'produce' });
  readonly fetchSessions: FetchSessionCache;
  readonly replicas: ReplicaManager;
  readonly groups: GroupCoordinator;
  private servers: RunningServer[] = [];
  private bound: BoundListener[] = [];
  private stopping: Promise<void> | null = null;
  private readonly settingsCache = new WeakMap<TopicInfo, TopicSettings>();

  private constructor(
    readonly config: BrokerConfig,
    readonly metadata: EmbeddedMetadataStore,
    readonly logs: LogManager,
    readonly logger: Logger,
  ) {
    this.nodeId = config.nodeId;
    this.topics = new TopicAdmin(metadata, config, validateTopicConfigs);
    this.fetchSessions = new FetchSessionCache({ maxSlots: config.maxIncrementalFetchSessionCacheSlots });
    this.replicas = new ReplicaManager({
      nodeId: config.nodeId,
      logs,
      metadata,
      logger,
      logConfigFor: (t) => this.settingsOf(t),
    });
    this.groups = new GroupCoordinator({
      config: {
        groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
        groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        groupMaxSize: config.groupMaxSize,
        offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
        offsetsRetentionMs: config.offsetsRetentionMs,
      },
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
  }

  /** Starts a broker with `config`; resolves once every listener accepts connections. */
  static async start(config: BrokerConfig, logger: Logger = silentLogger): Promise<Broker> {
    const logDirs = config.logDirs.map((d) => resolve(d));
    const metadata = EmbeddedMetadataStore.open({
      dir: logDirs[0]!,
      self: selfInfo(config, config.advertisedListeners),
      clusterId: config.clusterId,
    });
    const logs = new LogManager({
      logDirs,
      defaultConfig: config.logDefaults,
      logger,
      checkpointIntervalMs: config.logFlushOffsetCheckpointIntervalMs,
      retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
      cleanerEnable: config.logCleanerEnable,
    });
    const broker = new Broker(config, metadata, logs, logger);
    try {
      logs.startup((topic) => {
        const info = metadata.topic(topic);
        return info === undefined ? {} : broker.settingsOf(info);
      });
      broker.replicas.start();
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
    await Promise.all(this.servers.map((s) => s.close()));
    this.servers = [];
    this.fetchPurgatory.expireAll();
    this.producePurgatory.expireAll();
    this.groups.close();
    await this.replicas.stop();
    await this.logs.shutdown();
    await this.metadata.close();
    this.logger.info({ nodeId: this.nodeId }, 'broker stopped');
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
    this.metadata.updateSelf(
      selfInfo(
        this.config,
        this.bound.map((b) => ({
          name: b.name,
          host: b.advertisedHost,
          port: b.advertisedPort,
          securityProtocol: this.config.listeners.find((l) => l.name === b.name)?.securityProtocol ?? 'PLAINTEXT',
        })),
      ),
    );
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
