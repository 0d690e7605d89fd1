/**
 * Rebuilding a KIP-848 group from its `__consumer_offsets` records at startup: the last value of each record key
 * (tombstones delete) is folded into a snapshot, and the snapshot becomes a ConsumerGroup with its epochs, members
 * (metadata plus current assignment), targets and offsets. Members then have one session timeout to heartbeat,
 * as after a coordinator fail-over in Kafka.
 *
 * Records come from disk and are checked rather than trusted: a member without its metadata record is dropped, a
 * member without a current-assignment record starts from nothing at epoch 0 (it is fenced on its next heartbeat
 * and rejoins), and a partition claimed by two members stays with the first.
 *
 * Concurrency: pure functions building new objects.
 */

import { OffsetTable } from '../offsets.js';
import type { StoredOffset } from '../types.js';
import { type Assignment, EMPTY_ASSIGNMENT, filterAssignment, hasPartition, union } from './assignment.js';
import { ConsumerGroup } from './consumer-group.js';
import { type ConsumerMember, newMember } from './member.js';
import type { ConsumerGroupRecord, CurrentAssignmentValue, MemberMetadataValue } from './records.js';

export interface ConsumerGroupSnapshot {
  /** undefined: no record; null: tombstoned (the group was deleted). */
  epoch: number | null | undefined;
  assignmentEpoch: number;
  members: Map<string, MemberMetadataValue>;
  targets: Map<string, Assignment>;
  current: Map<string, CurrentAssignmentValue>;
}

export function emptySnapshot(): ConsumerGroupSnapshot {
  return { epoch: undefined, assignmentEpoch: 0, members: new Map(), targets: new Map(), current: new Map() };
}

/** Folds one record into the snapshot (later records win). */
export function applyConsumerGroupRecord(s: ConsumerGroupSnapshot, r: ConsumerGroupRecord): void {
  switch (r.type) {
    case 'group':
      s.epoch = r.value === null ? null : r.value.epoch;
      break;
    case 'targetEpoch':
      s.assignmentEpoch = r.value === null ? 0 : r.value.assignmentEpoch;
      break;
    case 'member':
      if (r.value === null) s.members.delete(r.memberId);
      else s.members.set(r.memberId, r.value);
      break;
    case 'target':
      if (r.value === null) s.targets.delete(r.memberId);
      else s.targets.set(r.memberId, r.value);
      break;
    case 'current':
      if (r.value === null) s.current.delete(r.memberId);
      else s.current.set(r.memberId, r.value);
      break;
  }
}

/** Whether the snapshot holds a live group (its epoch record is there and not tombstoned). */
export function isLiveSnapshot(s: ConsumerGroupSnapshot): boolean {
  return typeof s.epoch === 'number';
}

export function restoreConsumerGroup(
  groupId: string,
  s: ConsumerGroupSnapshot,
  offsets: readonly StoredOffset[],
  defaultAssignor: string,
  now: number,
): ConsumerGroup {
  const table = new OffsetTable();
  for (const o of offsets) {
    table.set(o.topic, o.partition, {
      offset: o.value.offset,
      leaderEpoch: o.value.leaderEpoch,
      metadata: o.value.metadata,
      commitTimestamp: Number(o.value.commitTimestamp),
      expireTimestamp: o.value.expireTimestamp < 0n ? null : Number(o.value.expireTimestamp),
    });
  }
  const group = new ConsumerGroup(groupId, defaultAssignor, now, table);
  group.groupEpoch = s.epoch ?? 0;
  let claimed: Assignment = EMPTY_ASSIGNMENT;
  const targets = new Map<string, Assignment>();
  for (const [memberId, meta] of s.members) {
    const current = s.current.get(memberId);
    let member: ConsumerMember = newMember({ memberId, ...meta });
    if (current !== undefined) {
      const unclaimed = (a: Assignment) => filterAssignment(a, (t, p) => !hasPartition(claimed, t, p));
      member = {
        ...member,
        memberEpoch: current.memberEpoch,
        previousMemberEpoch: current.previousMemberEpoch,
        state: current.state,
        assigned: unclaimed(current.assigned),
        pendingRevocation: unclaimed(current.pendingRevocation),
      };
      claimed = union(claimed, union(member.assigned, member.pendingRevocation));
    }
    group.put(member);
    targets.set(memberId, s.targets.get(memberId) ?? EMPTY_ASSIGNMENT);
  }
  group.setTargets(Math.min(s.assignmentEpoch, group.groupEpoch), targets);
  return group;
}
