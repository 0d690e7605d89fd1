/**
 * JoinGroup (api key 11), versions 0..9 (Kafka 4 still serves all of them). Maps the request onto the group
 * coordinator's joinGroup, which parks it until the rebalance round completes:
 * - v0 has no rebalance timeout (the decoded default -1 tells the coordinator to use the session timeout);
 * - v4+ (KIP-394): a new dynamic member with an empty id first gets MEMBER_ID_REQUIRED with its assigned id and
 *   must join again with it;
 * - v5+ (KIP-345): groupInstanceId (static membership), also echoed per member in the leader's member list;
 * - v7+ (KIP-559): the response carries the protocol type; before v7 the protocol name is not nullable, so an error
 *   response sends '' where the coordinator has none;
 * - v8+ (KIP-800): the join reason, for the coordinator's logs;
 * - v9: a static leader rejoining a stable group may be told to skip the assignment (skipAssignment), which only a
 *   v9 response can carry.
 * The member's host is recorded as Kafka prints it ('/' + the remote address), for DescribeGroups.
 */
import type { JoinGroupRequest, JoinGroupResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function joinGroupHandler(broker: BrokerContext): Handler<JoinGroupRequest, JoinGroupResponse> {
  return {
    apiKey: 11,
    minVersion: 0,
    maxVersion: 9,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const result = await broker.groups.joinGroup({
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId: v >= 5 ? request.groupInstanceId : null,
        protocolType: request.protocolType,
        protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: v >= 1 ? request.rebalanceTimeoutMs : -1,
        clientId: ctx.clientId ?? '',
        clientHost: `/${ctx.remoteAddress}`,
        requireKnownMemberId: v >= 4,
        supportSkippingAssignment: v >= 9,
        reason: v >= 8 ? request.reason : null,
      });
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        generationId: result.generationId,
        protocolType: v >= 7 ? result.protocolType : null,
        protocolName: v >= 7 ? result.protocolName : (result.protocolName ?? ''),
        leader: result.leader,
        // Not in the wire format before v9 (and not ignorable there): must stay false.
        skipAssignment: v >= 9 && result.skipAssignment,
        memberId: result.memberId,
        members: result.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: v >= 5 ? m.groupInstanceId : null,
          metadata: m.metadata,
        })),
      };
    },
  };
}
