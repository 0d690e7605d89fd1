/**
 * Heartbeat (api key 12), versions 0..4. Keeps a member's session alive; the error code is how a member learns of
 * a rebalance (REBALANCE_IN_PROGRESS: rejoin) or that it was fenced (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID for static members, groupInstanceId v3+ per KIP-345).
 */
import type { HeartbeatRequest, HeartbeatResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function heartbeatHandler(broker: BrokerContext): Handler<HeartbeatRequest, HeartbeatResponse> {
  return {
    apiKey: 12,
    minVersion: 0,
    maxVersion: 4,
    async handle(ctx, request) {
      const { errorCode } = await broker.groups.heartbeat({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: ctx.apiVersion >= 3 ? request.groupInstanceId : null,
      });
      return { throttleTimeMs: 0, errorCode };
    },
  };
}
