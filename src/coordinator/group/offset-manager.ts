/**
 * Committed offsets of classic groups: OffsetCommit validation and storage, OffsetFetch, OffsetDelete (KIP-496),
 * expiration (`offsets.retention.minutes`, KIP-211) and the removal of groups left with nothing. Behaviour follows
 * Kafka's GroupCoordinator / GroupMetadataManager:
 * - Commits with generation -1, member id '' and no instance id come from simple consumers: accepted only while the
 *   group is Empty (or does not exist yet; it is then created). Otherwise the member must be current (KIP-345
 *   fencing included) and the generation must match; during CompletingRebalance the answer is
 *   REBALANCE_IN_PROGRESS. A commit to a group that does not exist with a generation >= 0 gets ILLEGAL_GENERATION.
 * - Metadata longer than `offset.metadata.max.bytes` fails that partition with OFFSET_METADATA_TOO_LARGE; the
 *   others are stored. A commit is acknowledged only after `storeOffsets` resolves, and becomes visible to
 *   OffsetFetch only then; a failed write changes nothing and maps to Kafka's error (`storeErrorCode`).
 * - OffsetDelete works on Empty groups, and on consumer-protocol groups for topics no member subscribes to
 *   (GROUP_SUBSCRIBED_TO_TOPIC otherwise); other non-empty groups get NON_EMPTY_GROUP.
 * - An Empty group with no offsets left (and none in flight) becomes Dead and is removed, with a tombstone.
 *
 * Concurrency: validation and in-memory changes are synchronous. Writes of one group are applied in the order they
 * were issued (each waits for the previous one's outcome), so the in-memory offsets end as the log does, and a
 * group that was deleted or unloaded while a write was in flight is not touched afterwards.
 */

import { ErrorCode } from '../../protocol/errors.js';
import { ConsumerGroup } from './consumer/consumer-group.js';
import { ConsumerMembership } from './consumer/consumer-membership.js';
import { persistConsumerGroup } from './consumer/group-records.js';
import type { AnyGroup, CoordinatorContext } from './context.js';
import { ClassicGroup } from './group.js';
import type { Membership } from './membership.js';
import { validateCurrentMember } from './membership.js';
import { expiredOffsets } from './offsets.js';
import { storeErrorCode } from './store-errors.js';
import { CONSUMER_PROTOCOL_TYPE } from './subscription.js';
import type {
  CommitValidation,
  FetchedOffset,
  OffsetCommitEntry,
  OffsetCommitRequest,
  OffsetDeleteResult,
  PartitionError,
  StoredOffset,
  TopicPartition,
} from './types.js';

export class OffsetManager {
  /** Per group, the settlement of its last issued offset write (writes are applied in issue order). */
  private readonly tails = new WeakMap<AnyGroup, Promise<unknown>>();

  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly membership: Membership,
  ) {}

  /** The error an OffsetCommit with this identity gets before anything is written (NONE when acceptable). */
  validateCommit(req: CommitValidation): number {
    const group = this.ctx.groups.get(req.groupId);
    if (group instanceof ConsumerGroup) return this.validateConsumerGroupCommit(group, req);
    const simple = req.generationId < 0 && req.memberId === '' && req.groupInstanceId === null;
    if (group === undefined) {
      // Kafka creates the group for a generation -1 commit, then validates the member against it. A commit with a
      // generation to a group that does not exist: GROUP_ID_NOT_FOUND from v9 on, ILLEGAL_GENERATION before.
      if (req.generationId >= 0) {
        return (req.apiVersion ?? 0) >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
      }
      return simple ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (!simple) {
      const invalid = validateCurrentMember(group, req.memberId, req.groupInstanceId);
      if (invalid !== null) return invalid;
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is('Empty')) {
      // When the group has members, only members may commit.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * Commits to a KIP-848 consumer group (Kafka's ConsumerGroup.validateOffsetCommit): epoch -1 (admin tools,
   * standalone consumers) only while the group has no members; otherwise a member whose epoch is its current one
   * (FENCED_MEMBER_EPOCH above, STALE_MEMBER_EPOCH below), over OffsetCommit v9+ (older versions cannot carry a
   * member epoch: UNSUPPORTED_VERSION).
   */
  private validateConsumerGroupCommit(group: ConsumerGroup, req: CommitValidation): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (req.generationId < 0 && group.size === 0) return ErrorCode.NONE;
    const member = group.get(req.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (req.apiVersion !== undefined && req.apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    return ConsumerMembership.epochError(member, req.generationId);
  }

  /** OffsetCommit: validate, then store; one result per requested partition, in request order. */
  async commit(req: OffsetCommitRequest, now = this.ctx.scheduler.now()): Promise<PartitionError[]> {
    const code = this.validateCommit(req);
    if (code !== ErrorCode.NONE)
      return req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode: code }));
    let group = this.ctx.groups.get(req.groupId);
    if (group === undefined) {
      group = new ClassicGroup(req.groupId, 'Empty', now);
      this.ctx.groups.set(req.groupId, group);
    }
    const member = group instanceof ClassicGroup ? group.get(req.memberId) : undefined;
    if (
      group instanceof ClassicGroup &&
      member !== undefined &&
      (group.is('Stable') || group.is('PreparingRebalance'))
    ) {
      // A commit proves the member alive (Kafka resets its session here).
      this.membership.scheduleSessionExpiry(group, member);
    }
    return this.store(group, req.offsets, now);
  }

  /**
   * Stores offsets for an existing or new group without membership checks (for callers that validated already:
   * admin offset changes, transactional commits). Results in request order.
   */
  async commitOffsets(groupId: string, offsets: readonly OffsetCommitEntry[], now = this.ctx.scheduler.now()) {
    let group = this.ctx.groups.get(groupId);
    if (group === undefined) {
      group = new ClassicGroup(groupId, 'Empty', now);
      this.ctx.groups.set(groupId, group);
    }
    return this.store(group, offsets, now);
  }

  private async store(group: AnyGroup, offsets: readonly OffsetCommitEntry[], now: number) {
    const max = this.ctx.config.offsetMetadataMaxBytes;
    const results: PartitionError[] = offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      errorCode: o.metadata !== null && o.metadata.length > max ? ErrorCode.OFFSET_METADATA_TOO_LARGE : ErrorCode.NONE,
    }));
    const accepted = offsets.filter((_, i) => results[i]!.errorCode === ErrorCode.NONE);
    if (accepted.length === 0) return results;
    const records: StoredOffset[] = accepted.map((o) => {
      const commitTimestamp = o.commitTimestamp === undefined || o.commitTimestamp < 0 ? now : o.commitTimestamp;
      return {
        topic: o.topic,
        partition: o.partition,
        value: {
          offset: o.offset,
          leaderEpoch: o.leaderEpoch,
          metadata: o.metadata ?? '',
          commitTimestamp: BigInt(commitTimestamp),
          expireTimestamp: BigInt(o.expireTimestamp ?? -1),
        },
      };
    });
    for (const r of records) group.offsets.beginPending(r.topic, r.partition);
    let write: Promise<void>;
    try {
      write = this.ctx.persistence.storeOffsets(group.groupId, records);
    } catch (e) {
      write = Promise.reject(e);
    }
    const outcome = write.then(
      () => ErrorCode.NONE as number,
      (e: unknown) => {
        this.ctx.log.warn(`group ${group.groupId}: storing offsets failed: ${String(e)}`);
        return storeErrorCode(e, 'offsets');
      },
    );
    const previous = this.tails.get(group);
    const applied = (previous === undefined ? outcome : Promise.all([outcome, previous]).then(([c]) => c)).then(
      (code) => {
        for (const r of records) group.offsets.endPending(r.topic, r.partition);
        const live = this.ctx.groups.get(group.groupId) === group && !group.is('Dead');
        if (code === ErrorCode.NONE && live) {
          for (const r of records) {
            group.offsets.set(r.topic, r.partition, {
              offset: r.value.offset,
              leaderEpoch: r.value.leaderEpoch,
              metadata: r.value.metadata,
              commitTimestamp: Number(r.value.commitTimestamp),
              expireTimestamp: r.value.expireTimestamp < 0n ? null : Number(r.value.expireTimestamp),
            });
          }
        }
        return code;
      },
    );
    this.tails.set(group, applied);
    const code = await applied;
    if (this.tails.get(group) === applied) this.tails.delete(group);
    if (code !== ErrorCode.NONE) {
      for (const r of results) if (r.errorCode === ErrorCode.NONE) r.errorCode = code;
    }
    return results;
  }

  /**
   * OffsetFetch for one group: the requested partitions (null: every committed one). Partitions without a commit
   * answer offset -1; with `requireStable` (v7+) a partition with a commit in flight answers UNSTABLE_OFFSET_COMMIT.
   */
  fetch(groupId: string, partitions: readonly TopicPartition[] | null, requireStable = false): FetchedOffset[] {
    const group = this.ctx.groups.get(groupId);
    const none = (tp: TopicPartition, errorCode: number = ErrorCode.NONE): FetchedOffset => ({
      topic: tp.topic,
      partition: tp.partition,
      offset: -1n,
      leaderEpoch: -1,
      metadata: '',
      errorCode,
    });
    if (group === undefined || group.is('Dead')) return (partitions ?? []).map((tp) => none(tp));
    const wanted = partitions ?? [...group.offsets.entries()].map(([tp]) => tp);
    return wanted.map((tp) => {
      if (requireStable && group.offsets.isPending(tp.topic, tp.partition)) {
        return none(tp, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      }
      const o = group.offsets.get(tp.topic, tp.partition);
      if (o === undefined) return none(tp);
      return {
        topic: tp.topic,
        partition: tp.partition,
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        errorCode: ErrorCode.NONE,
      };
    });
  }

  /**
   * OffsetFetch v9+ from a member of a KIP-848 group (Kafka's ConsumerGroup.validateOffsetFetch): it must be a member
   * at its current epoch (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH). Requests without a member (epoch < 0, no member
   * id: admin tools) and requests to classic groups are not checked.
   */
  validateFetch(groupId: string, memberId: string | null, memberEpoch: number): number {
    const group = this.ctx.groups.get(groupId);
    if (!(group instanceof ConsumerGroup)) return ErrorCode.NONE;
    if (memberEpoch < 0 && (memberId === null || memberId === '')) return ErrorCode.NONE;
    const member = memberId === null ? undefined : group.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    return memberEpoch === member.memberEpoch ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH;
  }

  /** OffsetDelete (KIP-496). */
  async deleteOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<OffsetDeleteResult> {
    const group = this.ctx.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let eligible: (tp: TopicPartition) => boolean;
    if (group.is('Empty')) eligible = () => true;
    else if (group.protocolType === CONSUMER_PROTOCOL_TYPE) eligible = (tp) => !group.isSubscribedToTopic(tp.topic);
    else return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    const results: PartitionError[] = [];
    const removed: TopicPartition[] = [];
    for (const tp of partitions) {
      if (!eligible(tp)) {
        results.push({ ...tp, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC });
        continue;
      }
      if (group.offsets.delete(tp.topic, tp.partition)) removed.push({ topic: tp.topic, partition: tp.partition });
      results.push({ topic: tp.topic, partition: tp.partition, errorCode: ErrorCode.NONE });
    }
    await this.cleanup(group, removed);
    return { errorCode: ErrorCode.NONE, partitions: results };
  }

  /**
   * Expires offsets past their retention in every group, then removes Empty groups left without offsets. Returns
   * the number of offsets removed.
   */
  async expire(now = this.ctx.scheduler.now(), retentionMs = this.ctx.config.offsetsRetentionMs): Promise<number> {
    let count = 0;
    const writes: Promise<void>[] = [];
    for (const group of [...this.ctx.groups.values()]) {
      const expired = expiredOffsets(group.offsets, group, now, retentionMs);
      for (const tp of expired) group.offsets.delete(tp.topic, tp.partition);
      count += expired.length;
      writes.push(this.cleanup(group, expired));
    }
    await Promise.all(writes);
    return count;
  }

  /** Writes tombstones for `removed`, and retires the group if it is Empty with nothing left. */
  async cleanup(group: AnyGroup, removed: readonly TopicPartition[]): Promise<void> {
    const dead = group.is('Empty') && !group.offsets.hasOffsets && group.numPending === 0;
    if (dead) {
      group.transitionTo('Dead', this.ctx.scheduler.now());
      if (this.ctx.groups.get(group.groupId) === group) this.ctx.groups.delete(group.groupId);
      this.ctx.timers.clearGroup(group.groupId);
      this.ctx.log.info(`group ${group.groupId}: removed (empty, no offsets)`);
    }
    await this.writeTombstones(group, removed, dead);
  }

  /**
   * Offset tombstones, then, when `groupToo`, the group's own tombstones (its GroupMetadata record, or every record
   * of a KIP-848 group); failures are logged (as Kafka does).
   */
  async writeTombstones(group: AnyGroup, removed: readonly TopicPartition[], groupToo: boolean): Promise<void> {
    const { persistence, log } = this.ctx;
    const groupId = group.groupId;
    try {
      if (removed.length > 0) await persistence.removeOffsets(groupId, removed);
      if (groupToo && group instanceof ConsumerGroup) await persistConsumerGroup(this.ctx, group, true);
      else if (groupToo) await persistence.storeGroup(groupId, null);
    } catch (e) {
      log.warn(`group ${groupId}: writing tombstones failed: ${String(e)}`);
    }
  }
}
