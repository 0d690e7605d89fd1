/**
 * What the consumer knows about each partition it is assigned, shared by the fetcher (which fetches ahead), the
 * delivery loop (which hands messages to the application) and the group member (which changes the assignment):
 *
 * - `position`: the next offset to hand to the application (Kafka's position); null until it is known (from the
 *   committed offset, from `autoOffsetReset`, or from a seek);
 * - `fetchOffset`: the next offset to fetch; ahead of `position` by what is buffered, so that the next fetch can be
 *   in flight while the application works through the current records (pipelining);
 * - `processed`: the offset after the last message the application finished with (the next message was asked
 *   for, or its batch handler returned): what automatic commits and commits on revocation store;
 * - `epoch`: bumped by every seek, reset and revocation; fetch answers and buffered records of an older epoch are
 *   dropped, so no message from before a seek is ever delivered after it.
 *
 * Buffered fetch answers wait in one FIFO (`ready`) in arrival order, which keeps delivery fair between
 * partitions; a partition is fetched again only while its buffered bytes stay under its share
 * (maxPartitionFetchBytes) and the total under fetchMaxBytes, which bounds the prefetch.
 *
 * Concurrency: single-threaded; `changed()` wakes everything waiting for a state change (new data, an error, a
 * resume, a seek, close).
 */

import type { ConsumerMessage, TopicPartition } from './types.js';

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** Where a partition's position must be looked up: ListOffsets' special timestamps, or a timestamp to seek to. */
export type OffsetReset =
  | { kind: 'committed' }
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'timestamp'; timestamp: bigint };

/** One fetch answer for one partition, waiting to be delivered. */
export interface CompletedFetch {
  state: PartitionState;
  /** The partition's epoch when the fetch was sent. */
  epoch: number;
  /** Whole batches only (a cut-off tail was left out). */
  records: Buffer;
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
  highWatermark: bigint;
  /** Decoded on first delivery; then handed out from `next`. */
  messages: ConsumerMessage<unknown, unknown>[] | null;
  next: number;
}

export class PartitionState implements TopicPartition {
  readonly key: string;
  position: bigint | null = null;
  fetchOffset: bigint | null = null;
  processed: bigint | null = null;
  /** The `processed` value last committed (automatic commits skip partitions where it did not move). */
  committedProcessed: bigint | null = null;
  /** Leader epoch of the last delivered record (stored with commits), -1 when unknown. */
  lastEpoch = -1;
  epoch = 0;
  paused = false;
  /** Being revoked: nothing more is delivered or fetched. */
  revoking = false;
  /** How to find the position when it is null. */
  reset: OffsetReset = { kind: 'committed' };
  /** A position lookup is running. */
  resolving = false;
  /** A fetch for this partition is in flight. */
  inFlight = false;
  /** Bytes of buffered, not fully delivered fetch answers. */
  bufferedBytes = 0;
  /** Don't fetch or look up before this time (ms): backoff after an error. */
  retryAt = 0;
  highWatermark = -1n;
  logStartOffset = -1n;
  /** An error to raise in the delivery loop (e.g. OFFSET_OUT_OF_RANGE with autoOffsetReset 'none'). */
  error: Error | null = null;
  /** The error was raised: nothing more is fetched or delivered until a seek. */
  stopped = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    this.key = partitionKey(topic, partition);
  }
}

export class AssignmentState {
  readonly partitions = new Map<string, PartitionState>();
  readonly ready: CompletedFetch[] = [];
  totalBufferedBytes = 0;
  private waiters: (() => void)[] = [];

  get(topic: string, partition: number): PartitionState | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  list(): PartitionState[] {
    return [...this.partitions.values()];
  }

  add(topic: string, partition: number): PartitionState {
    const key = partitionKey(topic, partition);
    let s = this.partitions.get(key);
    if (s === undefined) {
      s = new PartitionState(topic, partition);
      this.partitions.set(key, s);
    }
    return s;
  }

  remove(topic: string, partition: number): void {
    const s = this.partitions.get(partitionKey(topic, partition));
    if (s === undefined) return;
    this.invalidate(s);
    this.partitions.delete(s.key);
  }

  /**
   * Forgets a partition's buffered answers and in-flight fetches (a seek, a reset, a revocation): they belong to
   * an older epoch now and are skipped when reached.
   */
  invalidate(s: PartitionState): void {
    s.epoch++;
    s.fetchOffset = s.position;
    this.totalBufferedBytes -= s.bufferedBytes;
    s.bufferedBytes = 0;
    this.changed();
  }

  /** Moves a partition to `offset` (null: look it up again by `reset`). */
  seek(s: PartitionState, offset: bigint | null, reset?: OffsetReset): void {
    s.position = offset;
    if (reset !== undefined) s.reset = reset;
    s.error = null;
    s.stopped = false;
    s.retryAt = 0;
    this.invalidate(s);
  }

  /** Accounts for a delivered answer's bytes. */
  consumed(f: CompletedFetch): void {
    if (f.epoch !== f.state.epoch) return;
    f.state.bufferedBytes -= f.records.length;
    this.totalBufferedBytes -= f.records.length;
  }

  /** Resolves at the next `changed()`. */
  waitForChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  changed(): void {
    if (this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
