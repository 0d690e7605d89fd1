/**
 * The Consumer: reads records from assigned partitions (`assign`) or as a member of a consumer group
 * (`subscribe`), and hands them to the application in one of two ways:
 *
 *     for await (const message of consumer) { ... }               // one message at a time
 *     await consumer.consume({ eachBatch: async (batch) => { ... }, signal })   // per partition, up to maxPollRecords
 *
 * Both end cleanly when their AbortSignal fires or the consumer closes (`consumer.messages({ signal })` is the
 * iterator with a signal). Fetching runs ahead of delivery (see fetcher.ts), so the application rarely waits for a
 * round trip.
 *
 * Offsets. `position` is the next offset to deliver; a message counts as processed once the application asks for
 * the next one (iterator) or its handler returned (consume). Automatic commits (every `autoCommitIntervalMs`, before
 * partitions are revoked, and on close) store the processed offsets, so a crash re-delivers at most what was in
 * hand: at-least-once. An explicit `commit()` stores the positions, including the message in hand (call it after
 * processing); `commit(offsets)` stores exactly what it is given.
 *
 * Rebalances (group mode) are driven in the background by the membership (membership.ts). Before partitions are
 * revoked, the consumer stops delivering them and waits (at most the rebalance timeout) until the application is
 * done with the message or batch in hand from them, commits (with auto commit), then awaits
 * `onPartitionsRevoked`; `onPartitionsAssigned` is awaited before fetching starts, so seeks made there take effect.
 *
 * Errors the application must see (a partition out of range with autoOffsetReset 'none', a corrupt batch, a fatal
 * group error, an exception from a rebalance listener) are thrown from the iterator or `consume()`.
 *
 * Concurrency: single-threaded; at most one delivery loop (iterator or consume) runs at a time.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { KafkaClientError } from '../errors.js';
import { Cluster } from '../network/cluster.js';
import type { Deserializer } from '../serde.js';
import { type Assignor, BUILT_IN_ASSIGNORS } from './assignors.js';
import { CoordinatorClient } from './coordinator.js';
import { decodeFetch, Fetcher } from './fetcher.js';
import { GroupMembership } from './membership.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, listOffsets, lookupOffsets, type OffsetLookup } from './offsets.js';
import { AssignmentState, type CompletedFetch, type PartitionState, partitionKey } from './state.js';
import type {
  AssignedPartition,
  AutoOffsetReset,
  CommittedOffset,
  ConsumerBatch,
  ConsumerMessage,
  ConsumerOptions,
  OffsetToCommit,
  RebalanceListener,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';

export interface ConsumeHandlers<K, V> {
  /** Called for each message in order; the next one comes after it resolves. */
  eachMessage?: (message: ConsumerMessage<K, V>) => void | Promise<void>;
  /** Called with up to `maxPollRecords` messages of one partition; the next batch comes after it resolves. */
  eachBatch?: (batch: ConsumerBatch<K, V>) => void | Promise<void>;
  /** Ends consuming (cleanly: `consume()` resolves) when aborted. */
  signal?: AbortSignal;
}

interface Settings {
  groupId: string | null;
  groupInstanceId: string | null;
  autoOffsetReset: AutoOffsetReset;
  enableAutoCommit: boolean;
  autoCommitIntervalMs: number;
  maxPollRecords: number;
  readCommitted: boolean;
  checkCrcs: boolean;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  rebalanceTimeoutMs: number;
  /** How long API calls retry (Kafka's default.api.timeout.ms). */
  apiTimeoutMs: number;
}

const key = (tp: TopicPartition): string => partitionKey(tp.topic, tp.partition);
const tpOf = (s: PartitionState): TopicPartition => ({ topic: s.topic, partition: s.partition });

export class Consumer<K = Buffer | null, V = Buffer | null> {
  private readonly cluster: Cluster;
  private readonly settings: Settings;
  private readonly state = new AssignmentState();
  private readonly fetcher: Fetcher;
  private readonly coordinator: CoordinatorClient | null;
  private readonly membership: GroupMembership | null;
  private readonly keyDeserializer: Deserializer<K> | null;
  private readonly valueDeserializer: Deserializer<V> | null;
  private mode: 'none' | 'assign' | 'subscribe' = 'none';
  private listener: RebalanceListener = {};
  private connecting: Promise<void> | null = null;
  private resolving = false;
  private resolveAgain = false;
  private delivering = false;
  /** The partition of the message or batch the application holds now (not yet processed). */
  private inHand: PartitionState | null = null;
  private handWaiters: (() => void)[] = [];
  /** Errors to raise in the delivery loop (fatal group errors, listener exceptions). */
  private pendingErrors: Error[] = [];
  private fatalError: Error | null = null;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private commitChain: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private closed = false;

  constructor(options: ConsumerOptions<K, V>) {
    const clientId = options.clientId ?? 'samsa-consumer';
    this.cluster = new Cluster({
      bootstrapServers: options.bootstrapServers,
      clientId,
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.metadataMaxAgeMs === undefined ? {} : { metadataMaxAgeMs: options.metadataMaxAgeMs }),
      ...(options.reconnectBackoffMs === undefined ? {} : { reconnectBackoffMs: options.reconnectBackoffMs }),
      ...(options.reconnectBackoffMaxMs === undefined ? {} : { reconnectBackoffMaxMs: options.reconnectBackoffMaxMs }),
    });
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const retryBackoffMs = options.retryBackoffMs ?? 100;
    this.settings = {
      groupId: options.groupId ?? null,
      groupInstanceId: options.groupInstanceId ?? null,
      autoOffsetReset: options.autoOffsetReset ?? 'latest',
      enableAutoCommit: options.enableAutoCommit ?? true,
      autoCommitIntervalMs: options.autoCommitIntervalMs ?? 5000,
      maxPollRecords: options.maxPollRecords ?? 500,
      readCommitted: options.isolationLevel === 'read_committed',
      checkCrcs: options.checkCrcs ?? true,
      requestTimeoutMs,
      retryBackoffMs,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 300_000,
      apiTimeoutMs: Math.max(60_000, requestTimeoutMs),
    };
    if (!['earliest', 'latest', 'none'].includes(this.settings.autoOffsetReset)) {
      throw new KafkaClientError(
        `autoOffsetReset must be 'earliest', 'latest' or 'none', not '${options.autoOffsetReset}'`,
      );
    }
    if (this.settings.groupInstanceId !== null && this.settings.groupId === null) {
      throw new KafkaClientError('groupInstanceId needs a groupId');
    }
    this.keyDeserializer = options.keyDeserializer ?? null;
    this.valueDeserializer = options.valueDeserializer ?? null;
    this.fetcher = new Fetcher(
      this.cluster,
      this.state,
      {
        clientId,
        requestTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        fetchMinBytes: options.fetchMinBytes ?? 1,
        fetchMaxWaitMs: options.fetchMaxWaitMs ?? 500,
        fetchMaxBytes: options.fetchMaxBytes ?? 52_428_800,
        maxPartitionFetchBytes: options.maxPartitionFetchBytes ?? 1_048_576,
        isolationLevel: this.settings.readCommitted ? 1 : 0,
        retryBackoffMs,
        fetchSessions: options.fetchSessions ?? true,
      },
      {
        resolvePositions: () => this.resolvePositions(),
        outOfRange: (s) => this.outOfRange(s),
      },
    );
    if (this.settings.groupId === null) {
      this.coordinator = null;
      this.membership = null;
    } else {
      this.coordinator = new CoordinatorClient(this.cluster, this.settings.groupId, {
        clientId,
        requestTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        retryBackoffMs,
      });
      const strategies = options.partitionAssignmentStrategy ?? ['range', 'cooperative-sticky'];
      if (strategies.length === 0) throw new KafkaClientError('partitionAssignmentStrategy is empty');
      const assignors: Assignor[] = strategies.map((s) => {
        if (typeof s !== 'string') return s;
        const a = BUILT_IN_ASSIGNORS.get(s);
        if (a === undefined) throw new KafkaClientError(`unknown partition assignment strategy '${s}'`);
        return a;
      });
      this.membership = new GroupMembership(
        this.cluster,
        this.coordinator,
        {
          groupId: this.settings.groupId,
          groupInstanceId: this.settings.groupInstanceId,
          sessionTimeoutMs: options.sessionTimeoutMs ?? 45_000,
          rebalanceTimeoutMs: this.settings.rebalanceTimeoutMs,
          heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3000,
          metadataMaxAgeMs: options.metadataMaxAgeMs ?? 300_000,
          retryBackoffMs,
          assignors,
        },
        {
          owned: () => this.state.list().map(tpOf),
          revoke: (partitions) => this.revokePartitions(partitions),
          assign: (partitions) => this.assignPartitions(partitions),
          lose: (partitions) => this.losePartitions(partitions),
          event: (e) => {
            try {
              options.onGroupEvent?.(e);
            } catch {
              // A monitoring callback must not disturb the membership.
            }
          },
          fatal: (e) => {
            // The member cannot take part any more: stop fetching its partitions; the error ends delivery.
            this.fatalError = e;
            for (const s of this.state.list()) this.state.remove(s.topic, s.partition);
            this.state.changed();
          },
        },
      );
    }
  }

  // ---- lifecycle --------------------------------------------------------------------------------------------------

  /** Connects to the cluster (optional: the first use connects). */
  connect(): Promise<void> {
    this.connecting ??= this.cluster.metadata().then(() => {});
    return this.connecting;
  }

  /**
   * Stops delivering, commits the processed offsets (with auto commit), gives the partitions up (calling
   * `onPartitionsRevoked`), leaves the group (dynamic members) and closes every connection. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(): Promise<void> {
    this.state.changed();
    this.releaseHand();
    if (this.autoCommitTimer !== null) clearInterval(this.autoCommitTimer);
    this.autoCommitTimer = null;
    try {
      if (this.membership !== null && this.mode === 'subscribe') {
        await this.membership.stop();
        const owned = this.state.list().map(tpOf);
        if (owned.length > 0) {
          // Out of a generation (a failed rejoin), nothing can be committed: the partitions are reported lost.
          if (this.membership.state === 'stable') await this.revokePartitions(owned).catch(() => {});
          else await this.losePartitions(owned).catch(() => {});
        }
        await this.membership.leave('the consumer is closing');
      } else if (this.mode === 'assign') {
        await this.autoCommit().catch(() => {});
      }
      await this.commitChain;
    } finally {
      this.closed = true;
      this.fetcher.close();
      this.coordinator?.close();
      await this.cluster.close();
    }
  }

  private ensureOpen(): void {
    if (this.closing !== null) throw new KafkaClientError('the consumer is closed');
  }

  /** Commits stay possible while closing (from onPartitionsRevoked), until the connections are gone. */
  private ensureConnected(): void {
    if (this.closed) throw new KafkaClientError('the consumer is closed');
  }

  // ---- assignment -------------------------------------------------------------------------------------------------

  /**
   * Reads exactly these partitions (no group membership); replaces any earlier assignment. A partition without an
   * offset starts at the group's committed offset (with a groupId), else by `autoOffsetReset`.
   */
  assign(partitions: readonly AssignedPartition[]): void {
    this.ensureOpen();
    if (this.mode === 'subscribe') throw new KafkaClientError('assign() cannot be used after subscribe()');
    this.mode = 'assign';
    const wanted = new Set(partitions.map(key));
    for (const s of this.state.list()) if (!wanted.has(s.key)) this.state.remove(s.topic, s.partition);
    for (const p of partitions) {
      if (!Number.isInteger(p.partition) || p.partition < 0) {
        throw new KafkaClientError(`invalid partition ${p.topic}-${p.partition}`);
      }
      const s = this.state.add(p.topic, p.partition);
      if (p.offset !== undefined) this.seekState(s, p.offset);
    }
    this.startAutoCommit();
    this.fetcher.refreshMetadata();
  }

  /**
   * Joins the group (`groupId`) and consumes the partitions it assigns from these topics (or all topics matching
   * the pattern, checked every `metadataMaxAgeMs`). The listener's callbacks are awaited during rebalances.
   */
  subscribe(topics: readonly string[] | RegExp, listener: RebalanceListener = {}): void {
    this.ensureOpen();
    if (this.membership === null) throw new KafkaClientError('subscribe() needs a groupId');
    if (this.mode === 'assign') throw new KafkaClientError('subscribe() cannot be used after assign()');
    if (!(topics instanceof RegExp) && topics.length === 0) throw new KafkaClientError('no topics to subscribe to');
    this.mode = 'subscribe';
    this.listener = listener;
    this.startAutoCommit();
    this.membership.subscribe(topics instanceof RegExp ? topics : [...topics]);
  }

  /** The partitions assigned to this consumer now. */
  assignment(): TopicPartition[] {
    return this.state.list().map(tpOf);
  }

  private async revokePartitions(partitions: TopicPartition[]): Promise<void> {
    const states = partitions.map((tp) => this.state.get(tp.topic, tp.partition)).filter((s) => s !== undefined);
    for (const s of states) s.revoking = true;
    this.state.changed();
    await this.waitForHand(states, this.settings.rebalanceTimeoutMs);
    if (this.settings.enableAutoCommit) {
      await this.commitProcessed(states).catch(() => {
        // The commit fails when the generation is gone; the partitions are revoked all the same.
      });
    }
    try {
      await this.listener.onPartitionsRevoked?.(partitions.map((tp) => ({ ...tp })));
    } catch (e) {
      this.pendingErrors.push(e as Error);
    }
    for (const s of states) this.state.remove(s.topic, s.partition);
    this.state.changed();
  }

  private async losePartitions(partitions: TopicPartition[]): Promise<void> {
    const states = partitions.map((tp) => this.state.get(tp.topic, tp.partition)).filter((s) => s !== undefined);
    for (const s of states) s.revoking = true;
    this.state.changed();
    await this.waitForHand(states, this.settings.rebalanceTimeoutMs);
    try {
      const copy = partitions.map((tp) => ({ ...tp }));
      // As in Kafka, a listener without onPartitionsLost hears of lost partitions as revoked.
      if (this.listener.onPartitionsLost !== undefined) await this.listener.onPartitionsLost(copy);
      else await this.listener.onPartitionsRevoked?.(copy);
    } catch (e) {
      this.pendingErrors.push(e as Error);
    }
    for (const s of states) this.state.remove(s.topic, s.partition);
    this.state.changed();
  }

  private async assignPartitions(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.state.add(tp.topic, tp.partition);
    try {
      await this.listener.onPartitionsAssigned?.(partitions.map((tp) => ({ ...tp })));
    } catch (e) {
      this.pendingErrors.push(e as Error);
    }
    this.fetcher.refreshMetadata();
    this.state.changed();
  }

  // ---- positions --------------------------------------------------------------------------------------------------

  private assigned(topic: string, partition: number): PartitionState {
    const s = this.state.get(topic, partition);
    if (s === undefined) throw new KafkaClientError(`${topic}-${partition} is not assigned to this consumer`);
    return s;
  }

  private seekState(s: PartitionState, offset: bigint): void {
    if (offset < 0n) throw new KafkaClientError(`cannot seek ${s.topic}-${s.partition} to a negative offset`);
    this.state.seek(s, offset);
    s.processed = offset;
  }

  /** The next message delivered from the partition will be the one at `offset`. */
  seek(topic: string, partition: number, offset: bigint): void {
    this.ensureOpen();
    this.seekState(this.assigned(topic, partition), offset);
    this.fetcher.schedule();
  }

  private partitionsOrAll(partitions: readonly TopicPartition[] | undefined): PartitionState[] {
    return partitions === undefined ? this.state.list() : partitions.map((tp) => this.assigned(tp.topic, tp.partition));
  }

  /** Moves to the first offset of the partitions (default: all assigned); looked up lazily. */
  seekToBeginning(partitions?: readonly TopicPartition[]): void {
    this.ensureOpen();
    for (const s of this.partitionsOrAll(partitions)) this.state.seek(s, null, { kind: 'earliest' });
    this.fetcher.schedule();
  }

  /** Moves to the end of the partitions (default: all assigned): only messages produced from now on follow. */
  seekToEnd(partitions?: readonly TopicPartition[]): void {
    this.ensureOpen();
    for (const s of this.partitionsOrAll(partitions)) this.state.seek(s, null, { kind: 'latest' });
    this.fetcher.schedule();
  }

  /**
   * Moves to the first message whose timestamp is at or after `timestamp` (ms), per partition (default: all
   * assigned); where there is none, to the end.
   */
  seekToTimestamp(timestamp: bigint | number, partitions?: readonly TopicPartition[]): void {
    this.ensureOpen();
    const ts = BigInt(timestamp);
    if (ts < 0n) throw new KafkaClientError('timestamps to seek to are not negative');
    for (const s of this.partitionsOrAll(partitions)) this.state.seek(s, null, { kind: 'timestamp', timestamp: ts });
    this.fetcher.schedule();
  }

  /** The next offset to be delivered from the partition, looked up first when not known yet. */
  async position(topic: string, partition: number): Promise<bigint> {
    this.ensureOpen();
    const deadline = Date.now() + this.settings.apiTimeoutMs;
    for (;;) {
      const s = this.assigned(topic, partition);
      if (s.position !== null) return s.position;
      if (s.error !== null) throw s.error;
      if (s.stopped) throw new KafkaClientError(`${topic}-${partition} stopped after an error; seek to go on`);
      if (this.closing !== null) throw new KafkaClientError('the consumer is closed');
      if (Date.now() > deadline)
        throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `no position for ${topic}-${partition}`);
      this.fetcher.schedule();
      this.resolvePositions();
      await this.waitForChange(null, 1000);
    }
  }

  /** Stops delivering (and fetching) the partitions until `resume`; their positions stay. */
  pause(partitions: readonly TopicPartition[]): void {
    for (const s of partitions.map((tp) => this.assigned(tp.topic, tp.partition))) s.paused = true;
    this.state.changed();
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const s of partitions.map((tp) => this.assigned(tp.topic, tp.partition))) s.paused = false;
    this.state.changed();
    this.fetcher.schedule();
  }

  paused(): TopicPartition[] {
    return this.state
      .list()
      .filter((s) => s.paused)
      .map(tpOf);
  }

  /** Per partition, the first offset whose timestamp is at or after the given one (null where there is none). */
  async offsetsForTimes(
    lookups: readonly (TopicPartition & { timestamp: bigint | number })[],
  ): Promise<(TopicPartition & { offset: bigint | null; timestamp: bigint | null; leaderEpoch: number })[]> {
    this.ensureOpen();
    const found = await this.lookup(lookups.map((l) => ({ ...l, timestamp: BigInt(l.timestamp) })));
    return lookups.map((l) => {
      const f = found.get(key(l));
      return f === undefined || f.offset < 0n
        ? { topic: l.topic, partition: l.partition, offset: null, timestamp: null, leaderEpoch: -1 }
        : {
            topic: l.topic,
            partition: l.partition,
            offset: f.offset,
            timestamp: f.timestamp,
            leaderEpoch: f.leaderEpoch,
          };
    });
  }

  /** The log start offsets of the partitions. */
  async beginningOffsets(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return this.edgeOffsets(partitions, EARLIEST_TIMESTAMP);
  }

  /** The end offsets (high watermark, or last stable offset under read_committed) of the partitions. */
  async endOffsets(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return this.edgeOffsets(partitions, LATEST_TIMESTAMP);
  }

  private async edgeOffsets(partitions: readonly TopicPartition[], timestamp: bigint): Promise<TopicPartitionOffset[]> {
    this.ensureOpen();
    const found = await this.lookup(partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, timestamp })));
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(key(tp))!.offset }));
  }

  private lookup(lookups: OffsetLookup[]) {
    return listOffsets(this.cluster, lookups, {
      isolationLevel: this.settings.readCommitted ? 1 : 0,
      retryBackoffMs: this.settings.retryBackoffMs,
      retryForMs: this.settings.apiTimeoutMs,
    });
  }

  /** Finds the positions of assigned partitions that have none (committed offset, reset policy, seeks). */
  private resolvePositions(): void {
    if (this.closing !== null) return;
    if (this.resolving) {
      this.resolveAgain = true;
      return;
    }
    const now = Date.now();
    const todo = this.state
      .list()
      .filter(
        (s) => s.position === null && !s.resolving && s.error === null && !s.stopped && s.retryAt <= now && !s.revoking,
      );
    if (todo.length === 0) return;
    this.resolving = true;
    for (const s of todo) s.resolving = true;
    void this.resolve(todo).finally(() => {
      for (const s of todo) s.resolving = false;
      this.resolving = false;
      this.state.changed();
      if (this.resolveAgain) {
        this.resolveAgain = false;
        this.resolvePositions();
      }
      this.fetcher.schedule();
    });
  }

  private async resolve(todo: PartitionState[]): Promise<void> {
    const epochs = new Map(todo.map((s) => [s, s.epoch]));
    const current = (s: PartitionState): boolean =>
      s.epoch === epochs.get(s) && this.state.partitions.get(s.key) === s && s.position === null;
    const fail = (s: PartitionState, e: unknown): void => {
      if (!current(s)) return;
      if (e instanceof KafkaError && !e.retriable) s.error = e;
      else if (e instanceof KafkaClientError && !e.retriable) s.error = e;
      else s.retryAt = Date.now() + this.settings.retryBackoffMs;
    };
    // 1. Committed offsets, for partitions without an explicit seek.
    const committed = todo.filter((s) => s.reset.kind === 'committed');
    if (committed.length > 0) {
      if (this.coordinator === null) {
        for (const s of committed) this.applyResetPolicy(s);
      } else {
        try {
          const stored = await this.coordinator.fetchOffsets(committed.map(tpOf), this.settings.apiTimeoutMs);
          for (const s of committed) {
            if (!current(s)) continue;
            const o = stored.get(s.key);
            if (o !== undefined && o.offset !== null) {
              s.position = o.offset;
              s.processed = o.offset;
              s.committedProcessed = o.offset;
              s.fetchOffset = o.offset;
            } else this.applyResetPolicy(s);
          }
        } catch (e) {
          for (const s of committed) fail(s, e);
        }
      }
    }
    // 2. Offset lookups (reset policy, seeks to the beginning, the end or a time).
    const lookups = todo.filter((s) => current(s) && s.reset.kind !== 'committed' && s.error === null);
    if (lookups.length === 0) return;
    const timestampOf = (s: PartitionState): bigint =>
      s.reset.kind === 'earliest'
        ? EARLIEST_TIMESTAMP
        : s.reset.kind === 'latest'
          ? LATEST_TIMESTAMP
          : s.reset.kind === 'timestamp'
            ? s.reset.timestamp
            : LATEST_TIMESTAMP;
    // One attempt: partitions that fail are retried after a backoff, without holding up the others.
    const lookup = (list: PartitionState[], ts: (s: PartitionState) => bigint) =>
      lookupOffsets(
        this.cluster,
        list.map((s) => ({ topic: s.topic, partition: s.partition, timestamp: ts(s) })),
        {
          isolationLevel: this.settings.readCommitted ? 1 : 0,
          retryBackoffMs: this.settings.retryBackoffMs,
          retryForMs: 0,
        },
      );
    const first = await lookup(lookups, timestampOf);
    const toEnd: PartitionState[] = [];
    for (const s of lookups) {
      const f = first.found.get(s.key);
      if (f === undefined) fail(s, first.failed.get(s.key));
      else if (!current(s)) continue;
      // A time after every message: continue from the end.
      else if (f.offset < 0n) toEnd.push(s);
      else this.positionAt(s, f.offset);
    }
    if (toEnd.length === 0) return;
    const ends = await lookup(toEnd, () => LATEST_TIMESTAMP);
    for (const s of toEnd) {
      const f = ends.found.get(s.key);
      if (f === undefined) fail(s, ends.failed.get(s.key));
      else if (current(s)) this.positionAt(s, f.offset);
    }
  }

  private positionAt(s: PartitionState, offset: bigint): void {
    s.position = offset;
    s.processed = offset;
    s.fetchOffset = offset;
    s.reset = { kind: 'committed' };
  }

  /** No committed offset: start where `autoOffsetReset` says, or fail with 'none'. */
  private applyResetPolicy(s: PartitionState): void {
    switch (this.settings.autoOffsetReset) {
      case 'earliest':
        s.reset = { kind: 'earliest' };
        break;
      case 'latest':
        s.reset = { kind: 'latest' };
        break;
      default:
        s.error = new KafkaClientError(
          `${s.topic}-${s.partition} has no committed offset and autoOffsetReset is 'none' (seek to a position first)`,
        );
    }
  }

  private outOfRange(s: PartitionState): void {
    if (this.settings.autoOffsetReset === 'none') {
      s.error = new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `${s.topic}-${s.partition}: offset ${s.fetchOffset} is out of range and autoOffsetReset is 'none'`,
      );
      this.state.changed();
      return;
    }
    this.state.seek(s, null, { kind: this.settings.autoOffsetReset === 'earliest' ? 'earliest' : 'latest' });
  }

  // ---- offsets ----------------------------------------------------------------------------------------------------

  private requireCoordinator(): CoordinatorClient {
    if (this.coordinator === null) throw new KafkaClientError('committing offsets needs a groupId');
    return this.coordinator;
  }

  /** Who the commit is from; throws when a group member is between generations. */
  private commitIdentity(): { generationId: number; memberId: string; groupInstanceId: string | null } {
    if (this.mode !== 'subscribe' || this.membership === null)
      return { generationId: -1, memberId: '', groupInstanceId: null };
    const m = this.membership;
    if (m.state !== 'stable' && m.state !== 'preparing') {
      throw new KafkaError(
        ErrorCode.REBALANCE_IN_PROGRESS,
        `group ${this.settings.groupId} is rebalancing; commit after it`,
      );
    }
    return { generationId: m.generationId, memberId: m.memberId, groupInstanceId: this.settings.groupInstanceId };
  }

  /**
   * Commits offsets to the group: without arguments the position of every assigned partition (everything
   * delivered so far, the message in hand included), else exactly the given offsets (the offset of the next
   * message to read, i.e. the last processed one + 1).
   */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    this.ensureConnected();
    const coordinator = this.requireCoordinator();
    let list: OffsetToCommit[];
    if (offsets === undefined) {
      list = [];
      for (const s of this.state.list()) {
        if (s.position !== null)
          list.push({ topic: s.topic, partition: s.partition, offset: s.position, leaderEpoch: s.lastEpoch });
      }
    } else list = [...offsets];
    await this.sendCommit(coordinator, list);
  }

  /** Commits in order with earlier commits (a later commit never lands before an earlier one). */
  private sendCommit(coordinator: CoordinatorClient, list: OffsetToCommit[]): Promise<void> {
    const run = this.commitChain.then(async () => {
      if (list.length === 0) return;
      const who = this.commitIdentity();
      try {
        await coordinator.commitOffsets(list, who, this.settings.apiTimeoutMs);
      } catch (e) {
        if (e instanceof KafkaError && this.membership !== null && this.mode === 'subscribe') {
          if (
            e.code === ErrorCode.ILLEGAL_GENERATION ||
            e.code === ErrorCode.UNKNOWN_MEMBER_ID ||
            e.code === ErrorCode.REBALANCE_IN_PROGRESS
          ) {
            this.membership.fenced(e.code);
          }
        }
        throw e;
      }
      for (const o of list) {
        const s = this.state.get(o.topic, o.partition);
        if (s === undefined) continue;
        s.committedProcessed = o.offset;
        // What the application committed counts as processed: a later automatic commit (on close, on revoke)
        // must not move the group back to before it.
        if (s.processed === null || s.processed < o.offset) s.processed = o.offset;
      }
    });
    this.commitChain = run.catch(() => {});
    return run;
  }

  /** Commits the processed offsets of these partitions (those that moved since their last commit). */
  private commitProcessed(states: readonly PartitionState[]): Promise<void> {
    if (this.coordinator === null) return Promise.resolve();
    const list: OffsetToCommit[] = [];
    for (const s of states) {
      if (s.processed !== null && s.processed !== s.committedProcessed) {
        list.push({ topic: s.topic, partition: s.partition, offset: s.processed, leaderEpoch: s.lastEpoch });
      }
    }
    return this.sendCommit(this.coordinator, list);
  }

  private autoCommit(): Promise<void> {
    if (!this.settings.enableAutoCommit || this.coordinator === null) return Promise.resolve();
    if (this.mode === 'subscribe' && this.membership?.state !== 'stable') return Promise.resolve();
    return this.commitProcessed(this.state.list());
  }

  private startAutoCommit(): void {
    if (this.autoCommitTimer !== null || !this.settings.enableAutoCommit || this.coordinator === null) return;
    this.autoCommitTimer = setInterval(() => {
      this.autoCommit().catch(() => {
        // Tried again at the next interval; member errors already triggered a rejoin.
      });
    }, this.settings.autoCommitIntervalMs);
    this.autoCommitTimer.unref();
  }

  /** The group's committed offsets for the partitions. */
  async committed(partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    this.ensureConnected();
    const stored = await this.requireCoordinator().fetchOffsets(partitions, this.settings.apiTimeoutMs);
    return partitions.map((tp) => {
      const o = stored.get(key(tp));
      return {
        topic: tp.topic,
        partition: tp.partition,
        offset: o?.offset ?? null,
        metadata: o?.metadata ?? null,
        leaderEpoch: o === undefined || o.leaderEpoch < 0 ? null : o.leaderEpoch,
      };
    });
  }

  // ---- delivery ---------------------------------------------------------------------------------------------------

  private beginDelivery(): void {
    this.ensureOpen();
    if (this.delivering) throw new KafkaClientError('another loop (iterator or consume) is already reading');
    if (this.mode === 'none') throw new KafkaClientError('nothing to consume: call assign() or subscribe() first');
    this.delivering = true;
    void this.connect().catch(() => {});
    this.fetcher.schedule();
  }

  private endDelivery(): void {
    this.releaseHand();
    this.delivering = false;
  }

  private releaseHand(): void {
    this.inHand = null;
    const w = this.handWaiters;
    this.handWaiters = [];
    for (const resolve of w) resolve();
  }

  /** Waits until the application no longer holds a message of these partitions (at most `timeoutMs`). */
  private async waitForHand(states: readonly PartitionState[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inHand !== null && states.includes(this.inHand) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.handWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async waitForChange(signal: AbortSignal | null, timeoutMs?: number): Promise<void> {
    const changed = this.state.waitForChange();
    const waits: Promise<void>[] = [changed];
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    if (timeoutMs !== undefined) waits.push(new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))));
    if (signal !== null) {
      waits.push(
        new Promise((resolve) => {
          onAbort = resolve;
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      );
    }
    try {
      await Promise.race(waits);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
    }
  }

  private raisePending(): void {
    if (this.fatalError !== null) throw this.fatalError;
    const e = this.pendingErrors.shift();
    if (e !== undefined) throw e;
    for (const s of this.state.partitions.values()) {
      if (s.error !== null && !s.paused && !s.revoking) {
        const error = s.error;
        // Raised once; the partition stays stopped until a seek.
        s.error = null;
        s.stopped = true;
        throw error;
      }
    }
  }

  /** The next buffered answer with messages to deliver, or null once closed or aborted. */
  private async nextFetch(signal: AbortSignal | null): Promise<CompletedFetch | null> {
    for (;;) {
      if (this.closing !== null || signal?.aborted) return null;
      this.raisePending();
      const f = this.takeReady();
      if (f !== null) return f;
      await this.waitForChange(signal);
    }
  }

  private takeReady(): CompletedFetch | null {
    const ready = this.state.ready;
    for (let i = 0; i < ready.length; i++) {
      const f = ready[i]!;
      const s = f.state;
      if (f.epoch !== s.epoch || this.state.partitions.get(s.key) !== s) {
        ready.splice(i--, 1);
        continue;
      }
      if (s.paused || s.revoking) continue;
      if (f.messages === null) {
        try {
          f.messages = decodeFetch<unknown, unknown>(f, s.position!, {
            checkCrcs: this.settings.checkCrcs,
            readCommitted: this.settings.readCommitted,
            keyDeserializer: this.keyDeserializer,
            valueDeserializer: this.valueDeserializer,
          });
        } catch (e) {
          this.finish(f);
          s.error = new KafkaClientError(`${s.topic}-${s.partition} at offset ${s.position}: ${(e as Error).message}`, {
            cause: e,
          });
          i--;
          continue;
        }
      }
      if (f.next >= f.messages.length) {
        this.finish(f);
        i--;
        continue;
      }
      return f;
    }
    return null;
  }

  /** Done with a buffered answer: its bytes free a place for the next fetch. */
  private finish(f: CompletedFetch): void {
    const i = this.state.ready.indexOf(f);
    if (i >= 0) this.state.ready.splice(i, 1);
    this.state.consumed(f);
    this.fetcher.schedule();
  }

  /** Whether the rest of a buffered answer may still be delivered. */
  private deliverable(f: CompletedFetch): boolean {
    const s = f.state;
    return f.epoch === s.epoch && !s.paused && !s.revoking && this.closing === null;
  }

  /** The messages, one at a time, until `signal` aborts or the consumer closes; see the module comment. */
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<ConsumerMessage<K, V>, void, undefined> {
    const signal = options.signal ?? null;
    this.beginDelivery();
    try {
      for (;;) {
        const f = await this.nextFetch(signal);
        if (f === null) return;
        const s = f.state;
        const messages = f.messages as ConsumerMessage<K, V>[];
        while (f.next < messages.length && this.deliverable(f) && !signal?.aborted) {
          const m = messages[f.next++]!;
          if (f.next >= messages.length) this.finish(f);
          s.position = m.offset + 1n;
          s.lastEpoch = m.leaderEpoch;
          this.inHand = s;
          yield m;
          this.releaseHand();
          if (f.epoch === s.epoch) s.processed = m.offset + 1n;
        }
      }
    } finally {
      this.endDelivery();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConsumerMessage<K, V>, void, undefined> {
    return this.messages();
  }

  /**
   * Runs the handlers over the messages until `signal` aborts (then it resolves) or the consumer closes. With
   * `eachBatch`, each call gets up to `maxPollRecords` messages of one partition. A handler that throws ends
   * `consume()` with its error, and the partition goes back to the first message not processed, so the next
   * `consume()` gets it again.
   */
  async consume(handlers: ConsumeHandlers<K, V>): Promise<void> {
    const { eachMessage, eachBatch } = handlers;
    if ((eachMessage === undefined) === (eachBatch === undefined)) {
      throw new KafkaClientError('consume() takes one of eachMessage and eachBatch');
    }
    const signal = handlers.signal ?? null;
    this.beginDelivery();
    try {
      for (;;) {
        const f = await this.nextFetch(signal);
        if (f === null) return;
        const s = f.state;
        const messages = f.messages as ConsumerMessage<K, V>[];
        if (eachBatch !== undefined) {
          const end = Math.min(messages.length, f.next + this.settings.maxPollRecords);
          const batch = messages.slice(f.next, end);
          f.next = end;
          if (end >= messages.length) this.finish(f);
          const last = batch[batch.length - 1]!;
          s.position = last.offset + 1n;
          s.lastEpoch = last.leaderEpoch;
          this.inHand = s;
          try {
            await eachBatch({
              topic: s.topic,
              partition: s.partition,
              messages: batch,
              highWatermark: f.highWatermark,
            });
          } catch (e) {
            if (f.epoch === s.epoch) this.seekState(s, batch[0]!.offset);
            throw e;
          } finally {
            this.releaseHand();
          }
          if (f.epoch === s.epoch) s.processed = s.position;
        } else {
          while (f.next < messages.length && this.deliverable(f) && !signal?.aborted) {
            const m = messages[f.next++]!;
            if (f.next >= messages.length) this.finish(f);
            s.position = m.offset + 1n;
            s.lastEpoch = m.leaderEpoch;
            this.inHand = s;
            try {
              await eachMessage!(m);
            } catch (e) {
              if (f.epoch === s.epoch) this.seekState(s, m.offset);
              throw e;
            } finally {
              this.releaseHand();
            }
            if (f.epoch === s.epoch) s.processed = m.offset + 1n;
          }
        }
      }
    } finally {
      this.endDelivery();
    }
  }
}
