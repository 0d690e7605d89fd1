/**
 * The cluster model kept in ZooKeeper (cluster mode), in Kafka's znode layout (znodes.ts): every broker holds an
 * in-memory image of the live brokers, the controller, the topics with their assignments, partition states and
 * config overrides, kept current with one-shot watches that are set again on every read; handlers read the image
 * synchronously, as they read the embedded store.
 *
 * Writes go to ZooKeeper first, as atomic multi-operations, and become visible when the image has read them back:
 * a topic (assignment, partition states with a leader among the live replicas, config overrides) is created in
 * one multi, so no broker ever sees half a topic; partitions are added with a compare-and-set on the topic's
 * znode version (refused while a reassignment runs, as in Kafka); config changes also leave a /config/changes
 * notification, as Kafka's admin client does. The controller's reassignment writes (`writeAssignments`) change the
 * topic znode's replicas and adding/removing replicas together with the partition states that must change with
 * them, in one multi of compare-and-sets; a leader's ISR change also checks that the topic znode is still the one
 * it read, so a replica a reassignment just removed never gets back into an ISR.
 *
 * Registration: once the listeners are bound, `register` creates the ephemeral /brokers/ids/<id>. A registration
 * still held by a previous process of the same id (killed, its session not yet expired) is waited out for up to
 * the session timeout; a live broker with the same id makes the start fail, as in Kafka.
 *
 * Session expiry: the ZooKeeper client reports it; the store opens a new session, registers again, and reads the
 * whole tree again, emitting whatever changed meanwhile (the watches of the old session are void). The controller
 * (controller.ts) is told through `onSession` to stand for election again.
 *
 * Concurrency: image updates run one at a time on a promise chain (watch events, writes' read-backs and resyncs),
 * so listeners see changes in the order they were read.
 */

import type { Logger } from '../../log/logger.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { LeaderAndIsr, ReplicaAssignment } from '../reassignment.js';
import type { BrokerInfo, MetadataChange, MetadataStore, NewTopic, PartitionState, TopicInfo } from '../types.js';
import { randomUuid, ZERO_UUID } from '../uuid.js';
import { isZkError, ZooKeeperError } from './errors.js';
import { type WatchEvent, ZkClient, type ZkOp } from './zk-client.js';
import {
  decodeBroker,
  decodeClusterId,
  decodeConfig,
  decodeController,
  decodeControllerEpoch,
  decodePartitionState,
  decodeTopic,
  encodeBroker,
  encodeClusterId,
  encodeConfig,
  encodeConfigChange,
  encodePartitionState,
  encodeTopic,
  Paths,
  PERSISTENT_ROOTS,
  ZnodeFormatError,
} from './znodes.js';

export interface ZkStoreOptions {
  /** `zookeeper.connect`: host:port[,host:port...][/chroot]. */
  connect: string;
  nodeId: number;
  /** `zookeeper.session.timeout.ms` */
  sessionTimeoutMs: number;
  /** `zookeeper.connection.timeout.ms` */
  connectionTimeoutMs: number;
  logger: Logger;
}

const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);

/** A partition's state as read, with the znode version that compare-and-set writes expect. */
export interface VersionedState extends PartitionState {
  /** Version of the state znode; -1 when it does not exist yet. */
  zkVersion: number;
  controllerEpoch: number;
  /** Replicas being added / removed by a reassignment in progress (both empty when none runs). */
  adding: readonly number[];
  removing: readonly number[];
}

/**
 * A partition's new assignment and, when they must change with it, its new leader, epoch and ISR, computed from
 * the state znode at `stateVersion`.
 */
export interface AssignmentChange {
  assignment: ReplicaAssignment;
  state: LeaderAndIsr | null;
  stateVersion: number;
}

export class ZkMetadataStore implements MetadataStore {
  clusterId = '';
  private readonly brokersById = new Map<number, BrokerInfo>();
  private controller = -1;
  private controllerEpochValue = 0;
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  /** Znode versions: the topic's assignment znode, and each partition's state znode. */
  private readonly topicVersions = new Map<string, number>();
  private readonly stateVersions = new Map<string, VersionedState[]>();
  private readonly listeners = new Set<(change: MetadataChange) => void>();
  private readonly sessionListeners = new Set<() => void>();
  private chain: Promise<unknown> = Promise.resolve();
  private self: BrokerInfo | null = null;
  private closed = false;
  /** From a session's expiry until the next one has registered and re-read the image. */
  private renewing = false;

  private constructor(
    readonly zk: ZkClient,
    private readonly options: ZkStoreOptions,
  ) {}

  /** Connects, creates Kafka's persistent znodes and the cluster id when missing, and reads the whole model. */
  static async open(options: ZkStoreOptions): Promise<ZkMetadataStore> {
    const zk = await ZkClient.connect(options.connect, {
      sessionTimeoutMs: options.sessionTimeoutMs,
      connectionTimeoutMs: options.connectionTimeoutMs,
      createChroot: true,
    });
    const store = new ZkMetadataStore(zk, options);
    try {
      for (const path of PERSISTENT_ROOTS) await zk.mkdirp(path);
      store.clusterId = await store.ensureClusterId();
      zk.on('expired', (info) => store.onExpired(info.reason));
      await store.enqueue(() => store.syncAll());
    } catch (e) {
      await zk.close();
      throw e;
    }
    return store;
  }

  // ---- reads (the image) -------------------------------------------------------------------------------------

  controllerId(): number {
    return this.controller;
  }

  /**
   * False while the session may have expired on ZooKeeper (not heard from within its timeout: the controller may
   * already have moved this broker's partitions) and until a new session has re-read the image. A broker then
   * neither leads nor names itself leader: a thawed process would otherwise take writes for partitions another
   * broker leads, and acknowledge acks=1 ones that its truncation then drops.
   */
  sessionCurrent(): boolean {
    return !this.renewing && this.zk.heardWithinTimeout();
  }

  /** The epoch of the controller, as last read from /controller_epoch. */
  get controllerEpoch(): number {
    return this.controllerEpochValue;
  }

  brokers(): readonly BrokerInfo[] {
    return [...this.brokersById.values()].sort((a, b) => a.id - b.id);
  }

  broker(id: number): BrokerInfo | undefined {
    return this.brokersById.get(id);
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

  /** The version of the topic's znode as read into the image (its assignment), or -1 for an unknown topic. */
  topicVersion(topic: string): number {
    return this.topicVersions.get(topic) ?? -1;
  }

  /** The partition states of a topic with their znode versions (for the controller's compare-and-set writes). */
  states(topic: string): readonly VersionedState[] {
    return this.stateVersions.get(topic) ?? [];
  }

  subscribe(listener: (change: MetadataChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after a new session replaced an expired one (the controller stands for election again). */
  onSession(listener: () => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  // ---- registration ------------------------------------------------------------------------------------------

  /** Registers this broker (ephemeral /brokers/ids/<id>) with its bound endpoints. */
  async register(self: BrokerInfo): Promise<void> {
    this.self = self;
    const path = Paths.broker(self.id);
    const deadline = Date.now() + this.zk.sessionTimeoutMs + this.options.connectionTimeoutMs;
    for (;;) {
      try {
        await this.zk.create(path, encodeBroker(self), { ephemeral: true });
        break;
      } catch (e) {
        if (!isZkError(e, 'NODE_EXISTS')) throw e;
        const existing = await this.zk.exists(path);
        if (existing !== null && existing.ephemeralOwner === this.zk.sessionId) break;
        if (Date.now() >= deadline) {
          throw new KafkaError(
            ErrorCode.BROKER_ID_NOT_REGISTERED,
            `broker id ${self.id} is registered in ZooKeeper by another live broker (${path}); every broker needs its own node.id`,
          );
        }
        // A previous process of this broker whose session has not expired yet: wait for its registration to go.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 500);
          this.zk.exists(path, { watch: () => resolve() }).then(
            (stat) => {
              if (stat === null) {
                clearTimeout(timer);
                resolve();
              }
            },
            () => resolve(),
          );
        });
      }
    }
    await this.enqueue(() => this.loadBrokers());
  }

  // ---- writes --------------------------------------------------------------------------------------------------

  async createTopic(topic: NewTopic): Promise<TopicInfo> {
    const live = new Set(this.brokersById.keys());
    const id = randomUuid();
    const ops: ZkOp[] = [
      {
        op: 'create',
        path: Paths.topic(topic.name),
        data: encodeTopic({
          topicId: id,
          assignments: topic.assignments.map((r) => [...r]),
          adding: new Map(),
          removing: new Map(),
        }),
      },
      { op: 'create', path: Paths.partitions(topic.name) },
    ];
    topic.assignments.forEach((replicas, p) => {
      ops.push({ op: 'create', path: Paths.partition(topic.name, p) });
      ops.push({ op: 'create', path: Paths.partitionState(topic.name, p), data: this.initialState(replicas, live) });
    });
    const configPath = Paths.topicConfig(topic.name);
    const configExists = (await this.zk.exists(configPath)) !== null;
    ops.push({ op: configExists ? 'set' : 'create', path: configPath, data: encodeConfig(topic.configs) });
    try {
      await this.zk.multi(ops);
    } catch (e) {
      if (isZkError(e, 'NODE_EXISTS') && e.path === Paths.topic(topic.name)) {
        throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${topic.name}' already exists.`);
      }
      throw storeError(e, `creating topic ${topic.name}`);
    }
    await this.enqueue(() => this.loadTopic(topic.name));
    const created = this.byName.get(topic.name);
    if (created === undefined) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `topic ${topic.name} was deleted right after creation`,
      );
    }
    return created;
  }

  async deleteTopic(name: string): Promise<void> {
    const count = this.stateVersions.get(name)?.length ?? 0;
    const ops: ZkOp[] = [];
    for (let p = 0; p < count; p++) {
      if ((await this.zk.exists(Paths.partitionState(name, p))) !== null) {
        ops.push({ op: 'delete', path: Paths.partitionState(name, p) });
      }
      ops.push({ op: 'delete', path: Paths.partition(name, p) });
    }
    if ((await this.zk.exists(Paths.partitions(name))) !== null)
      ops.push({ op: 'delete', path: Paths.partitions(name) });
    ops.push({ op: 'delete', path: Paths.topic(name) });
    if ((await this.zk.exists(Paths.topicConfig(name))) !== null)
      ops.push({ op: 'delete', path: Paths.topicConfig(name) });
    try {
      await this.zk.multi(ops);
    } catch (e) {
      if (isZkError(e, 'NO_NODE') && e.path === Paths.topic(name)) {
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
      }
      throw storeError(e, `deleting topic ${name}`);
    }
    await this.enqueue(() => this.loadTopic(name));
  }

  async addPartitions(name: string, assignments: readonly (readonly number[])[]): Promise<TopicInfo> {
    const topic = this.byName.get(name);
    const version = this.topicVersions.get(name);
    if (topic === undefined || version === undefined) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    }
    const states = this.stateVersions.get(name) ?? [];
    if (states.some((s) => s.adding.length > 0 || s.removing.length > 0)) {
      // As Kafka: the controller rewrites this topic's znode while the reassignment runs.
      throw new KafkaError(
        ErrorCode.REASSIGNMENT_IN_PROGRESS,
        `A partition reassignment is in progress for the topic '${name}'.`,
      );
    }
    const live = new Set(this.brokersById.keys());
    const from = topic.partitions.length;
    const all = [...topic.partitions.map((p) => [...p.replicas]), ...assignments.map((r) => [...r])];
    const ops: ZkOp[] = [
      {
        op: 'set',
        path: Paths.topic(name),
        version,
        data: encodeTopic({ topicId: topic.id, assignments: all, adding: new Map(), removing: new Map() }),
      },
    ];
    assignments.forEach((replicas, i) => {
      ops.push({ op: 'create', path: Paths.partition(name, from + i) });
      ops.push({ op: 'create', path: Paths.partitionState(name, from + i), data: this.initialState(replicas, live) });
    });
    try {
      await this.zk.multi(ops);
    } catch (e) {
      if (isZkError(e, 'BAD_VERSION')) {
        throw new KafkaError(ErrorCode.REASSIGNMENT_IN_PROGRESS, `topic ${name} changed meanwhile; try again`);
      }
      throw storeError(e, `adding partitions to ${name}`);
    }
    await this.enqueue(() => this.loadTopic(name));
    return this.byName.get(name) ?? topic;
  }

  async setTopicConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<TopicInfo> {
    const path = Paths.topicConfig(name);
    const exists = (await this.zk.exists(path)) !== null;
    try {
      await this.zk.multi([
        { op: exists ? 'set' : 'create', path, data: encodeConfig(configs) },
        { op: 'create', path: Paths.configChangePrefix, data: encodeConfigChange(`topics/${name}`), sequential: true },
      ]);
    } catch (e) {
      throw storeError(e, `changing the configs of ${name}`);
    }
    await this.enqueue(() => this.loadTopic(name));
    const topic = this.byName.get(name);
    if (topic === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    return topic;
  }

  /**
   * Writes a partition's new state if its znode still has `expectedVersion` and /controller_epoch still has
   * `epochVersion` (so that a controller that lost its office cannot write). False when either moved on.
   */
  async writePartitionState(
    topic: string,
    partition: number,
    state: { leader: number; leaderEpoch: number; isr: number[]; controllerEpoch: number },
    expectedVersion: number,
    epochVersion: number,
  ): Promise<boolean> {
    const path = Paths.partitionState(topic, partition);
    const data = encodePartitionState(state);
    const ops: ZkOp[] = [{ op: 'check', path: Paths.controllerEpoch, version: epochVersion }];
    if (expectedVersion < 0) {
      if ((await this.zk.exists(Paths.partition(topic, partition))) === null) {
        ops.push({ op: 'create', path: Paths.partition(topic, partition) });
      }
      ops.push({ op: 'create', path, data });
    } else ops.push({ op: 'set', path, data, version: expectedVersion });
    try {
      await this.zk.multi(ops);
    } catch (e) {
      if (isZkError(e, 'BAD_VERSION') || isZkError(e, 'NODE_EXISTS') || isZkError(e, 'NO_NODE')) return false;
      throw e;
    }
    await this.enqueue(() => this.loadPartitionState(topic, partition));
    return true;
  }

  /**
   * Rewrites partition assignments of `topic` (replicas, and the replicas a reassignment adds and removes) with the
   * partition states that must change with them, in one multi that also checks /controller_epoch at
   * `epochVersion`: the topic znode by compare-and-set on `topicVersion` (the version the changes were computed
   * from; the other partitions' assignments are the image's, which is that version's when it still matches), each
   * state znode on its change's `stateVersion`. False when any of them moved on (the image has read the topic again
   * when this returns).
   */
  async writeAssignments(
    topic: string,
    topicVersion: number,
    changes: ReadonlyMap<number, AssignmentChange>,
    controllerEpoch: number,
    epochVersion: number,
  ): Promise<boolean> {
    const info = this.byName.get(topic);
    const version = this.topicVersions.get(topic);
    const states = this.stateVersions.get(topic);
    if (info === undefined || version === undefined || states === undefined) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic} does not exist`);
    }
    if (version !== topicVersion) {
      await this.enqueue(() => this.loadTopic(topic));
      return false;
    }
    const assignments: number[][] = [];
    const adding = new Map<number, number[]>();
    const removing = new Map<number, number[]>();
    const ops: ZkOp[] = [{ op: 'check', path: Paths.controllerEpoch, version: epochVersion }];
    for (const s of states) {
      const change = changes.get(s.partition);
      const a = change?.assignment ?? s;
      assignments.push([...a.replicas]);
      // Kafka lists only the partitions being reassigned.
      if (a.adding.length > 0) adding.set(s.partition, [...a.adding]);
      if (a.removing.length > 0) removing.set(s.partition, [...a.removing]);
      if (change?.state != null) {
        if (change.stateVersion < 0) return false;
        ops.push({
          op: 'set',
          path: Paths.partitionState(topic, s.partition),
          data: encodePartitionState({ ...change.state, isr: [...change.state.isr], controllerEpoch }),
          version: change.stateVersion,
        });
      }
    }
    ops.splice(1, 0, {
      op: 'set',
      path: Paths.topic(topic),
      version,
      data: encodeTopic({ topicId: info.id === ZERO_UUID ? null : info.id, assignments, adding, removing }),
    });
    try {
      await this.zk.multi(ops);
    } catch (e) {
      if (!isZkError(e, 'BAD_VERSION') && !isZkError(e, 'NO_NODE')) throw storeError(e, `reassigning ${topic}`);
      await this.enqueue(() => this.loadTopic(topic));
      return false;
    }
    await this.enqueue(() => this.loadTopic(topic));
    return true;
  }

  /**
   * The leader's ISR change (shrink or expand): written only while this broker still leads the partition in the
   * same leader epoch, by compare-and-set on the state znode (keeping the controller epoch it holds) with the topic
   * znode still at the version read, and only with replicas as members. False when either moved on meanwhile.
   */
  async updateIsr(topic: string, partition: number, leaderEpoch: number, isr: readonly number[]): Promise<boolean> {
    const s = this.stateVersions.get(topic)?.[partition];
    const topicVersion = this.topicVersions.get(topic);
    if (
      s === undefined ||
      topicVersion === undefined ||
      s.zkVersion < 0 ||
      s.leader !== this.options.nodeId ||
      s.leaderEpoch !== leaderEpoch ||
      !isr.every((r) => s.replicas.includes(r))
    ) {
      return false;
    }
    try {
      // The topic znode too must be as read: a reassignment that just ended must not get a removed replica back.
      await this.zk.multi([
        { op: 'check', path: Paths.topic(topic), version: topicVersion },
        {
          op: 'set',
          path: Paths.partitionState(topic, partition),
          data: encodePartitionState({
            leader: s.leader,
            leaderEpoch,
            isr: [...isr],
            controllerEpoch: s.controllerEpoch,
          }),
          version: s.zkVersion,
        },
      ]);
    } catch (e) {
      if (isZkError(e, 'BAD_VERSION') || isZkError(e, 'NO_NODE')) {
        // Read the topic again (the watch does too) so that the next try sees what moved.
        await this.enqueue(() => this.loadTopic(topic)).catch(() => {});
        return false;
      }
      throw e;
    }
    await this.enqueue(() => this.loadPartitionState(topic, partition));
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain.catch(() => {});
    // Ends the session: the registration (and /controller, if held) go at once.
    await this.zk.close();
  }

  // ---- reading ZooKeeper into the image --------------------------------------------------------------------------

  /** Runs `work` after the image updates already queued; the chain survives a failing step. */
  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Queues a reload from a watch; failures are logged (the next resync or event reads again). */
  private reload(what: string, work: () => Promise<void>): void {
    if (this.closed) return;
    this.enqueue(work).catch((e: unknown) => {
      if (this.closed) return;
      this.options.logger.warn({ what, err: (e as Error).message }, 'reading ZooKeeper failed');
      // A lost connection: the watch may be gone with the failed read; read again once connected.
      if (isZkError(e, 'CONNECTION_LOSS')) setTimeout(() => this.reload(what, work), 1000).unref();
    });
  }

  private async ensureClusterId(): Promise<string> {
    const found = await this.zk.get(Paths.clusterId);
    if (found !== null) return decodeClusterId(found.data);
    try {
      await this.zk.create(Paths.clusterId, encodeClusterId(randomUuid()));
    } catch (e) {
      if (!isZkError(e, 'NODE_EXISTS')) throw e;
    }
    const created = await this.zk.get(Paths.clusterId);
    return decodeClusterId(created?.data ?? null);
  }

  /** Reads everything again (at start and after a new session), emitting what differs from the image. */
  private async syncAll(): Promise<void> {
    await this.loadBrokers();
    await this.loadController();
    await this.loadTopicNames();
  }

  private readonly onBrokersEvent = (e: WatchEvent): void => {
    if (e.type === 'childrenChanged') this.reload('brokers', () => this.loadBrokers());
  };

  private async loadBrokers(): Promise<void> {
    const ids = await this.zk.children(Paths.brokerIds, { watch: this.onBrokersEvent });
    const next = new Map<number, BrokerInfo>();
    for (const name of ids) {
      const id = Number(name);
      if (!/^\d+$/.test(name) || !Number.isSafeInteger(id)) continue;
      const found = await this.zk.get(Paths.broker(id));
      if (found === null) continue;
      try {
        next.set(id, decodeBroker(id, found.data));
      } catch (e) {
        this.options.logger.warn({ broker: id, err: (e as Error).message }, 'unreadable broker registration');
      }
    }
    const before = [...this.brokersById.keys()].sort().join(',');
    this.brokersById.clear();
    for (const [id, info] of next) this.brokersById.set(id, info);
    if ([...next.keys()].sort().join(',') !== before) this.emit({ kind: 'brokers-changed' });
  }

  private readonly onControllerEvent = (e: WatchEvent): void => {
    if (e.type === 'created' || e.type === 'deleted' || e.type === 'dataChanged') {
      this.reload('controller', () => this.loadController());
    }
  };

  private async loadController(): Promise<void> {
    const stat = await this.zk.exists(Paths.controller, { watch: this.onControllerEvent });
    let id = -1;
    if (stat !== null) {
      const found = await this.zk.get(Paths.controller);
      if (found !== null) {
        try {
          id = decodeController(found.data);
        } catch (e) {
          this.options.logger.warn({ err: (e as Error).message }, 'unreadable controller znode');
        }
      }
    }
    const epoch = await this.zk.get(Paths.controllerEpoch);
    if (epoch !== null) this.controllerEpochValue = decodeControllerEpoch(epoch.data);
    if (id !== this.controller) {
      this.controller = id;
      this.emit({ kind: 'controller-changed', controllerId: id });
    }
  }

  private readonly onTopicsEvent = (e: WatchEvent): void => {
    if (e.type === 'childrenChanged') this.reload('topics', () => this.loadTopicNames());
  };

  private async loadTopicNames(): Promise<void> {
    const names = new Set(await this.zk.children(Paths.topics, { watch: this.onTopicsEvent }));
    for (const name of [...this.byName.keys()]) if (!names.has(name)) this.removeTopic(name);
    for (const name of names) await this.loadTopic(name);
  }

  private readonly onTopicEvent = (e: WatchEvent): void => {
    const name = e.path.slice(Paths.topics.length + 1);
    if (e.type === 'dataChanged' || e.type === 'deleted') this.reload(`topic ${name}`, () => this.loadTopic(name));
  };

  private readonly onConfigEvent = (e: WatchEvent): void => {
    const name = e.path.slice(Paths.topicConfigs.length + 1);
    if (e.type === 'dataChanged' || e.type === 'deleted' || e.type === 'created') {
      this.reload(`configs of ${name}`, () => this.loadTopic(name));
    }
  };

  private readonly onStateEvent = (e: WatchEvent): void => {
    const m = /^\/brokers\/topics\/([^/]+)\/partitions\/(\d+)\/state$/.exec(e.path);
    if (m === null) return;
    const [, name, p] = m;
    if (e.type === 'dataChanged' || e.type === 'created' || e.type === 'deleted') {
      this.reload(`state of ${name}-${p}`, () => this.loadPartitionState(name!, Number(p)));
    }
  };

  /** Reads a topic's assignment, configs and partition states (setting watches on each) into the image. */
  private async loadTopic(name: string): Promise<void> {
    const found = await this.zk.get(Paths.topic(name), { watch: this.onTopicEvent });
    if (found === null) {
      this.removeTopic(name);
      return;
    }
    let znode: ReturnType<typeof decodeTopic>;
    try {
      znode = decodeTopic(name, found.data);
    } catch (e) {
      if (!(e instanceof ZnodeFormatError)) throw e;
      this.options.logger.warn({ topic: name, err: e.message }, 'unreadable topic znode: topic left out');
      return;
    }
    const configZnode = await this.zk.get(Paths.topicConfig(name), { watch: this.onConfigEvent });
    if (configZnode === null) await this.zk.exists(Paths.topicConfig(name), { watch: this.onConfigEvent });
    let configs: Record<string, string> = {};
    if (configZnode !== null) {
      try {
        configs = decodeConfig(Paths.topicConfig(name), configZnode.data);
      } catch (e) {
        this.options.logger.warn({ topic: name, err: (e as Error).message }, 'unreadable topic configs');
      }
    }
    const states: VersionedState[] = [];
    for (let p = 0; p < znode.assignments.length; p++) {
      states.push(
        await this.readState(name, p, {
          replicas: znode.assignments[p]!,
          adding: znode.adding.get(p) ?? [],
          removing: znode.removing.get(p) ?? [],
        }),
      );
    }
    this.topicVersions.set(name, found.stat.version);
    const before = this.byName.get(name);
    // A reassignment's adding/removing replicas may change alone (a replaced reassignment with the same replicas).
    const old = this.stateVersions.get(name) ?? [];
    const reassignmentChanged = states
      .filter((s, p) => {
        const o = old[p];
        return o !== undefined && (o.adding.join() !== s.adding.join() || o.removing.join() !== s.removing.join());
      })
      .map((s) => s.partition);
    const info: TopicInfo = {
      name,
      id: znode.topicId ?? before?.id ?? ZERO_UUID,
      internal: INTERNAL_TOPICS.has(name),
      partitions: states.map(toPartitionState),
      configs,
    };
    this.stateVersions.set(name, states);
    this.put(before, info, reassignmentChanged);
  }

  private async readState(name: string, p: number, assignment: ReplicaAssignment): Promise<VersionedState> {
    const { replicas, adding, removing } = assignment;
    const path = Paths.partitionState(name, p);
    const found = await this.zk.get(path, { watch: this.onStateEvent });
    if (found === null) {
      // Not created yet (a topic written by another tool, before its controller elected leaders).
      await this.zk.exists(path, { watch: this.onStateEvent });
      return {
        partition: p,
        leader: -1,
        leaderEpoch: 0,
        partitionEpoch: 0,
        replicas,
        isr: [],
        zkVersion: -1,
        controllerEpoch: 0,
        adding,
        removing,
      };
    }
    try {
      const s = decodePartitionState(name, p, found.data);
      return {
        partition: p,
        leader: s.leader,
        leaderEpoch: s.leaderEpoch,
        partitionEpoch: found.stat.version,
        replicas,
        isr: s.isr,
        zkVersion: found.stat.version,
        controllerEpoch: s.controllerEpoch,
        adding,
        removing,
      };
    } catch (e) {
      this.options.logger.warn({ topic: name, partition: p, err: (e as Error).message }, 'unreadable partition state');
      return {
        partition: p,
        leader: -1,
        leaderEpoch: 0,
        partitionEpoch: 0,
        replicas,
        isr: [],
        zkVersion: found.stat.version,
        controllerEpoch: 0,
        adding,
        removing,
      };
    }
  }

  private async loadPartitionState(name: string, p: number): Promise<void> {
    const before = this.byName.get(name);
    const states = this.stateVersions.get(name);
    if (before === undefined || states === undefined || p >= states.length) {
      // A partition the image does not know yet: read the whole topic.
      await this.loadTopic(name);
      return;
    }
    const next = [...states];
    next[p] = await this.readState(name, p, states[p]!);
    this.stateVersions.set(name, next);
    this.put(before, { ...before, partitions: next.map(toPartitionState) });
  }

  private removeTopic(name: string): void {
    const before = this.byName.get(name);
    if (before === undefined) return;
    this.byName.delete(name);
    if (this.byId.get(before.id) === before) this.byId.delete(before.id);
    this.topicVersions.delete(name);
    this.stateVersions.delete(name);
    this.emit({ kind: 'topic-deleted', topic: before });
  }

  /** Replaces a topic in the image and emits what changed. */
  private put(before: TopicInfo | undefined, info: TopicInfo, alsoChanged: readonly number[] = []): void {
    if (before !== undefined && before.id !== info.id) {
      // Deleted and created again between two reads: the listeners see both.
      this.removeTopic(info.name);
      before = undefined;
    }
    this.byName.set(info.name, info);
    this.byId.set(info.id, info);
    if (before === undefined) {
      this.emit({ kind: 'topic-created', topic: info });
      return;
    }
    if (info.partitions.length > before.partitions.length) {
      this.emit({ kind: 'partitions-added', topic: info, from: before.partitions.length });
    }
    const changed: number[] = [];
    const n = Math.min(before.partitions.length, info.partitions.length);
    for (let p = 0; p < n; p++) {
      if (!samePartition(before.partitions[p]!, info.partitions[p]!) || alsoChanged.includes(p)) changed.push(p);
    }
    if (changed.length > 0) this.emit({ kind: 'partitions-changed', topic: info, partitions: changed });
    if (!sameConfigs(before.configs, info.configs)) this.emit({ kind: 'configs-changed', topic: info });
  }

  private emit(change: MetadataChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (e) {
        this.options.logger.error({ change: change.kind, err: (e as Error).message }, 'metadata listener failed');
      }
    }
  }

  /** Leader: the first live replica; ISR: the live replicas (all of them, for a new partition). */
  private initialState(replicas: readonly number[], live: ReadonlySet<number>): Buffer {
    const isr = replicas.filter((r) => live.has(r));
    return encodePartitionState({
      leader: isr[0] ?? -1,
      leaderEpoch: 0,
      isr,
      controllerEpoch: this.controllerEpochValue,
    });
  }

  // ---- session expiry ------------------------------------------------------------------------------------------

  private onExpired(reason: string): void {
    if (this.closed) return;
    this.options.logger.warn({ reason }, 'ZooKeeper session expired: opening a new one');
    this.renewing = true;
    void this.renew();
  }

  private async renew(): Promise<void> {
    while (!this.closed) {
      try {
        await this.zk.renewSession();
        if (this.self !== null) await this.register(this.self);
        await this.enqueue(() => this.syncAll());
        this.renewing = false;
        this.options.logger.info({ sessionId: this.zk.sessionId.toString(16) }, 'ZooKeeper session renewed');
        for (const l of this.sessionListeners) l();
        return;
      } catch (e) {
        if (this.closed) return;
        this.options.logger.warn({ err: (e as Error).message }, 'renewing the ZooKeeper session failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}

function toPartitionState(s: VersionedState): PartitionState {
  return {
    partition: s.partition,
    leader: s.leader,
    leaderEpoch: s.leaderEpoch,
    partitionEpoch: s.partitionEpoch,
    replicas: s.replicas,
    isr: s.isr,
  };
}

function samePartition(a: PartitionState, b: PartitionState): boolean {
  return (
    a.leader === b.leader &&
    a.leaderEpoch === b.leaderEpoch &&
    a.partitionEpoch === b.partitionEpoch &&
    a.isr.join(',') === b.isr.join(',') &&
    a.replicas.join(',') === b.replicas.join(',')
  );
}

function sameConfigs(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** A ZooKeeper failure during a write: retriable for clients when the connection dropped or the session ended. */
function storeError(e: unknown, what: string): Error {
  if (e instanceof KafkaError) return e;
  if (e instanceof ZooKeeperError) {
    const retriable = e.is('CONNECTION_LOSS') || e.is('SESSION_EXPIRED') || e.is('OPERATION_TIMEOUT');
    return new KafkaError(
      retriable ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.UNKNOWN_SERVER_ERROR,
      `${what}: ZooKeeper answered ${e.message}`,
      { cause: e },
    );
  }
  return e as Error;
}
