/**
 * The partitions this broker hosts. It follows the metadata store: a partition whose replicas include this node
 * gets a log (created in the least loaded log dir) and a `Partition`; a deleted topic's logs are removed; changed
 * topic configs are applied to the open logs. Produce and Fetch reach partitions through `get`.
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
}

export class ReplicaManager {
  private readonly nodeId: number;
  private readonly logs: LogManager;
  private readonly metadata: MetadataStore;
  private readonly logger: Logger;
  private readonly logConfigFor: (topic: TopicInfo) => LogConfig;
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
  }

  /** Opens the partitions of every known topic hosted here and follows changes from now on. */
  start(): void {
    for (const topic of this.metadata.topics()) this.host(topic, 0);
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
        // A new leader, leader epoch or ISR (cluster mode): the hosted partitions take it on.
        const parts = this.hosted.get(change.topic.name);
        for (const i of change.partitions) {
          const p = parts?.[i];
          if (p === undefined) continue;
          try {
            p.update(change.topic.partitions[i]!);
          } catch (err) {
            this.logger.warn({ topic: p.topic, partition: i, err: (err as Error).message }, 'state not applied');
          }
          this.dataChanged(p);
          this.roleChanged(p, true);
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
    let parts = this.hosted.get(topic.name);
    if (parts === undefined) {
      parts = [];
      this.hosted.set(topic.name, parts);
    }
    for (let i = from; i < topic.partitions.length; i++) {
      const state = topic.partitions[i]!;
      if (!state.replicas.includes(this.nodeId)) continue;
      const deleting = this.pending.get(`${topic.name}-${i}`);
      if (deleting === undefined) {
        parts[i] = this.open(topic, i, config);
        this.roleChanged(parts[i]!, true);
        continue;
      }
      // The topic was deleted and created again before the old log was gone: open the new one once it is.
      // Until then the partition is not hosted here and clients get a retriable NOT_LEADER_OR_FOLLOWER.
      void deleting.then(() => {
        if (this.hosted.get(topic.name) === parts && this.metadata.topic(topic.name)?.id === topic.id) {
          parts[i] = this.open(topic, i, this.logConfigFor(this.metadata.topic(topic.name)!));
          this.roleChanged(parts[i]!, true);
        }
      });
    }
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
    for (const p of parts) {
      if (p === undefined) continue;
      this.roleChanged(p, false);
      const deletion = this.logs.delete(p.topic, p.index).catch((err: unknown) => {
        this.logger.error({ topic: p.topic, partition: p.index, err: (err as Error).message }, 'cannot delete log');
      });
      this.pending.set(p.key, deletion);
      void deletion.finally(() => {
        if (this.pending.get(p.key) === deletion) this.pending.delete(p.key);
      });
    }
    this.logger.info({ topic: topic.name, partitions: parts.length }, 'topic deleted');
  }
}
