/**
 * Committed offsets of one group, in memory: what OffsetFetch answers and what `__consumer_offsets` holds. Also the
 * expiration rule of `offsets.retention.minutes` (KIP-211, Kafka 2.1+):
 * - a group with a protocol type that is Empty: every offset expires once the retention has passed since the group
 *   became Empty (its current-state timestamp; for groups loaded from old records without one, since the commit);
 * - a Stable consumer-protocol group whose subscriptions are known: offsets of topics it is not subscribed to
 *   expire by commit time;
 * - a group without protocol type (simple consumers that only commit): by commit time;
 * - offsets committed with an explicit expire timestamp (OffsetCommit v1-4 retention) expire at that time.
 * Offsets with a commit in flight never expire.
 *
 * Concurrency: plain data, used on the one event-loop thread. In-flight commits are counted per partition
 * (`beginPending`/`endPending`) so expiration and group removal leave them alone.
 */

import type { TopicPartition } from './types.js';

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  /** ms since the epoch. */
  commitTimestamp: number;
  /** Absolute expiry (ms) from an OffsetCommit v1-4 retention, or null for the broker's retention. */
  expireTimestamp: number | null;
}

export class OffsetTable {
  private readonly topics = new Map<string, Map<number, CommittedOffset>>();
  private readonly pending = new Map<string, Map<number, number>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** True when offsets are stored or commits are in flight (Kafka's `hasOffsets`). */
  get hasOffsets(): boolean {
    return this.count > 0 || this.pending.size > 0;
  }

  /** True while a commit is being written. */
  get hasPendingCommits(): boolean {
    return this.pending.size > 0;
  }

  get(topic: string, partition: number): CommittedOffset | undefined {
    return this.topics.get(topic)?.get(partition);
  }

  set(topic: string, partition: number, value: CommittedOffset): void {
    let partitions = this.topics.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.topics.set(topic, partitions);
    }
    if (!partitions.has(partition)) this.count++;
    partitions.set(partition, value);
  }

  delete(topic: string, partition: number): boolean {
    const partitions = this.topics.get(topic);
    if (partitions === undefined || !partitions.delete(partition)) return false;
    if (partitions.size === 0) this.topics.delete(topic);
    this.count--;
    return true;
  }

  clear(): TopicPartition[] {
    const all = [...this.entries()].map(([tp]) => tp);
    this.topics.clear();
    this.count = 0;
    return all;
  }

  *entries(): IterableIterator<[TopicPartition, CommittedOffset]> {
    for (const [topic, partitions] of this.topics) {
      for (const [partition, value] of partitions) yield [{ topic, partition }, value];
    }
  }

  beginPending(topic: string, partition: number): void {
    let partitions = this.pending.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.pending.set(topic, partitions);
    }
    partitions.set(partition, (partitions.get(partition) ?? 0) + 1);
  }

  endPending(topic: string, partition: number): void {
    const partitions = this.pending.get(topic);
    const n = partitions?.get(partition);
    if (partitions === undefined || n === undefined) return;
    if (n > 1) partitions.set(partition, n - 1);
    else {
      partitions.delete(partition);
      if (partitions.size === 0) this.pending.delete(topic);
    }
  }

  isPending(topic: string, partition: number): boolean {
    return this.pending.get(topic)?.has(partition) ?? false;
  }
}

/** What expiration needs to know about the group. */
export interface ExpiryContext {
  state: string;
  protocolType: string | null;
  /** When the group entered its current state, or null when unknown (loaded from an old record). */
  currentStateTimestamp: number | null;
  /** Topics the members subscribe to (consumer protocol), or null when unknown. */
  subscribedTopics: ReadonlySet<string> | null;
}

/** The partitions whose offsets have expired at `now` (not removed here). */
export function expiredOffsets(
  table: OffsetTable,
  group: ExpiryContext,
  now: number,
  retentionMs: number,
): TopicPartition[] {
  let base: ((o: CommittedOffset) => number) | null = null;
  let keep: ReadonlySet<string> | null = null;
  if (group.protocolType !== null && group.state === 'Empty') {
    const since = group.currentStateTimestamp;
    base = (o) => since ?? o.commitTimestamp;
  } else if (group.protocolType === 'consumer' && group.subscribedTopics !== null && group.state === 'Stable') {
    base = (o) => o.commitTimestamp;
    keep = group.subscribedTopics;
  } else if (group.protocolType === null) {
    base = (o) => o.commitTimestamp;
  }
  if (base === null) return [];
  const out: TopicPartition[] = [];
  for (const [tp, o] of table.entries()) {
    if (keep?.has(tp.topic) || table.isPending(tp.topic, tp.partition)) continue;
    const expired = o.expireTimestamp !== null ? now >= o.expireTimestamp : now - base(o) >= retentionMs;
    if (expired) out.push(tp);
  }
  return out;
}
