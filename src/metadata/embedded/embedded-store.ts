/**
 * The embedded metadata store: the whole cluster model of a single-node cluster, kept in memory and persisted as
 * one JSON document (`samsa-metadata.json`, format version 1) in the metadata dir (the first log dir, as Kafka's
 * `metadata.log.dir` defaults to). Every change is written atomically and durably (temp file, fsync, rename, fsync
 * of the dir) before it becomes visible, so after a crash the model is the one before or after the change.
 * `meta.properties` beside it records the cluster id and node id; starting a different node id on the same data
 * fails, as in Kafka.
 *
 * This node is the controller and the leader of every partition, with an ISR of itself: a cluster of one. Leader
 * epochs are persisted so that they never go backwards across restarts.
 *
 * Concurrency: changes are serialised through a promise chain; reads see the last completed change.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../../storage/durable-file.js';
import type { BrokerInfo, MetadataChange, MetadataStore, NewTopic, PartitionState, TopicInfo } from '../types.js';
import { randomUuid } from '../uuid.js';

export const METADATA_FILE = 'samsa-metadata.json';
export const META_PROPERTIES_FILE = 'meta.properties';
const FORMAT_VERSION = 1;

export class MetadataStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MetadataStoreError';
  }
}

interface StoredPartition {
  partition: number;
  replicas: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

interface StoredTopic {
  name: string;
  id: string;
  internal: boolean;
  configs: Record<string, string>;
  partitions: StoredPartition[];
}

interface StoredModel {
  version: number;
  clusterId: string;
  nodeId: number;
  topics: StoredTopic[];
}

export interface EmbeddedStoreOptions {
  /** Where the model is kept (Kafka's metadata.log.dir: the first log dir by default). */
  dir: string;
  self: BrokerInfo;
  /** The cluster id for a new data dir; an existing one keeps its own. */
  clusterId?: string | null;
}

export class EmbeddedMetadataStore implements MetadataStore {
  readonly clusterId: string;
  private self: BrokerInfo;
  private readonly path: string;
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private readonly listeners = new Set<(change: MetadataChange) => void>();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(options: EmbeddedStoreOptions, clusterId: string) {
    this.self = options.self;
    this.path = join(options.dir, METADATA_FILE);
    this.clusterId = clusterId;
  }

  /** Loads the model from `dir`, creating an empty one (and meta.properties) on first start. */
  static open(options: EmbeddedStoreOptions): EmbeddedMetadataStore {
    mkdirSync(options.dir, { recursive: true });
    const path = join(options.dir, METADATA_FILE);
    const nodeId = options.self.id;
    let stored: StoredModel | null = null;
    if (existsSync(path)) stored = parseModel(path, readFileSync(path, 'utf8'));
    const meta = readMetaProperties(join(options.dir, META_PROPERTIES_FILE));
    if (meta !== null && meta.nodeId !== nodeId) {
      throw new MetadataStoreError(
        `the data in ${options.dir} belongs to node.id ${meta.nodeId}, not ${nodeId}: use node.id=${meta.nodeId} or another log dir`,
      );
    }
    if (stored !== null && stored.nodeId !== nodeId) {
      throw new MetadataStoreError(`${path} belongs to node.id ${stored.nodeId}, not ${nodeId}`);
    }
    const clusterId = stored?.clusterId ?? meta?.clusterId ?? options.clusterId ?? randomUuid();
    const store = new EmbeddedMetadataStore(options, clusterId);
    if (meta === null) {
      writeFileDurably(
        join(options.dir, META_PROPERTIES_FILE),
        `#Written by samsa\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`,
      );
    }
    for (const t of stored?.topics ?? []) store.index(store.toInfo(t));
    if (stored === null) store.persist();
    return store;
  }

  /** Replaces this node's registration (its endpoints are known only once the listeners are bound). */
  updateSelf(info: BrokerInfo): void {
    if (info.id !== this.self.id)
      throw new MetadataStoreError(`node id ${info.id} is not this store's ${this.self.id}`);
    this.self = info;
  }

  controllerId(): number {
    return this.self.id;
  }

  /** A single node has no session to lose. */
  sessionCurrent(): boolean {
    return true;
  }

  brokers(): readonly BrokerInfo[] {
    return [this.self];
  }

  broker(id: number): BrokerInfo | undefined {
    return id === this.self.id ? this.self : undefined;
  }

  topic(name: string): TopicInfo | undefined {
    return this.byName.get(name);
  }

  topicById(id: string): TopicInfo | undefined {
    return this.byId.get(id);
  }

  topics(): IterableIterator<TopicInfo> {
    return this.byName.values();
  }

  createTopic(topic: NewTopic): Promise<TopicInfo> {
    return this.change(() => {
      if (this.byName.has(topic.name)) throw new MetadataStoreError(`topic ${topic.name} already exists`);
      let id = randomUuid();
      while (this.byId.has(id)) id = randomUuid();
      const info = this.toInfo({
        name: topic.name,
        id,
        internal: topic.internal ?? false,
        configs: { ...topic.configs },
        partitions: topic.assignments.map((replicas, partition) => ({
          partition,
          replicas: [...replicas],
          leaderEpoch: 0,
          partitionEpoch: 0,
        })),
      });
      this.index(info);
      return { result: info, change: { kind: 'topic-created', topic: info } };
    });
  }

  deleteTopic(name: string): Promise<void> {
    return this.change(() => {
      const info = this.byName.get(name);
      if (info === undefined) throw new MetadataStoreError(`topic ${name} does not exist`);
      this.byName.delete(name);
      this.byId.delete(info.id);
      return { result: undefined, change: { kind: 'topic-deleted', topic: info } };
    });
  }

  addPartitions(name: string, assignments: readonly (readonly number[])[]): Promise<TopicInfo> {
    return this.change(() => {
      const old = this.byName.get(name);
      if (old === undefined) throw new MetadataStoreError(`topic ${name} does not exist`);
      const from = old.partitions.length;
      const added = assignments.map((replicas, i) => this.partitionState(from + i, replicas, 0, 0));
      const info: TopicInfo = { ...old, partitions: [...old.partitions, ...added] };
      this.index(info);
      return { result: info, change: { kind: 'partitions-added', topic: info, from } };
    });
  }

  setTopicConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicInfo> {
    return this.change(() => {
      const old = this.byName.get(name);
      if (old === undefined) throw new MetadataStoreError(`topic ${name} does not exist`);
      const info: TopicInfo = { ...old, configs: { ...configs } };
      this.index(info);
      return { result: info, change: { kind: 'configs-changed', topic: info } };
    });
  }

  subscribe(listener: (change: MetadataChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
    this.listeners.clear();
  }

  /**
   * Runs one change after the previous ones: applies it to the in-memory image, persists the whole model, and only
   * then tells the listeners. A failed write restores the previous image.
   */
  private change<T>(apply: () => { result: T; change: MetadataChange }): Promise<T> {
    const run = this.chain.then(() => {
      const before = new Map(this.byName);
      const { result, change } = apply();
      try {
        this.persist();
      } catch (err) {
        this.byName.clear();
        this.byId.clear();
        for (const t of before.values()) this.index(t);
        throw err;
      }
      for (const l of this.listeners) l(change);
      return result;
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private index(info: TopicInfo): void {
    this.byName.set(info.name, info);
    this.byId.set(info.id, info);
  }

  private partitionState(
    partition: number,
    replicas: readonly number[],
    leaderEpoch: number,
    partitionEpoch: number,
  ): PartitionState {
    // A cluster of one: this node leads every partition it hosts and is its whole ISR.
    const leads = replicas.includes(this.self.id);
    return {
      partition,
      leader: leads ? this.self.id : -1,
      leaderEpoch,
      partitionEpoch,
      replicas: [...replicas],
      isr: leads ? [this.self.id] : [],
    };
  }

  private toInfo(t: StoredTopic): TopicInfo {
    return {
      name: t.name,
      id: t.id,
      internal: t.internal,
      configs: t.configs,
      partitions: t.partitions.map((p) =>
        this.partitionState(p.partition, p.replicas, p.leaderEpoch, p.partitionEpoch),
      ),
    };
  }

  private persist(): void {
    const model: StoredModel = {
      version: FORMAT_VERSION,
      clusterId: this.clusterId,
      nodeId: this.self.id,
      topics: [...this.byName.values()].map((t) => ({
        name: t.name,
        id: t.id,
        internal: t.internal,
        configs: { ...t.configs },
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          replicas: [...p.replicas],
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
        })),
      })),
    };
    writeFileDurably(this.path, `${JSON.stringify(model)}\n`);
  }
}

function parseModel(path: string, text: string): StoredModel {
  let model: StoredModel;
  try {
    model = JSON.parse(text) as StoredModel;
  } catch (err) {
    throw new MetadataStoreError(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof model !== 'object' || model === null || model.version !== FORMAT_VERSION) {
    throw new MetadataStoreError(`${path}: unsupported metadata format version ${String(model?.version)}`);
  }
  if (typeof model.clusterId !== 'string' || !Number.isInteger(model.nodeId) || !Array.isArray(model.topics)) {
    throw new MetadataStoreError(`${path}: malformed metadata document`);
  }
  return model;
}

function readMetaProperties(path: string): { clusterId: string; nodeId: number } | null {
  if (!existsSync(path)) return null;
  const values = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq > 0) values.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  const clusterId = values.get('cluster.id');
  const nodeId = Number(values.get('node.id') ?? values.get('broker.id'));
  if (clusterId === undefined || !Number.isInteger(nodeId)) {
    throw new MetadataStoreError(`${path} lacks cluster.id or node.id`);
  }
  return { clusterId, nodeId };
}
