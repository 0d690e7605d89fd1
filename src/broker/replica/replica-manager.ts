/**
 * The partitions this broker hosts. It follows the metadata store: a partition whose replicas include this node
 * gets a log (created in the least loaded log dir) and a `Partition`, also when a reassignment adds this node to an
 * existing partition; a deleted topic's logs are removed, as is the log of a partition whose replicas no longer
 * include this node (a reassignment moved it away; at start, also what was moved away while this broker was down);
 * changed topic configs are applied to the open logs. Produce and Fetch reach partitions through `get`.
 *
 * Waiters (long-poll fetches, acks=all produces) are told through `onDataChanged` whenever a partition's log end or
 * high watermark moves.
 *
 * Cluster mode: `onRoleChanged` listeners (the replica fetchers) hear of every hosted partition whose leader or
 * epoch may have changed, and of partitions no longer hosted. As leader, follower fetches come through
 * `followerFetched`, which moves the high watermark and asks `isrWriter` to add a follower that reached it; a timer
 * asks it to drop ISR followers that have not caught up for replica.lag.time.max.ms.
 */
import type { Logger } from '../../log/logger.js';
import type { MetadataChange, MetadataStore, TopicInfo } from '../../metadata/types.js';
import type { LogConfig } from '../../storage/config.js';
import type { LogManager } from '../../storage/log-manager.js';
import { Partition } from './partition.js';

export interface ReplicaManagerOptions {
  nodeId: number;
  logs: LogManager;
  metadata: MetadataStore;
  logger: Logger;
  /** The effective log settings of a topic (broker defaults overlaid with its overrides). */
  logConfigFor: (topic: TopicInfo) => LogConfig;
  /** Cluster mode: at start, delete the logs of partitions of known topics that list other replicas. */
  removeStrays?: boolean;
}

export class ReplicaManager {
  private readonly nodeId: number;
  private readonly logs: LogManager;
  private readonly metadata: MetadataStore;
  private readonly logger: Logger;
  private readonly logConfigFor: (topic: TopicInfo) => LogConfig;
  private readonly removeStrays: boolean;
  /** topic -> partitions hosted here, indexed by partition number (holes for those hosted elsewhere). */
  private readonly hosted = new Map<string, (Partition | undefined)[]>();
  private unsubscribe: (() => void) | null = null;
  /** Deletions in progress by partition key, awaited by shutdown and by a re-creation of the same partition. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly dataListeners: ((partition: Partition) => void)[] = [];
  private readonly roleListeners: ((partition: Partition, hosted: boolean) => void)[] = [];
  /** Writes a leader's new ISR (cluster mode); resolves false when the state moved on meanwhile. */
  isrWriter: ((partition: Partition, isr: number[]) => Promise<boolean>) | null = null;
  /** Partitions with an ISR write in flight (one at a time each). */
  private readonly isrWrites = new Set<string>();
  private isrTimer: NodeJS.Timeout | null = null;

  constructor(options: ReplicaManagerOptions) {
    this.nodeId = options.nodeId;
    this.logs = options.logs;
    this.metadata = options.metadata;
    this.logger = options.logger;
    this.logConfigFor = options.logConfigFor;
    this.removeStrays = options.removeStrays ?? false;
  }

  /**
   * Opens the partitions of every known topic hosted here and follows changes from now on. With `removeStrays`
   * (cluster mode), logs of partitions that another broker now replicates instead (reassigned while this one was
   * down) are deleted.
   */
  start(): void {
    for (const topic of this.metadata.topics()) this.host(topic, 0);
    if (this.removeStrays) {
      for (const { topic, partition } of this.logs.partitions()) {
        const replicas = this.metadata.topic(topic)?.partitions[partition]?.replicas;
        if (replicas === undefined || replicas.includes(this.nodeId)) continue;
        this.logger.info({ topic, partition, replicas }, 'no longer a replica: deleting the log left here');
        this.deleteLog(topic, partition);
      }
    }
    this.unsubscribe = this.metadata.subscribe((change) => this.apply(change));
  }

  /** Registers a listener for "this partition's leader or epoch may have changed" (or it is no longer hosted). */
  onRoleChanged(listener: (partition: Partition, hosted: boolean) => void): void {
    this.roleListeners.push(listener);
  }

  private roleChanged(partition: Partition, hosted: boolean): void {
    for (const l of this.roleListeners) {
      try {
        l(partition, hosted);
      } catch (err) {
        this.logger.error({ partition: partition.key, err: (err as Error).message }, 'role listener failed');
      }
    }
  }

  /** A follower fetched a partition led here from `offset` (see Partition.followerFetched). */
  followerFetched(partition: Partition, replicaId: number, offset: bigint, now: number): void {
    if (partition.followerFetched(replicaId, offset, now)) this.dataChanged(partition);
    // Only a registered broker: one whose session ended (frozen, cut off) may still fetch until it notices, and the
    // controller would take it out of the ISR again at once.
    if (partition.canJoinIsr(replicaId) && this.metadata.broker(replicaId) !== undefined) {
      this.writeIsr(partition, [...partition.isr, replicaId], 'caught up');
    }
  }

  /** Checks the ISRs of the partitions led here every half `maxLagMs` (cluster mode). */
  startIsrChecks(maxLagMs: number): void {
    this.isrTimer = setInterval(
      () => {
        const now = Date.now();
        for (const p of this.all()) {
          if (!p.isLeader) continue;
          const lagging = p.laggingFollowers(now, maxLagMs);
          if (lagging.length > 0) {
            this.writeIsr(
              p,
              p.isr.filter((id) => !lagging.includes(id)),
              `not caught up for ${maxLagMs} ms: ${lagging.join(',')}`,
            );
          }
        }
      },
      Math.max(50, Math.floor(maxLagMs / 2)),
    );
    this.isrTimer.unref();
  }

  private writeIsr(partition: Partition, isr: number[], why: string): void {
    const writer = this.isrWriter;
    if (writer === null || this.isrWrites.has(partition.key)) return;
    this.isrWrites.add(partition.key);
    const from = partition.isr.join(',');
    writer(partition, isr)
      .then(
        (ok) => {
          if (ok) this.logger.info({ partition: partition.key, from, to: isr.join(','), why }, 'ISR changed');
        },
        (err: unknown) =>
          this.logger.warn({ partition: partition.key, err: (err as Error).message }, 'ISR not written'),
      )
      .finally(() => this.isrWrites.delete(partition.key));
  }

  /** Registers a listener for "this partition's log end or high watermark moved". */
  onDataChanged(listener: (partition: Partition) => void): void {
    this.dataListeners.push(listener);
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.hosted.get(topic)?.[partition];
  }

  /** Every partition hosted here. */
  *all(): IterableIterator<Partition> {
    for (const parts of this.hosted.values()) for (const p of parts) if (p !== undefined) yield p;
  }

  /** Tells the waiters that `partition` has new data or a new high watermark. */
  dataChanged(partition: Partition): void {
    for (const l of this.dataListeners) l(partition);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.isrTimer !== null) clearInterval(this.isrTimer);
    this.isrTimer = null;
    await Promise.allSettled([...this.pending.values()]);
  }

  private apply(change: MetadataChange): void {
    switch (change.kind) {
      case 'topic-created':
        this.host(change.topic, 0);
        break;
      case 'partitions-added':
        this.host(change.topic, change.from);
        break;
      case 'topic-deleted':
        this.unhost(change.topic);
        break;
      case 'partitions-changed': {
        // A new leader, leader epoch, ISR or replica set (cluster mode): the hosted partitions take it on; a
        // reassignment makes this broker host a partition it newly replicates and drop one it no longer does.
        const parts = this.hosted.get(change.topic.name);
        for (const i of change.partitions) {
          const state = change.topic.partitions[i]!;
          const p = parts?.[i];
          const replica = state.replicas.includes(this.nodeId);
          if (p === undefined) {
            if (replica) this.hostPartition(change.topic, i, this.logConfigFor(change.topic));
            continue;
          }
          try {
            p.update(state);
          } catch (err) {
            this.logger.warn({ topic: p.topic, partition: i, err: (err as Error).message }, 'state not applied');
          }
          // Waiters see the new state first: acks=all produces fail once this broker no longer leads.
          this.dataChanged(p);
          if (replica) this.roleChanged(p, true);
          else {
            parts![i] = undefined;
            this.dropPartition(p);
            this.logger.info(
              { topic: p.topic, partition: i, replicas: state.replicas },
              'no longer a replica: deleted',
            );
          }
        }
        break;
      }
      case 'configs-changed': {
        const config = this.logConfigFor(change.topic);
        for (const p of this.hosted.get(change.topic.name) ?? []) {
          if (p === undefined) continue;
          try {
            p.log.updateConfig(config);
          } catch (err) {
            this.logger.warn({ topic: p.topic, partition: p.index, err: (err as Error).message }, 'config not applied');
          }
        }
        break;
      }
    }
  }

  private host(topic: TopicInfo, from: number): void {
    const config = this.logConfigFor(topic);
    for (let i = from; i < topic.partitions.length; i++) {
      if (topic.partitions[i]!.replicas.includes(this.nodeId)) this.hostPartition(topic, i, config);
    }
  }

  /** Opens partition `i` of `topic` here (once a deletion of its previous log here has finished). */
  private hostPartition(topic: TopicInfo, i: number, config: LogConfig): void {
    let parts = this.hosted.get(topic.name);
    if (parts === undefined) {
      parts = [];
      this.hosted.set(topic.name, parts);
    }
    const deleting = this.pending.get(`${topic.name}-${i}`);
    if (deleting === undefined) {
      parts[i] = this.open(topic, i, config);
      this.roleChanged(parts[i]!, true);
      return;
    }
    // The topic was deleted and created again, or the partition reassigned away and back, before the old log was
    // gone: open the new one once it is, if still wanted. Until then the partition is not hosted here and clients
    // get a retriable NOT_LEADER_OR_FOLLOWER.
    const wanted = parts;
    void deleting.then(() => {
      const now = this.metadata.topic(topic.name);
      if (
        this.unsubscribe !== null &&
        this.hosted.get(topic.name) === wanted &&
        wanted[i] === undefined &&
        now?.id === topic.id &&
        now.partitions[i]?.replicas.includes(this.nodeId) === true
      ) {
        wanted[i] = this.open(now, i, this.logConfigFor(now));
        this.roleChanged(wanted[i]!, true);
      }
    });
  }

  private open(topic: TopicInfo, index: number, config: LogConfig): Partition {
    const state = topic.partitions[index]!;
    try {
      const log = this.logs.getOrCreate(topic.name, index, config);
      if (log.config !== config) log.updateConfig(config);
    } catch (err) {
      // The partition's dir is offline: requests for it get KAFKA_STORAGE_ERROR from the log manager.
      this.logger.error({ topic: topic.name, partition: index, err: (err as Error).message }, 'cannot open partition');
    }
    return new Partition(topic.name, index, topic.id, state, this.nodeId, this.logs);
  }

  private unhost(topic: TopicInfo): void {
    const parts = this.hosted.get(topic.name);
    if (parts === undefined) return;
    this.hosted.delete(topic.name);
    for (const p of parts) if (p !== undefined) this.dropPartition(p);
    this.logger.info({ topic: topic.name, partitions: parts.length }, 'topic deleted');
  }

  /** Stops following a partition no longer hosted here and deletes its log. */
  private dropPartition(p: Partition): void {
    this.roleChanged(p, false);
    this.deleteLog(p.topic, p.index);
  }

  private deleteLog(topic: string, index: number): void {
    const key = `${topic}-${index}`;
    const before = this.pending.get(key) ?? Promise.resolve();
    const deletion = before
      .then(() => this.logs.delete(topic, index))
      .catch((err: unknown) => {
        this.logger.error({ topic, partition: index, err: (err as Error).message }, 'cannot delete log');
      });
    this.pending.set(key, deletion);
    void deletion.finally(() => {
      if (this.pending.get(key) === deletion) this.pending.delete(key);
    });
  }
}
