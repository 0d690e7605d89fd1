/**
 * DescribeGroups (api key 15), versions 0..5. Per group: state, protocol type, the chosen protocol (Stable groups
 * only) and each member with its client id, host, and, in the Stable state, its metadata for the chosen protocol
 * and its assignment (the consumer protocol's bytes, which tools decode). A group that does not exist is described
 * as Dead with no error (Kafka answers GROUP_ID_NOT_FOUND only from v6). v3+ (KIP-430) answer the authorized
 * operations when asked: all of them, as there is no authorizer; v4+ carry members' groupInstanceId (KIP-345).
 */
import type { DescribeGroupsRequest, DescribeGroupsResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { AUTHORIZED_OPERATIONS_OMITTED } from './support.js';

/** READ, DELETE, DESCRIBE (AclOperation codes): every operation that applies to a group, as bits. */
const ALL_GROUP_OPERATIONS = [3, 6, 8].reduce((bits, op) => bits | (1 << op), 0);

export default function describeGroupsHandler(
  broker: BrokerContext,
): Handler<DescribeGroupsRequest, DescribeGroupsResponse> {
  return {
    apiKey: 15,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const withOperations = v >= 3 && request.includeAuthorizedOperations;
      const groups = await broker.groups.describeGroups(request.groups);
      return {
        throttleTimeMs: 0,
        groups: groups.map((g) => ({
          errorCode: g.errorCode,
          groupId: g.groupId,
          groupState: g.groupState,
          protocolType: g.protocolType,
          protocolData: g.protocolData,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: v >= 4 ? m.groupInstanceId : null,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.memberMetadata,
            memberAssignment: m.memberAssignment,
          })),
          authorizedOperations: withOperations ? ALL_GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
        })),
      };
    },
  };
}
