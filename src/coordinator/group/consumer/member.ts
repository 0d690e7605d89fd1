/**
 * One member of a KIP-848 consumer group and the step that moves its current assignment towards its target
 * (Kafka's "current assignment builder"). A member never owns a partition another member has not released yet,
 * and gives up partitions before it is granted new ones:
 *
 * - `stable`: it owns its whole assignment at the group's assignment epoch.
 * - `unrevoked_partitions`: the target took partitions away; it keeps its epoch, is told its reduced assignment and
 *   must confirm (a heartbeat whose owned partitions no longer include them) before it moves on. Until then those
 *   partitions stay owned by it.
 * - `unreleased_partitions`: it reached the new epoch but some target partitions are still owned by members that
 *   have not revoked them; it gets them on a later heartbeat once they are free.
 *
 * Concurrency: pure functions over immutable member records.
 */

import {
  type Assignment,
  EMPTY_ASSIGNMENT,
  filterAssignment,
  intersect,
  overlaps,
  sameAssignment,
  subtract,
  union,
} from './assignment.js';

export type MemberState = 'stable' | 'unrevoked_partitions' | 'unreleased_partitions';

/** Epoch of a static member that left temporarily (KIP-848: it comes back under the same instance id). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;

export interface ConsumerMember {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly serverAssignor: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  /** The partitions the member may use now. */
  readonly assigned: Assignment;
  /** Partitions taken away whose revocation the member has not confirmed yet (still owned by it). */
  readonly pendingRevocation: Assignment;
}

export function newMember(init: {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: readonly string[];
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  rebalanceTimeoutMs: number;
}): ConsumerMember {
  return {
    ...init,
    memberEpoch: 0,
    previousMemberEpoch: 0,
    state: 'stable',
    assigned: EMPTY_ASSIGNMENT,
    pendingRevocation: EMPTY_ASSIGNMENT,
  };
}

/** Everything the member owns: its assignment plus what it has yet to revoke. */
export function ownedBy(member: ConsumerMember): Assignment {
  return union(member.assigned, member.pendingRevocation);
}

/**
 * The member's next state given the group's target for it. `owned` is what the member reported in this heartbeat
 * (null when it did not say); `freeFor(topicId, partition)` tells whether no other member owns the partition.
 */
export function reconcile(
  member: ConsumerMember,
  targetEpoch: number,
  target: Assignment,
  owned: Assignment | null,
  freeFor: (topicId: string, partition: number) => boolean,
): ConsumerMember {
  switch (member.state) {
    case 'unrevoked_partitions':
      // Only the member's own word ends a revocation.
      if (owned === null || overlaps(owned, member.pendingRevocation)) return member;
      return computeNext(member, targetEpoch, target, freeFor);
    case 'unreleased_partitions':
      return computeNext(member, targetEpoch, target, freeFor);
    case 'stable':
      if (member.memberEpoch === targetEpoch && sameAssignment(member.assigned, target)) return member;
      return computeNext(member, targetEpoch, target, freeFor);
  }
}

function computeNext(
  member: ConsumerMember,
  targetEpoch: number,
  target: Assignment,
  freeFor: (topicId: string, partition: number) => boolean,
): ConsumerMember {
  const kept = intersect(member.assigned, target);
  const toRevoke = subtract(member.assigned, target);
  if (toRevoke.size > 0) {
    return {
      ...member,
      state: 'unrevoked_partitions',
      assigned: kept,
      pendingRevocation: toRevoke,
    };
  }
  const granted = union(
    kept,
    filterAssignment(subtract(target, kept), (t, p) => freeFor(t, p)),
  );
  const unreleased = !sameAssignment(granted, target);
  return {
    ...member,
    state: unreleased ? 'unreleased_partitions' : 'stable',
    previousMemberEpoch: member.memberEpoch === targetEpoch ? member.previousMemberEpoch : member.memberEpoch,
    memberEpoch: targetEpoch,
    assigned: granted,
    pendingRevocation: EMPTY_ASSIGNMENT,
  };
}
