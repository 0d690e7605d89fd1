/**
 * The client's view of a Kafka cluster: bootstrap, a metadata cache (brokers, topics, partition leaders) refreshed
 * on demand, when older than `metadataMaxAgeMs`, and after errors that say it is stale; one connection per broker,
 * opened lazily and reopened with exponential backoff (`reconnectBackoffMs` .. `reconnectBackoffMaxMs`); group and
 * transaction coordinators found with FindCoordinator and cached until an error says they moved.
 *
 * Failure to reach any bootstrap broker is one `KafkaConnectionError` that names them all, e.g.
 * "no broker answers at localhost:9092".
 *
 * Concurrency: single-threaded; concurrent metadata refreshes share one request, concurrent connects to one broker
 * share one connection attempt.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { FindCoordinatorResponse, MetadataResponse } from '../../protocol/index.js';
import { KafkaConnectionError } from '../errors.js';
import { BrokerConnection } from './connection.js';

export interface ClusterOptions {
  /** "host:port" of one or more brokers. */
  bootstrapServers: readonly string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Default 5 minutes (Kafka's metadata.max.age.ms). */
  metadataMaxAgeMs?: number;
  /** Default 50 ms. */
  reconnectBackoffMs?: number;
  /** Default 1000 ms. */
  reconnectBackoffMaxMs?: number;
}

export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  internal: boolean;
  errorCode: number;
  partitions: PartitionMetadata[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: Map<number, BrokerNode>;
  topics: Map<string, TopicMetadata>;
  /** When it was fetched (ms). */
  fetchedAt: number;
}

/** FindCoordinator key types. */
export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;

/** Errors after which the cached leaders or coordinators can no longer be trusted. */
const STALE_METADATA_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
]);
export const COORDINATOR_MOVED_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

export function isStaleMetadataError(code: number): boolean {
  return STALE_METADATA_ERRORS.has(code);
}

function parseAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = at < 0 ? address : address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = at < 0 ? 9092 : Number(address.slice(at + 1));
  if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new KafkaConnectionError(`not a host:port address: '${address}'`);
  }
  return { host, port };
}

/** A Metadata answer's partitions of one topic, in partition order. */
export function partitionsOf(t: MetadataResponse['topics'][number]): PartitionMetadata[] {
  return t.partitions
    .map((p) => ({
      partition: p.partitionIndex,
      leader: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicaNodes,
      isr: p.isrNodes,
      offlineReplicas: p.offlineReplicas,
      errorCode: p.errorCode,
    }))
    .sort((a, b) => a.partition - b.partition);
}

const METADATA = 3;
const FIND_COORDINATOR = 10;

export class Cluster {
  readonly clientId: string;
  private readonly bootstrap: { host: string; port: number }[];
  private readonly metadataMaxAgeMs: number;
  private readonly backoffMs: number;
  private readonly backoffMaxMs: number;
  private current: ClusterMetadata | null = null;
  private refreshing: Promise<ClusterMetadata> | null = null;
  /** Topics the client works with; each refresh asks for all of them (null: every topic). */
  private readonly interest = new Set<string>();
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  /** The connections of `connections` that are open, for callers that must not wait for one being opened. */
  private readonly established = new Map<number, BrokerConnection>();
  private readonly failures = new Map<string, { count: number; until: number }>();
  private bootstrapConnection: Promise<BrokerConnection> | null = null;
  private readonly coordinators = new Map<string, number>();
  private closed = false;

  constructor(private readonly options: ClusterOptions) {
    if (options.bootstrapServers.length === 0) throw new KafkaConnectionError('no bootstrap servers given');
    this.bootstrap = options.bootstrapServers.map(parseAddress);
    this.clientId = options.clientId ?? 'samsa';
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    this.backoffMs = options.reconnectBackoffMs ?? 50;
    this.backoffMaxMs = options.reconnectBackoffMaxMs ?? 1000;
  }

  // ---- connections ----------------------------------------------------------------------------------------------

  private async open(host: string, port: number): Promise<BrokerConnection> {
    if (this.closed) throw new KafkaConnectionError('the client is closed');
    const address = `${host}:${port}`;
    const failed = this.failures.get(address);
    if (failed !== undefined && failed.until > Date.now()) {
      await new Promise((r) => setTimeout(r, failed.until - Date.now()));
    }
    try {
      const conn = await BrokerConnection.connect({
        host,
        port,
        clientId: this.clientId,
        ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
        ...(this.options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: this.options.requestTimeoutMs }),
      });
      this.failures.delete(address);
      if (this.closed) {
        // close() ran while this connection was being opened.
        conn.close();
        throw new KafkaConnectionError('the client is closed');
      }
      return conn;
    } catch (e) {
      const count = (failed?.count ?? 0) + 1;
      const delay = Math.min(this.backoffMaxMs, this.backoffMs * 2 ** (count - 1));
      // Jitter (+-20%) so that many clients do not reconnect in step.
      this.failures.set(address, { count, until: Date.now() + delay * (0.8 + Math.random() * 0.4) });
      throw e;
    }
  }

  /**
   * A connection to any bootstrap broker: the first that answers, in order, but those that failed recently (waiting
   * out their reconnect backoff) last.
   */
  private async anyBootstrap(): Promise<BrokerConnection> {
    const errors: string[] = [];
    const now = Date.now();
    const backingOff = (b: { host: string; port: number }): boolean =>
      (this.failures.get(`${b.host}:${b.port}`)?.until ?? 0) > now;
    const order = [...this.bootstrap.filter((b) => !backingOff(b)), ...this.bootstrap.filter(backingOff)];
    for (const { host, port } of order) {
      try {
        return await this.open(host, port);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    const where = this.bootstrap.map((b) => `${b.host}:${b.port}`).join(', ');
    throw new KafkaConnectionError(`no broker answers at ${where} (${errors.join('; ')})`);
  }

  /** A live connection to any broker: a known one when metadata is there, else a bootstrap broker. */
  async anyConnection(): Promise<BrokerConnection> {
    // Only open ones: one being opened may be to a broker that is down, waiting out its reconnect backoff.
    for (const c of this.established.values()) if (!c.closed) return c;
    for (;;) {
      const boot = this.bootstrapConnection;
      if (boot === null) break;
      const c = await boot.catch(() => null);
      if (c !== null && !c.closed) return c;
      if (this.bootstrapConnection === boot) this.bootstrapConnection = null;
    }
    // No await between the check above and this assignment: concurrent callers share one attempt.
    const opening = this.anyBootstrap();
    this.bootstrapConnection = opening;
    return opening;
  }

  /** The connection to broker `nodeId` (opened on first use, reopened after a failure). */
  async connection(nodeId: number): Promise<BrokerConnection> {
    for (;;) {
      const existing = this.connections.get(nodeId);
      if (existing === undefined) break;
      const c = await existing.catch(() => null);
      if (c !== null && !c.closed) return c;
      if (this.connections.get(nodeId) === existing) this.connections.delete(nodeId);
    }
    // No await between the check above and this assignment: concurrent callers share one connection.
    const opening = this.openNode(nodeId);
    this.connections.set(nodeId, opening);
    opening.then(
      (conn) => {
        if (this.connections.get(nodeId) !== opening) return;
        this.established.set(nodeId, conn);
        conn.onClose(() => {
          if (this.established.get(nodeId) === conn) this.established.delete(nodeId);
        });
      },
      () => {
        if (this.connections.get(nodeId) === opening) this.connections.delete(nodeId);
      },
    );
    return opening;
  }

  private async openNode(nodeId: number): Promise<BrokerConnection> {
    let node = (this.current ?? (await this.metadata())).brokers.get(nodeId);
    if (node === undefined) node = (await this.refresh()).brokers.get(nodeId);
    if (node === undefined) throw new KafkaConnectionError(`broker ${nodeId} is not in the cluster's metadata`);
    return this.open(node.host, node.port);
  }

  // ---- metadata -------------------------------------------------------------------------------------------------

  /** Adds topics to those every refresh asks for. */
  addTopics(topics: Iterable<string>): void {
    for (const t of topics) this.interest.add(t);
  }

  /**
   * The cached metadata, refreshed first when missing, older than `metadataMaxAgeMs`, or lacking one of `topics`
   * (which join the topics of interest).
   */
  async metadata(topics: readonly string[] = []): Promise<ClusterMetadata> {
    let missing = false;
    for (const t of topics) {
      if (!this.interest.has(t)) missing = true;
      this.interest.add(t);
      if (this.current !== null && !this.current.topics.has(t)) missing = true;
    }
    const stale = this.current === null || Date.now() - this.current.fetchedAt > this.metadataMaxAgeMs;
    if (stale || missing) return this.refresh();
    return this.current!;
  }

  /** Fetches metadata now for the topics of interest (concurrent callers share one request). */
  refresh(options: { allTopics?: boolean; allowAutoTopicCreation?: boolean } = {}): Promise<ClusterMetadata> {
    if (this.refreshing !== null && !options.allTopics) return this.refreshing;
    const run = this.fetchMetadata(
      options.allTopics ? null : [...this.interest],
      options.allowAutoTopicCreation ?? false,
    );
    if (!options.allTopics) {
      this.refreshing = run;
      run.then(
        () => {
          if (this.refreshing === run) this.refreshing = null;
        },
        () => {
          if (this.refreshing === run) this.refreshing = null;
        },
      );
    }
    return run;
  }

  private async fetchMetadata(topics: string[] | null, allowAutoTopicCreation: boolean): Promise<ClusterMetadata> {
    const conn = await this.anyConnection();
    const v = conn.version(METADATA, 1, 12);
    const res = await conn.send<MetadataResponse>(METADATA, v, {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const brokers = new Map<number, BrokerNode>(
      res.brokers.map((b) => [b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }]),
    );
    const fetched: ClusterMetadata = {
      clusterId: res.clusterId,
      controllerId: res.controllerId,
      brokers,
      topics: new Map(),
      fetchedAt: Date.now(),
    };
    // A full refresh replaces the topic list; a partial one keeps topics it did not ask about.
    if (topics !== null && this.current !== null) {
      for (const [name, t] of this.current.topics) if (!topics.includes(name)) fetched.topics.set(name, t);
    }
    for (const t of res.topics) {
      if (t.name === null) continue;
      if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        fetched.topics.delete(t.name);
        continue;
      }
      fetched.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        internal: t.isInternal,
        errorCode: t.errorCode,
        partitions: partitionsOf(t),
      });
    }
    // Connections to brokers that left the cluster are closed.
    for (const [nodeId, conn] of this.connections) {
      if (brokers.has(nodeId)) continue;
      this.connections.delete(nodeId);
      conn.then(
        (c) => c.close(),
        () => {},
      );
    }
    if (topics === null || this.current === null || fetched.fetchedAt >= this.current.fetchedAt) this.current = fetched;
    return fetched;
  }

  /** The topic's metadata (refreshing once when unknown); UNKNOWN_TOPIC_OR_PARTITION when it does not exist. */
  async topic(name: string): Promise<TopicMetadata> {
    const md = await this.metadata([name]);
    const t = md.topics.get(name);
    if (t === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    if (t.errorCode !== ErrorCode.NONE)
      throw new KafkaError(t.errorCode, `topic ${name}: ${new KafkaError(t.errorCode).message}`);
    return t;
  }

  /** The leader's node id of a partition, or -1 when it has none right now. */
  async leaderOf(topic: string, partition: number): Promise<number> {
    const t = await this.topic(topic);
    return t.partitions[partition]?.leader ?? -1;
  }

  /** Drops the cached metadata's age so that the next `metadata()` refreshes (after a stale-metadata error). */
  invalidate(): void {
    if (this.current !== null) this.current = { ...this.current, fetchedAt: 0 };
  }

  // ---- coordinators ---------------------------------------------------------------------------------------------

  /** The coordinator's node id for a group (or transactional id), found once and cached. */
  async coordinatorOf(key: string, type: number = CoordinatorType.GROUP): Promise<number> {
    const cacheKey = `${type}:${key}`;
    const known = this.coordinators.get(cacheKey);
    if (known !== undefined) return known;
    const conn = await this.anyConnection();
    const v = conn.version(FIND_COORDINATOR, 1, 6);
    const res = await conn.send<FindCoordinatorResponse>(
      FIND_COORDINATOR,
      v,
      v >= 4 ? { keyType: type, coordinatorKeys: [key] } : { key, keyType: type },
    );
    const entry =
      v >= 4
        ? res.coordinators[0]
        : {
            nodeId: res.nodeId,
            host: res.host,
            port: res.port,
            errorCode: res.errorCode,
            errorMessage: res.errorMessage,
          };
    if (entry === undefined) throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (entry.errorCode !== ErrorCode.NONE) throw new KafkaError(entry.errorCode, entry.errorMessage ?? undefined);
    this.coordinators.set(cacheKey, entry.nodeId);
    return entry.nodeId;
  }

  /** Forgets a cached coordinator (after NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE). */
  forgetCoordinator(key: string, type: number = CoordinatorType.GROUP): void {
    this.coordinators.delete(`${type}:${key}`);
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------------

  /** Closes every connection; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    if (this.bootstrapConnection !== null) all.push(this.bootstrapConnection);
    this.connections.clear();
    this.established.clear();
    this.bootstrapConnection = null;
    await Promise.all(
      all.map((p) =>
        p.then(
          (c) => c.close(),
          () => {},
        ),
      ),
    );
  }
}
