/**
 * One partition hosted by this broker: its log, its place in the cluster (leader or follower, leader epoch) and,
 * as leader, the high watermark. The high watermark is the smallest log end offset over the ISR; with an ISR of
 * this broker alone (the single-node cluster) it follows the log end at once. Follower progress tracking arrives
 * with replication (cluster mode); the rule already takes it into account.
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
    this.state = state;
    this.updateHighWatermark();
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
