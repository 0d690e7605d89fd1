/**
 * Rebuilding a group from `__consumer_offsets` at startup or fail-over: its last GroupMetadataValue (if any) and its
 * committed offsets (OffsetCommitValue). Like Kafka's loadGroup, a group with members comes back Stable in its
 * generation with its assignments (members then have one session timeout to heartbeat); one without members comes
 * back Empty; offsets alone make an Empty group without protocol type.
 *
 * Records are input from disk, so they are checked rather than trusted: a record with members but no protocol, or
 * a leader that is not a member, is repaired (members dropped / first member leads) instead of corrupting state.
 *
 * Concurrency: pure function building a new group object.
 */

import type { GroupMetadataValue } from '../../protocol/generated/data/group-metadata-value.js';
import { ClassicGroup } from './group.js';
import { GroupMember } from './member.js';
import type { StoredOffset } from './types.js';

export function restoreGroup(
  groupId: string,
  value: GroupMetadataValue | null,
  offsets: readonly StoredOffset[],
): ClassicGroup {
  const stamp = value === null || value.currentStateTimestamp < 0n ? null : Number(value.currentStateTimestamp);
  const members = value !== null && value.protocol !== null && value.protocol !== '' ? value.members : [];
  const group = new ClassicGroup(groupId, members.length > 0 ? 'Stable' : 'Empty', stamp);
  if (value !== null) {
    group.generationId = value.generation;
    group.protocolType = value.protocolType === '' ? null : value.protocolType;
    group.protocolName = members.length > 0 ? value.protocol : null;
    const protocol = value.protocol ?? '';
    const ids = new Set<string>();
    for (const m of members) {
      if (ids.has(m.memberId)) continue;
      ids.add(m.memberId);
      const member = new GroupMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
        sessionTimeoutMs: m.sessionTimeout,
        protocolType: value.protocolType,
        protocols: [{ name: protocol, metadata: m.subscription }],
      });
      member.assignment = m.assignment;
      group.add(member, null);
    }
    // add() made the first member leader; keep the recorded one when it is a member.
    if (value.leader !== null && group.has(value.leader)) group.leaderId = value.leader;
    group.subscribedTopics = group.computeSubscribedTopics();
  }
  for (const o of offsets) {
    group.offsets.set(o.topic, o.partition, {
      offset: o.value.offset,
      leaderEpoch: o.value.leaderEpoch,
      metadata: o.value.metadata,
      commitTimestamp: Number(o.value.commitTimestamp),
      expireTimestamp: o.value.expireTimestamp < 0n ? null : Number(o.value.expireTimestamp),
    });
  }
  return group;
}
