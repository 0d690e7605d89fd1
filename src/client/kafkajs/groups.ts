/**
 * Group answers in KafkaJS's shapes, shared by `consumer.describeGroup()` and the admin's `describeGroups`:
 * members with their raw metadata and assignment bytes, and a group the coordinator does not know answered as
 * KafkaJS shows it (state 'Dead', no members) rather than as an error.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { Admin as SamsaAdmin } from '../admin/admin.js';
import { KafkaAdminError } from '../admin/errors.js';
import type { GroupDescription as SamsaGroupDescription } from '../admin/types.js';
import type { GroupDescription } from './types.js';

function fromSamsa(g: SamsaGroupDescription): GroupDescription {
  return {
    errorCode: 0,
    groupId: g.groupId,
    state: g.state as GroupDescription['state'],
    protocolType: g.protocolType,
    protocol: g.protocol,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: m.memberMetadata,
      memberAssignment: m.memberAssignment,
    })),
  };
}

const dead = (groupId: string): GroupDescription => ({
  errorCode: 0,
  groupId,
  state: 'Dead',
  protocolType: '',
  protocol: '',
  members: [],
});

const notFound = (e: Error): boolean => e instanceof KafkaError && e.code === ErrorCode.GROUP_ID_NOT_FOUND;

/** The groups in the order asked; other per-group errors are thrown. */
export async function describeGroupsKafkaJS(
  admin: SamsaAdmin,
  groupIds: readonly string[],
): Promise<GroupDescription[]> {
  let described: SamsaGroupDescription[];
  try {
    described = await admin.describeGroups(groupIds);
  } catch (e) {
    if (!(e instanceof KafkaAdminError)) throw e;
    const failures = e.failures as { item: string; error: Error }[];
    const other = failures.find((f) => !notFound(f.error));
    if (other !== undefined) throw other.error;
    described = e.results as SamsaGroupDescription[];
  }
  const byId = new Map(described.map((g) => [g.groupId, g]));
  return groupIds.map((id) => {
    const g = byId.get(id);
    return g === undefined ? dead(id) : fromSamsa(g);
  });
}
