/**
 * One partition hosted by this broker: its log, its place in the cluster (leader or follower, leader epoch) and,
 * as leader, the high watermark. The high watermark is the smallest log end offset over the ISR; with an ISR of
 * this broker alone (the single-node cluster) it follows the log end at once. As leader it also tracks its
 * followers (cluster mode): each fetch tells where a follower's log ends (its fetch offset), and a follower whose
 * fetch reached the leader's log end is caught up at that moment; the ISR manager shrinks the ISR by the followers
 * not caught up for replica.lag.time.max.ms and grows it by those that reached the high watermark. As follower,
 * the replica fetcher appends what the leader sent (offsets kept) and moves the high watermark to the leader's.
 *
 * Single-threaded: every call runs on the event loop, and an append and the high-watermark update that follows it
 * happen in one synchronous step.
 */

import type { PartitionState } from '../../metadata/types.js';
import type { LogManager } from '../../storage/log-manager.js';
import type { SegmentLog } from '../../storage/segment-log.js';
import type { AppendOptions, AppendResult, ReadOptions, ReadResult } from '../../storage/types.js';

export class Partition {
  /** `<topic>-<partition>`: the key of this partition in purgatories and logs. */
  readonly key: string;
  private state: PartitionState;
  /** Log end offsets of the other replicas, as they report them by fetching (cluster mode). */
  private readonly followerEnds = new Map<number, bigint>();
  /** When each follower last fetched from the leader's log end (or when this broker became leader). */
  private readonly caughtUpAt = new Map<number, number>();

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly topicId: string,
    state: PartitionState,
    private readonly nodeId: number,
    private readonly logs: LogManager,
  ) {
    this.key = `${topic}-${index}`;
    this.state = state;
    try {
      this.updateHighWatermark();
    } catch {
      // The log's dir is offline; requests for this partition report KAFKA_STORAGE_ERROR.
    }
  }

  get leaderId(): number {
    return this.state.leader;
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  get isLeader(): boolean {
    return this.state.leader === this.nodeId;
  }

  get replicas(): readonly number[] {
    return this.state.replicas;
  }

  get isr(): readonly number[] {
    return this.state.isr;
  }

  /** The log; throws KAFKA_STORAGE_ERROR when its dir is offline. */
  get log(): SegmentLog {
    return this.logs.guard(this.topic, this.index, (log) => log);
  }

  get highWatermark(): bigint {
    return this.log.highWatermark;
  }

  /** Applies a new leader/ISR state from the metadata store. */
  update(state: PartitionState): void {
    const wasLeader = this.isLeader;
    const newEpoch = state.leaderEpoch !== this.state.leaderEpoch;
    this.state = state;
    if (this.isLeader && (!wasLeader || newEpoch)) {
      // A new term: what followers reported to an earlier leader says nothing; the ISR gets a full lag window.
      this.followerEnds.clear();
      this.caughtUpAt.clear();
      const now = Date.now();
      for (const id of state.isr) if (id !== this.nodeId) this.caughtUpAt.set(id, now);
    }
    this.updateHighWatermark();
  }

  /** The log's end offset (the next offset to be written). */
  get logEndOffset(): bigint {
    return this.log.logEndOffset;
  }

  // ---- as follower ----

  /** Appends batches fetched from the leader, their offsets and leader epochs kept. */
  appendAsFollower(records: Buffer): void {
    this.logs.append(this.topic, this.index, records, { assignOffsets: false });
  }

  /** The follower's high watermark: the leader's, as far as this log reaches. */
  followLeaderHighWatermark(leaderHw: bigint): boolean {
    const log = this.log;
    const hw = leaderHw < log.logEndOffset ? leaderHw : log.logEndOffset;
    if (hw <= log.highWatermark) return false;
    log.highWatermark = hw;
    return true;
  }

  // ---- as leader: followers ----

  /**
   * A follower fetched from `offset`: that is where its log ends. Returns whether the high watermark moved (then
   * waiting consumers and acks=all producers may complete).
   */
  followerFetched(replicaId: number, offset: bigint, now: number): boolean {
    this.followerEnds.set(replicaId, offset);
    if (offset >= this.log.logEndOffset) this.caughtUpAt.set(replicaId, now);
    return this.updateHighWatermark();
  }

  /** Whether `replicaId` may join the ISR: its log reaches the high watermark. */
  canJoinIsr(replicaId: number): boolean {
    const end = this.followerEnds.get(replicaId);
    return end !== undefined && end >= this.log.highWatermark && !this.state.isr.includes(replicaId);
  }

  /** ISR followers that have not caught up with the leader's log end for longer than `maxLagMs`. */
  laggingFollowers(now: number, maxLagMs: number): number[] {
    const out: number[] = [];
    for (const id of this.state.isr) {
      if (id === this.nodeId) continue;
      const at = this.caughtUpAt.get(id) ?? 0;
      if (now - at > maxLagMs) out.push(id);
    }
    return out;
  }

  /** Appends as leader: offsets assigned from the log end, stamped with the current leader epoch. */
  appendAsLeader(records: Buffer, now: number): AppendResult {
    const options: AppendOptions = { leaderEpoch: this.state.leaderEpoch, now };
    const result = this.logs.append(this.topic, this.index, records, options);
    this.updateHighWatermark();
    return result;
  }

  read(offset: bigint, options: ReadOptions): ReadResult {
    return this.logs.read(this.topic, this.index, offset, options);
  }

  /**
   * Moves the high watermark to the smallest log end offset over the ISR (never backwards); returns whether it
   * moved, which is when waiting consumers and acks=all producers may complete.
   */
  updateHighWatermark(): boolean {
    if (!this.isLeader) return false;
    const log = this.log;
    let hw = log.logEndOffset;
    for (const id of this.state.isr) {
      if (id === this.nodeId) continue;
      const end = this.followerEnds.get(id) ?? 0n;
      if (end < hw) hw = end;
    }
    if (hw <= log.highWatermark) return false;
    log.highWatermark = hw;
    return true;
  }
}
