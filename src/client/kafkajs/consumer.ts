/**
 * KafkaJS's consumer API over the Samsa Consumer: `connect`, `subscribe({ topics, fromBeginning })`, `run({
 * eachMessage | eachBatch, autoCommit, ... })`, `commitOffsets`, `seek`, `pause`/`resume`/`paused`, `stop`,
 * `disconnect`, `describeGroup`, and events.
 *
 * `run()` creates a Samsa consumer in the group (eager rebalancing, KafkaJS's round-robin assigner under its name
 * 'RoundRobinAssigner' unless `partitionAssigners` says otherwise, so KafkaJS members and these can share a group)
 * and resolves once it has joined, as KafkaJS's does. Messages reach the handler batch by batch (one partition
 * each), in KafkaJS's shapes (see batch.ts).
 *
 * Offsets follow KafkaJS's model rather than the Samsa consumer's: a message is "resolved" once eachMessage
 * returned (eachBatch: `resolveOffset`, or the whole batch when `eachBatchAutoResolve`); with `autoCommit` the
 * resolved offsets are committed after every batch, between messages once `autoCommitInterval` ms passed or
 * `autoCommitThreshold` offsets were resolved, before partitions are given up in a rebalance, and on stop. The
 * Samsa consumer's own automatic commits are off. A handler that throws has the resolved offsets committed and
 * its message (eachBatch: the first unresolved one) delivered again after KafkaJS's retry wait; after `retries`
 * failures in a row the consumer crashes as KafkaJS's does: CRASH event, the consumer leaves the group, and
 * rejoins after a wait when the error was retriable (and `retry.restartOnFailure` agrees), else stays stopped.
 * A seek moves the partition at once (with autoCommit the offset is also committed, as in KafkaJS); seeks of
 * partitions not assigned yet wait for their assignment.
 *
 * Not KafkaJS's: `heartbeat()` in payloads resolves at once (the group member heartbeats in the background and a
 * rebalance waits for the batch in hand, up to the rebalance timeout, instead of failing it); batches hold up to
 * 500 messages; partitions are handled one batch at a time whatever `partitionsConsumedConcurrently` says;
 * FETCH_START, FETCH, RECEIVED_UNSUBSCRIBED_TOPICS and the network events are never emitted.
 */
import { KafkaError } from '../../protocol/errors.js';
import { Admin as SamsaAdmin } from '../admin/admin.js';
import { type Assignor, roundRobinAssignor } from '../consumer/assignors.js';
import { Consumer as SamsaConsumer } from '../consumer/consumer.js';
import type {
  AssignmentStrategy,
  ConsumerBatch,
  GroupEvent,
  OffsetToCommit,
  TopicPartition,
} from '../consumer/types.js';
import { KafkaClientError } from '../errors.js';
import { KafkaJSBatch, toKafkaMessage } from './batch.js';
import { type ClientContext, entryOf, type RetryPolicy, retryPolicy, retryTime } from './client.js';
import {
  isRetriableForKafkaJS,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  toKafkaJSError,
} from './errors.js';
import {
  ConsumerEvents,
  type EventListener,
  InstrumentationEmitter,
  type RemoveInstrumentationEventListener,
} from './events.js';
import { describeGroupsKafkaJS } from './groups.js';
import type { Logger } from './logger.js';
import type {
  ConsumerConfig,
  ConsumerRunConfig,
  ConsumerSubscribeTopic,
  ConsumerSubscribeTopics,
  GroupDescription,
  Offsets,
  PartitionAssigner,
  RetryOptions,
  TopicOffsets,
  TopicPartitionOffsetAndMetadata,
  TopicPartitions,
} from './types.js';

/** KafkaJS's round-robin assigner under its protocol name (members sorted by id, partitions dealt in turn). */
export const kafkaJSRoundRobinAssignor: Assignor = { ...roundRobinAssignor, name: 'RoundRobinAssigner' };

/** KafkaJS's `PartitionAssigners.roundRobin`; the consumer recognizes it and uses kafkaJSRoundRobinAssignor. */
const roundRobin: PartitionAssigner = () => ({ name: 'RoundRobinAssigner', version: 0 });

export const PartitionAssigners: { roundRobin: PartitionAssigner } = { roundRobin };

const EARLIEST = -2n;
const LATEST = -1n;

const key = (topic: string, partition: number): string => `${topic}:${partition}`;

function assignorsOf(list: ConsumerConfig['partitionAssigners'], groupId: string): (Assignor | AssignmentStrategy)[] {
  if (list === undefined || list.length === 0) return [kafkaJSRoundRobinAssignor];
  return list.map((a) => {
    if (typeof a === 'string') return a;
    if (typeof a !== 'function') return a;
    if (a === roundRobin) return kafkaJSRoundRobinAssignor;
    // KafkaJS's own factory (from the kafkajs package) is recognized by the name of what it builds.
    const name = (a as PartitionAssigner)({ cluster: {}, groupId, logger: null }).name;
    if (name === 'RoundRobinAssigner') return kafkaJSRoundRobinAssignor;
    throw new KafkaJSNotImplemented(
      `partition assigner ${name}: KafkaJS assigner functions are not supported by samsa/kafkajs; pass a Samsa Assignor or one of 'range', 'roundrobin', 'cooperative-sticky'`,
    );
  });
}

function parseOffset(offset: unknown): bigint {
  try {
    return BigInt(offset as string);
  } catch {
    throw new KafkaJSNonRetriableError(`Invalid offset, expected a long received ${String(offset)}`);
  }
}

function checkTopicPartition(topic: unknown, partition: unknown): void {
  if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`);
  if (Number.isNaN(Number(partition))) {
    throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${String(partition)}`);
  }
}

/** What the consumer knows of one assigned partition. */
interface Track {
  topic: string;
  partition: number;
  /** The next offset to commit: after the last resolved message (null until the first batch or after a seek to the beginning/end). */
  resolved: bigint | null;
  /** The offset last committed by this consumer (null: not known). */
  committed: bigint | null;
  /** Where this consumer started on the partition (counts resolved offsets for autoCommitThreshold). */
  start: bigint | null;
  /** Bumped by every seek: a batch in hand whose partition was sought is stale. */
  seeks: number;
}

/** Pause state of a topic, as KafkaJS keeps it: the whole topic, single partitions, exceptions to a whole-topic pause. */
interface TopicPause {
  all: boolean;
  paused: Set<number>;
  resumed: Set<number>;
}

/** One run: the Samsa consumer in the group and what belongs to its membership. */
interface Session {
  inner: SamsaConsumer;
  abort: AbortController;
  tracks: Map<string, Track>;
  pendingSeeks: Map<string, { topic: string; partition: number; offset: bigint }>;
  memberId: string;
  generationId: number;
  lastCommit: number;
  joined: () => void;
  loop: Promise<void> | null;
}

interface Handlers {
  autoCommit: boolean;
  autoCommitInterval: number | null;
  autoCommitThreshold: number | null;
  eachBatchAutoResolve: boolean;
  eachBatch: NonNullable<ConsumerRunConfig['eachBatch']> | null;
  eachMessage: NonNullable<ConsumerRunConfig['eachMessage']> | null;
}

export class Consumer {
  readonly events = ConsumerEvents;
  private readonly log: Logger;
  private readonly emitter: InstrumentationEmitter;
  private readonly groupId: string;
  private readonly retry: RetryPolicy;
  private readonly restartOnFailure: RetryOptions['restartOnFailure'];
  private readonly assignors: (Assignor | AssignmentStrategy)[];
  private readonly topics = new Map<string, { fromBeginning: boolean }>();
  private readonly pauses = new Map<string, TopicPause>();
  private bootstrap: string[] | null = null;
  private admin: SamsaAdmin | null = null;
  private session: Session | null = null;
  private handlers: Handlers | null = null;
  private running = false;
  private failures = 0;
  private stopping: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly client: ClientContext,
    private readonly config: ConsumerConfig,
  ) {
    if (!config?.groupId) throw new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.');
    this.groupId = config.groupId;
    const sessionTimeout = config.sessionTimeout ?? 30_000;
    const heartbeatInterval = config.heartbeatInterval ?? 3000;
    if (heartbeatInterval >= sessionTimeout) {
      throw new KafkaJSNonRetriableError(
        `Consumer heartbeatInterval (${heartbeatInterval}) must be lower than sessionTimeout (${sessionTimeout}). It is recommended to set heartbeatInterval to approximately a third of the sessionTimeout.`,
      );
    }
    if (config.rackId) throw new KafkaJSNotImplemented('rackId (fetching from followers) is not supported');
    this.log = client.logger.namespace('Consumer');
    this.emitter = new InstrumentationEmitter(ConsumerEvents, 'consumer', this.log);
    // KafkaJS consumers retry 5 times unless told otherwise, whatever the client's retry says.
    const retry = { ...client.retry, ...(config.retry ?? { retries: 5 }) };
    this.retry = retryPolicy(retry);
    this.restartOnFailure = retry.restartOnFailure;
    this.assignors = assignorsOf(config.partitionAssigners, this.groupId);
  }

  logger(): Logger {
    return this.log;
  }

  on(eventName: string, listener: EventListener): RemoveInstrumentationEventListener {
    return this.emitter.on(eventName, listener);
  }

  // ---- connection -------------------------------------------------------------------------------------------------

  private async ensureAdmin(): Promise<SamsaAdmin> {
    if (this.admin === null) {
      this.bootstrap = await this.client.brokers();
      this.admin = new SamsaAdmin({
        bootstrapServers: this.bootstrap,
        clientId: this.client.clientId,
        requestTimeoutMs: this.client.requestTimeout,
        connectTimeoutMs: this.client.connectionTimeout,
      });
    }
    return this.admin;
  }

  async connect(): Promise<void> {
    try {
      await (await this.ensureAdmin()).connect();
    } catch (e) {
      const admin = this.admin;
      this.admin = null;
      await admin?.close();
      throw toKafkaJSError(e);
    }
    this.emitter.emit(ConsumerEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    await this.stop();
    const admin = this.admin;
    this.admin = null;
    await admin?.close().catch(() => {});
    this.emitter.emit(ConsumerEvents.DISCONNECT);
  }

  // ---- subscription and run -------------------------------------------------------------------------------------

  async subscribe(subscription: ConsumerSubscribeTopic | ConsumerSubscribeTopics): Promise<void> {
    if (this.running) throw new KafkaJSNonRetriableError('Cannot subscribe to topic while consumer is running');
    const s = subscription as Partial<ConsumerSubscribeTopic & ConsumerSubscribeTopics>;
    if (!s.topic && !s.topics) throw new KafkaJSNonRetriableError('Missing required argument "topics"');
    if (s.topics != null && !Array.isArray(s.topics)) {
      throw new KafkaJSNonRetriableError('Argument "topics" must be an array');
    }
    const list = s.topics ?? [s.topic!];
    for (const t of list) {
      if (typeof t !== 'string' && !(t instanceof RegExp)) {
        throw new KafkaJSNonRetriableError(
          `Invalid topic ${String(t)} (${typeof t}), the topic name has to be a String or a RegExp`,
        );
      }
    }
    // As in KafkaJS, a pattern stands for the topics matching it now.
    let existing: string[] = [];
    if (list.some((t) => t instanceof RegExp)) {
      try {
        existing = await (await this.ensureAdmin()).listTopics();
      } catch (e) {
        throw toKafkaJSError(e);
      }
    }
    const fromBeginning = s.fromBeginning ?? false;
    for (const t of list) {
      if (typeof t === 'string') this.topics.set(t, { fromBeginning });
      else for (const name of existing.filter((n) => t.test(n))) this.topics.set(name, { fromBeginning });
    }
  }

  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (this.running) {
      this.log.warn('consumer#run was called, but the consumer is already running', { groupId: this.groupId });
      return;
    }
    this.handlers = {
      autoCommit: config.autoCommit ?? true,
      autoCommitInterval: config.autoCommitInterval ?? null,
      autoCommitThreshold: config.autoCommitThreshold ?? null,
      eachBatchAutoResolve: config.eachBatchAutoResolve ?? true,
      eachBatch: config.eachBatch ?? null,
      eachMessage: config.eachMessage ?? null,
    };
    this.running = true;
    this.failures = 0;
    try {
      await this.start();
    } catch (e) {
      this.running = false;
      throw toKafkaJSError(e);
    }
  }

  /** Joins the group with a new Samsa consumer; resolves once joined (or once the attempt ended). */
  private async start(): Promise<void> {
    this.log.info('Starting', { groupId: this.groupId });
    if (this.topics.size === 0) {
      throw new KafkaJSNonRetriableError('No topics subscribed: call consumer.subscribe() before consumer.run()');
    }
    await this.ensureAdmin();
    // KafkaJS's consumer group says CONNECT again each time it starts.
    this.emitter.emit(ConsumerEvents.CONNECT);
    const starts = new Set([...this.topics.values()].map((t) => t.fromBeginning));
    // Topics subscribed with different fromBeginning are sorted out per partition when assigned.
    const uniform = starts.size === 1;
    const c = this.config;
    let joined!: () => void;
    const firstJoin = new Promise<void>((resolve) => {
      joined = resolve;
    });
    const session: Session = {
      inner: undefined as unknown as SamsaConsumer,
      abort: new AbortController(),
      tracks: new Map(),
      pendingSeeks: new Map(),
      memberId: '',
      generationId: -1,
      lastCommit: Date.now(),
      joined,
      loop: null,
    };
    session.inner = new SamsaConsumer({
      bootstrapServers: this.bootstrap!,
      clientId: this.client.clientId,
      groupId: this.groupId,
      sessionTimeoutMs: c.sessionTimeout ?? 30_000,
      rebalanceTimeoutMs: c.rebalanceTimeout ?? 60_000,
      heartbeatIntervalMs: c.heartbeatInterval ?? 3000,
      partitionAssignmentStrategy: this.assignors,
      autoOffsetReset: uniform && starts.has(true) ? 'earliest' : 'latest',
      enableAutoCommit: false,
      fetchMinBytes: c.minBytes ?? 1,
      fetchMaxWaitMs: c.maxWaitTimeInMs ?? 5000,
      fetchMaxBytes: c.maxBytes ?? 10_485_760,
      maxPartitionFetchBytes: c.maxBytesPerPartition ?? 1_048_576,
      isolationLevel: c.readUncommitted ? 'read_uncommitted' : 'read_committed',
      metadataMaxAgeMs: c.metadataMaxAge ?? 300_000,
      requestTimeoutMs: this.client.requestTimeout,
      connectTimeoutMs: this.client.connectionTimeout,
      onGroupEvent: (e) => this.groupEvent(session, e),
    });
    this.session = session;
    session.inner.subscribe([...this.topics.keys()], {
      onPartitionsAssigned: (tps) => this.assigned(session, tps, uniform),
      onPartitionsRevoked: (tps) => this.revoked(session, tps),
      onPartitionsLost: (tps) => {
        for (const tp of tps) session.tracks.delete(key(tp.topic, tp.partition));
      },
    });
    session.loop = this.consumeLoop(session);
    // KafkaJS's run() returns once joined, or once joining failed; here joining goes on in the background, so the
    // wait is bounded by the rebalance timeout.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, c.rebalanceTimeout ?? 60_000);
    });
    try {
      await Promise.race([firstJoin, session.loop, bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async consumeLoop(session: Session): Promise<void> {
    const { inner, abort } = session;
    for (;;) {
      try {
        await inner.consume({ eachBatch: (b) => this.onBatch(session, b), signal: abort.signal });
        return;
      } catch (e) {
        if (abort.signal.aborted || this.session !== session) return;
        const error = e instanceof KafkaJSError || !isSamsaError(e) ? (e as Error) : toKafkaJSError(e);
        if (isRetriableForKafkaJS(error) && this.failures < this.retry.retries) {
          const wait = retryTime(this.retry, this.failures++);
          this.log.debug('Error while consuming, trying again...', {
            groupId: this.groupId,
            error: error.message,
            retryCount: this.failures,
            retryTime: wait,
          });
          await this.sleepUnlessStopped(session, wait);
          continue;
        }
        void this.crash(session, error);
        return;
      }
    }
  }

  private sleepUnlessStopped(session: Session, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        session.abort.signal.removeEventListener('abort', done);
        resolve();
      }
      session.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** KafkaJS's crash: leave the group, tell the CRASH listeners, and rejoin later when the error allows it. */
  private async crash(session: Session, cause: Error): Promise<void> {
    const retriable = isRetriableForKafkaJS(cause);
    const wait = retryTime(this.retry, Math.max(0, this.failures - 1));
    const error = retriable
      ? new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: this.failures, retryTime: wait })
      : cause instanceof KafkaJSNonRetriableError
        ? cause
        : new KafkaJSNonRetriableError(cause, { cause });
    this.log.error(`Crash: ${error.name}: ${error.message}`, {
      groupId: this.groupId,
      retryCount: this.failures,
      stack: error.stack,
    });
    await this.stopSession(session);
    this.emitter.emit(ConsumerEvents.DISCONNECT);
    let restart = retriable;
    if (restart && this.restartOnFailure !== undefined) {
      restart = await this.restartOnFailure(error).catch((e: unknown) => {
        this.log.error(
          'Caught error when invoking user-provided "restartOnFailure" callback. Defaulting to restarting.',
          {
            error: (e as Error)?.message ?? e,
            cause: error.message,
            groupId: this.groupId,
          },
        );
        return true;
      });
    }
    this.emitter.emit(ConsumerEvents.CRASH, { error, groupId: this.groupId, restart });
    if (!restart || !this.running) {
      this.running = false;
      return;
    }
    const delay = this.retry.initialRetryTime;
    this.log.error(`Restarting the consumer in ${delay}ms`, {
      retryCount: this.failures,
      retryTime: delay,
      groupId: this.groupId,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.running || this.session !== null) return;
      this.failures = 0;
      this.start().catch((e: unknown) => {
        this.log.error(`Failed to restart: ${(e as Error).message}`, { groupId: this.groupId });
      });
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.restartTimer !== null) clearTimeout(this.restartTimer);
      this.restartTimer = null;
      const session = this.session;
      if (session !== null) await this.stopSession(session);
      this.log.info('Stopped', { groupId: this.groupId });
    })().finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  /** Ends the session: delivery stops, resolved offsets are committed (autoCommit) and the group is left. */
  private async stopSession(session: Session): Promise<void> {
    if (this.session === session) this.session = null;
    session.abort.abort();
    session.joined();
    await session.loop?.catch(() => {});
    await session.inner.close().catch((e: unknown) => {
      this.log.error(`Caught error when stopping the consumer: ${(e as Error).message}`, { groupId: this.groupId });
    });
    this.emitter.emit(ConsumerEvents.STOP);
  }

  // ---- group ------------------------------------------------------------------------------------------------------

  private groupEvent(session: Session, e: GroupEvent): void {
    if (e.type === 'joined') {
      session.memberId = e.memberId;
      session.generationId = e.generationId;
      const memberAssignment: Record<string, number[]> = {};
      for (const tp of e.assignment) {
        memberAssignment[tp.topic] ??= [];
        memberAssignment[tp.topic]!.push(tp.partition);
      }
      for (const list of Object.values(memberAssignment)) list.sort((a, b) => a - b);
      const payload = {
        groupId: e.groupId,
        memberId: e.memberId,
        leaderId: e.leaderId,
        isLeader: e.leaderId === e.memberId,
        memberAssignment,
        groupProtocol: e.protocol,
        duration: e.durationMs,
      };
      this.emitter.emit(ConsumerEvents.GROUP_JOIN, payload);
      this.log.info('Consumer has joined the group', payload);
      session.joined();
    } else if (e.type === 'heartbeat') {
      this.emitter.emit(ConsumerEvents.HEARTBEAT, {
        groupId: e.groupId,
        memberId: e.memberId,
        groupGenerationId: e.generationId,
      });
    } else {
      this.log.warn('The group is rebalancing, re-joining', {
        groupId: e.groupId,
        memberId: e.memberId,
        error: e.reason,
      });
      this.emitter.emit(ConsumerEvents.REBALANCING, { groupId: e.groupId, memberId: e.memberId });
    }
  }

  private async assigned(session: Session, tps: TopicPartition[], uniform: boolean): Promise<void> {
    for (const tp of tps) {
      session.tracks.set(key(tp.topic, tp.partition), {
        topic: tp.topic,
        partition: tp.partition,
        resolved: null,
        committed: null,
        start: null,
        seeks: 0,
      });
    }
    const paused = tps.filter((tp) => this.isPaused(tp.topic, tp.partition));
    if (paused.length > 0) session.inner.pause(paused);
    if (!uniform) {
      // Partitions of fromBeginning topics without a committed offset start at the beginning (the consumer's
      // reset policy, 'latest', covers the others).
      const early = tps.filter((tp) => this.topics.get(tp.topic)?.fromBeginning);
      if (early.length > 0) {
        const committed = await session.inner.committed(early);
        const none = committed
          .filter((c) => c.offset === null)
          .map((c) => ({ topic: c.topic, partition: c.partition }));
        if (none.length > 0) session.inner.seekToBeginning(none);
      }
    }
    for (const tp of tps) {
      const k = key(tp.topic, tp.partition);
      const seek = session.pendingSeeks.get(k);
      if (seek === undefined) continue;
      session.pendingSeeks.delete(k);
      this.applySeek(session, session.tracks.get(k)!, seek.offset);
    }
  }

  private async revoked(session: Session, tps: TopicPartition[]): Promise<void> {
    if (this.handlers?.autoCommit) {
      await this.commitResolved(session, tps).catch((e: unknown) => {
        this.log.warn(`Could not commit the offsets of revoked partitions: ${(e as Error).message}`, {
          groupId: this.groupId,
        });
      });
    }
    for (const tp of tps) session.tracks.delete(key(tp.topic, tp.partition));
  }

  async describeGroup(): Promise<GroupDescription> {
    try {
      return (await describeGroupsKafkaJS(await this.ensureAdmin(), [this.groupId]))[0]!;
    } catch (e) {
      throw toKafkaJSError(e);
    }
  }

  // ---- delivery ---------------------------------------------------------------------------------------------------

  private track(session: Session, topic: string, partition: number): Track {
    const k = key(topic, partition);
    let t = session.tracks.get(k);
    if (t === undefined) {
      t = { topic, partition, resolved: null, committed: null, start: null, seeks: 0 };
      session.tracks.set(k, t);
    }
    return t;
  }

  private async onBatch(session: Session, b: ConsumerBatch): Promise<void> {
    const h = this.handlers!;
    const { topic, partition } = b;
    const track = this.track(session, topic, partition);
    const first = b.messages[0]!.offset;
    track.start ??= first;
    track.resolved ??= first;
    const seeks = track.seeks;
    const batch = new KafkaJSBatch(topic, partition, String(b.highWatermark), b.messages.map(toKafkaMessage));
    const startedAt = Date.now();
    const info = {
      topic,
      partition,
      highWatermark: batch.highWatermark,
      offsetLag: batch.offsetLag(),
      offsetLagLow: batch.offsetLagLow(),
      batchSize: batch.messages.length,
      firstOffset: batch.firstOffset(),
      lastOffset: batch.lastOffset(),
    };
    this.emitter.emit(ConsumerEvents.START_BATCH_PROCESS, info);
    const pause = (): (() => void) => {
      this.pause([{ topic, partitions: [partition] }]);
      return () => this.resume([{ topic, partitions: [partition] }]);
    };
    const heartbeat = async (): Promise<void> => {};
    /** Hands the partition back from `offset` on: what follows comes again (after a resume). */
    const rewind = (offset: bigint): void => {
      if (track.seeks !== seeks || !session.tracks.has(key(topic, partition))) return;
      try {
        session.inner.seek(topic, partition, offset);
      } catch {
        // No longer assigned: its next owner starts from the committed offset.
      }
    };
    const last = b.messages[b.messages.length - 1]!.offset;
    if (h.eachMessage !== null) {
      for (let i = 0; i < batch.messages.length; i++) {
        if (!this.running || track.seeks !== seeks || session.abort.signal.aborted) {
          rewind(b.messages[i]!.offset);
          return;
        }
        const message = batch.messages[i]!;
        try {
          await h.eachMessage({ topic, partition, message, heartbeat, pause });
        } catch (e) {
          this.handlerFailed('eachMessage', topic, partition, message.offset, e);
          await this.autoCommit(session);
          rewind(b.messages[i]!.offset);
          throw e;
        }
        if (track.seeks === seeks) track.resolved = b.messages[i]!.offset + 1n;
        this.failures = 0;
        await this.commitIfNecessary(session);
        if (i + 1 < batch.messages.length && (this.isPaused(topic, partition) || track.seeks !== seeks)) {
          rewind(b.messages[i + 1]!.offset);
          return;
        }
      }
    } else if (h.eachBatch !== null) {
      try {
        await h.eachBatch({
          batch,
          resolveOffset: (offset: string) => {
            if (track.seeks === seeks) track.resolved = parseOffset(offset) + 1n;
          },
          heartbeat,
          pause,
          commitOffsetsIfNecessary: async (offsets?: Offsets) => {
            if (offsets !== undefined) await this.commitOffsetsList(session, offsets.topics);
            else await this.commitIfNecessary(session);
          },
          uncommittedOffsets: () => ({ topics: this.uncommitted(session) }),
          isRunning: () => this.running && !session.abort.signal.aborted,
          isStale: () => track.seeks !== seeks || !session.tracks.has(key(topic, partition)),
        });
      } catch (e) {
        this.handlerFailed('eachBatch', topic, partition, batch.firstOffset(), e);
        await this.autoCommit(session);
        if (track.resolved !== null) rewind(track.resolved);
        throw e;
      }
      this.failures = 0;
      if (track.seeks === seeks) {
        if (h.eachBatchAutoResolve) track.resolved = last + 1n;
        else if (track.resolved !== null && track.resolved <= last) rewind(track.resolved);
      }
    } else {
      track.resolved = last + 1n;
    }
    this.emitter.emit(ConsumerEvents.END_BATCH_PROCESS, { ...info, duration: Date.now() - startedAt });
    await this.autoCommit(session);
  }

  private handlerFailed(handler: string, topic: string, partition: number, offset: string | null, e: unknown): void {
    if (e instanceof KafkaJSError) return;
    this.log.error(`Error when calling ${handler}`, {
      topic,
      partition,
      offset,
      stack: (e as Error)?.stack,
      error: e,
    });
  }

  // ---- offsets ----------------------------------------------------------------------------------------------------

  /** The resolved offsets not committed yet, in KafkaJS's shape. */
  private uncommitted(session: Session, only?: readonly TopicPartition[]): TopicOffsets[] {
    const keys = only === undefined ? null : new Set(only.map((tp) => key(tp.topic, tp.partition)));
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const [k, t] of session.tracks) {
      if (keys !== null && !keys.has(k)) continue;
      if (t.resolved === null || t.resolved === t.committed) continue;
      entryOf(byTopic, t.topic, () => []).push({ partition: t.partition, offset: String(t.resolved) });
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  private autoCommit(session: Session): Promise<void> {
    if (!this.handlers?.autoCommit) return Promise.resolve();
    return this.commitResolved(session).catch((e: unknown) => {
      // Retried with the next batch; a rebalance commits before the partitions go.
      this.log.debug(`Could not commit offsets: ${(e as Error).message}`, { groupId: this.groupId });
    });
  }

  /** KafkaJS's commitOffsetsIfNecessary: commits when autoCommitInterval passed or autoCommitThreshold is reached. */
  private async commitIfNecessary(session: Session): Promise<void> {
    const h = this.handlers!;
    if (!h.autoCommit) return;
    const due = h.autoCommitInterval !== null && Date.now() >= session.lastCommit + h.autoCommitInterval;
    let reached = false;
    if (!due && h.autoCommitThreshold !== null) {
      let count = 0n;
      for (const t of session.tracks.values()) {
        if (t.resolved !== null) count += t.resolved - (t.committed ?? t.start ?? t.resolved);
      }
      reached = count >= BigInt(h.autoCommitThreshold);
    }
    if (due || reached) await this.autoCommit(session);
  }

  private commitResolved(session: Session, only?: readonly TopicPartition[]): Promise<void> {
    return this.commitOffsetsList(session, this.uncommitted(session, only));
  }

  /** Commits exactly these offsets, then records them and tells the COMMIT_OFFSETS listeners. */
  private async commitOffsetsList(
    session: Session,
    topics: readonly {
      topic: string;
      partitions: { partition: number | string; offset: string; metadata?: string | null }[];
    }[],
  ): Promise<void> {
    const list: OffsetToCommit[] = [];
    for (const { topic, partitions } of topics) {
      for (const p of partitions) {
        list.push({
          topic,
          partition: Number(p.partition),
          offset: parseOffset(p.offset),
          ...(p.metadata == null ? {} : { metadata: p.metadata }),
        });
      }
    }
    if (list.length === 0) {
      session.lastCommit = Date.now();
      return;
    }
    await session.inner.commit(list);
    for (const o of list) {
      const t = session.tracks.get(key(o.topic, o.partition));
      if (t !== undefined) t.committed = o.offset;
    }
    session.lastCommit = Date.now();
    this.emitter.emit(ConsumerEvents.COMMIT_OFFSETS, {
      groupId: this.groupId,
      memberId: session.memberId,
      groupGenerationId: session.generationId,
      topics: topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map((p) => ({ partition: Number(p.partition), offset: String(p.offset) })),
      })),
    });
  }

  private runningSession(): Session {
    if (this.session === null) {
      throw new KafkaJSNonRetriableError('Consumer group was not initialized, consumer#run must be called first');
    }
    return this.session;
  }

  async commitOffsets(topicPartitions: TopicPartitionOffsetAndMetadata[] = []): Promise<void> {
    const byTopic = new Map<string, { partition: number; offset: string; metadata: string | null }[]>();
    for (const { topic, partition, offset, metadata = null } of topicPartitions) {
      checkTopicPartition(topic, partition);
      const o = parseOffset(offset);
      if (o < 0n) throw new KafkaJSNonRetriableError('Offset must not be a negative number');
      if (metadata !== null && typeof metadata !== 'string') {
        throw new KafkaJSNonRetriableError(
          `Invalid offset metadata, expected string or null, received ${String(metadata)}`,
        );
      }
      entryOf(byTopic, topic, () => []).push({ partition: Number(partition), offset: String(o), metadata });
    }
    const session = this.runningSession();
    try {
      await this.commitOffsetsList(
        session,
        [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      );
    } catch (e) {
      throw toKafkaJSError(e);
    }
  }

  /**
   * Moves the partition to `offset` ('-2': the beginning, '-1': the end) for the next batch; with autoCommit the
   * offset is committed too, as in KafkaJS. Partitions not assigned yet are moved once they are.
   */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    checkTopicPartition(topic, partition);
    const o = parseOffset(offset);
    if (o < 0n && o !== EARLIEST && o !== LATEST) {
      throw new KafkaJSNonRetriableError('Offset must not be a negative number');
    }
    const session = this.runningSession();
    const track = session.tracks.get(key(topic, partition));
    if (track === undefined) {
      session.pendingSeeks.set(key(topic, partition), { topic, partition: Number(partition), offset: o });
      return;
    }
    this.applySeek(session, track, o);
  }

  private applySeek(session: Session, track: Track, offset: bigint): void {
    const tp = { topic: track.topic, partition: track.partition };
    track.seeks++;
    if (offset === EARLIEST || offset === LATEST) {
      if (offset === EARLIEST) session.inner.seekToBeginning([tp]);
      else session.inner.seekToEnd([tp]);
      track.resolved = null;
      return;
    }
    session.inner.seek(tp.topic, tp.partition, offset);
    track.resolved = offset;
    if (this.handlers?.autoCommit) void this.commitResolved(session, [tp]).catch(() => {});
  }

  // ---- pause ------------------------------------------------------------------------------------------------------

  private isPaused(topic: string, partition: number): boolean {
    const p = this.pauses.get(topic);
    return p !== undefined && ((p.all && !p.resumed.has(partition)) || p.paused.has(partition));
  }

  private checkPauseArgs(topicPartitions: { topic: string; partitions?: number[] }[]): void {
    for (const tp of topicPartitions) {
      if (!tp?.topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(tp?.topic ?? tp)}`);
      if (
        tp.partitions !== undefined &&
        (!Array.isArray(tp.partitions) || tp.partitions.some((p) => Number.isNaN(Number(p))))
      ) {
        throw new KafkaJSNonRetriableError(
          `Array of valid partitions required to pause specific partitions instead of ${String(tp.partitions)}`,
        );
      }
    }
  }

  /** Stops fetching these topics (all their partitions, also those assigned later) or partitions until `resume`. */
  pause(topicPartitions: { topic: string; partitions?: number[] }[] = []): void {
    this.checkPauseArgs(topicPartitions);
    const session = this.runningSession();
    for (const { topic, partitions } of topicPartitions) {
      const p = this.pauses.get(topic) ?? { all: false, paused: new Set<number>(), resumed: new Set<number>() };
      if (partitions === undefined) {
        p.paused.clear();
        p.resumed.clear();
        p.all = true;
      } else {
        for (const n of partitions) {
          p.paused.add(n);
          p.resumed.delete(n);
        }
        p.all = false;
      }
      this.pauses.set(topic, p);
    }
    this.applyPauses(session);
  }

  resume(topicPartitions: { topic: string; partitions?: number[] }[] = []): void {
    this.checkPauseArgs(topicPartitions);
    const session = this.runningSession();
    for (const { topic, partitions } of topicPartitions) {
      const p = this.pauses.get(topic) ?? { all: false, paused: new Set<number>(), resumed: new Set<number>() };
      if (partitions === undefined) {
        p.paused.clear();
        p.resumed.clear();
        p.all = false;
      } else {
        for (const n of partitions) {
          p.paused.delete(n);
          if (p.all) p.resumed.add(n);
        }
      }
      this.pauses.set(topic, p);
    }
    this.applyPauses(session);
  }

  private applyPauses(session: Session): void {
    const now = new Set(session.inner.paused().map((tp) => key(tp.topic, tp.partition)));
    const toPause: TopicPartition[] = [];
    const toResume: TopicPartition[] = [];
    for (const [k, t] of session.tracks) {
      const want = this.isPaused(t.topic, t.partition);
      if (want && !now.has(k)) toPause.push({ topic: t.topic, partition: t.partition });
      else if (!want && now.has(k)) toResume.push({ topic: t.topic, partition: t.partition });
    }
    const assigned = new Set(session.inner.assignment().map((tp) => key(tp.topic, tp.partition)));
    const mine = (tp: TopicPartition): boolean => assigned.has(key(tp.topic, tp.partition));
    if (toPause.some(mine)) session.inner.pause(toPause.filter(mine));
    if (toResume.some(mine)) session.inner.resume(toResume.filter(mine));
  }

  /** The assigned partitions that are paused, by topic. */
  paused(): TopicPartitions[] {
    const session = this.session;
    if (session === null) return [];
    const byTopic = new Map<string, number[]>();
    for (const t of session.tracks.values()) {
      if (!this.isPaused(t.topic, t.partition)) continue;
      entryOf(byTopic, t.topic, () => []).push(t.partition);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
  }
}

/** Errors of the Samsa client (turned into KafkaJS's); anything else is the application's and passes unchanged. */
function isSamsaError(e: unknown): boolean {
  return e instanceof KafkaError || e instanceof KafkaClientError;
}
