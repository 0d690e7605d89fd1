/**
 * SyncGroup (api key 14), versions 0..5. The leader sends every member's assignment; each member's request is
 * parked by the group coordinator until the leader's arrives (or the group rebalances again) and answered with its
 * own assignment. v3+ carries groupInstanceId (KIP-345); v5+ (KIP-559) carries the protocol type and name, which
 * the coordinator checks against the group's (INCONSISTENT_GROUP_PROTOCOL) and echoes back. Before v5 they are
 * neither checked nor sent.
 */
import type { SyncGroupRequest, SyncGroupResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function syncGroupHandler(broker: BrokerContext): Handler<SyncGroupRequest, SyncGroupResponse> {
  return {
    apiKey: 14,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const result = await broker.groups.syncGroup({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: v >= 3 ? request.groupInstanceId : null,
        protocolType: v >= 5 ? request.protocolType : null,
        protocolName: v >= 5 ? request.protocolName : null,
        assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      });
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        protocolType: v >= 5 ? result.protocolType : null,
        protocolName: v >= 5 ? result.protocolName : null,
        assignment: result.assignment,
      };
    },
  };
}
