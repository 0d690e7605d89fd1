/**
 * ConsumerGroupDescribe (api key 69), version 0 (KIP-848): per group its state, group and assignment epochs, the
 * assignor, and per member its epoch, subscription, current and target assignment (topic ids with names).
 * A group that does not exist, or is a classic group, answers GROUP_ID_NOT_FOUND; an empty id INVALID_GROUP_ID.
 * Authorized operations are not computed (no ACLs): the field keeps its "not requested" value.
 */
import type { ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function consumerGroupDescribeHandler(
  broker: BrokerContext,
): Handler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse> {
  return {
    apiKey: 69,
    minVersion: 0,
    maxVersion: 0,
    async handle(_ctx, request) {
      const groups = await broker.groups.consumerGroupDescribe(request.groupIds);
      return {
        throttleTimeMs: 0,
        groups: groups.map((g) => ({
          errorCode: g.errorCode,
          errorMessage: g.errorMessage,
          groupId: g.groupId,
          groupState: g.groupState,
          groupEpoch: g.groupEpoch,
          assignmentEpoch: g.assignmentEpoch,
          assignorName: g.assignorName,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            subscribedTopicRegex: m.subscribedTopicRegex,
            assignment: { topicPartitions: m.assignment },
            targetAssignment: { topicPartitions: m.targetAssignment },
          })),
          authorizedOperations: -2147483648,
        })),
      };
    },
  };
}
