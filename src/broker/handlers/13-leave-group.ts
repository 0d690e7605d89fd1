/**
 * LeaveGroup (api key 13), versions 0..5. v0-2 name one member by id and answer with one error code: the group's
 * error, else that member's. v3+ (KIP-345) take a batch of members, each by member id and/or group instance id
 * (an admin removing static members sends only the instance id), and answer the group-level error plus one result
 * per member; v5+ (KIP-800) add a reason per member, for the coordinator's logs. Leaving triggers a rebalance of the
 * remaining members (or empties the group).
 */
import { ErrorCode, type LeaveGroupRequest, type LeaveGroupResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function leaveGroupHandler(broker: BrokerContext): Handler<LeaveGroupRequest, LeaveGroupResponse> {
  return {
    apiKey: 13,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const members =
        v >= 3
          ? request.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              reason: v >= 5 ? m.reason : null,
            }))
          : [{ memberId: request.memberId, groupInstanceId: null, reason: null }];
      const result = await broker.groups.leaveGroup({ groupId: request.groupId, members });
      if (v < 3) {
        const errorCode = result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.members[0]?.errorCode ?? 0);
        return { throttleTimeMs: 0, errorCode, members: [] };
      }
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        members: result.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          errorCode: m.errorCode,
        })),
      };
    },
  };
}
