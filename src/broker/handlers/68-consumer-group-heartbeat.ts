/**
 * ConsumerGroupHeartbeat (api key 68), version 0 (KIP-848). The one request of the new consumer group protocol:
 * members join (epoch 0), heartbeat with their epoch and owned partitions, and leave (-1, or -2 for a static
 * member coming back), and the coordinator answers with the member's epoch and, when it changed, its assignment
 * (computed on the broker by the `uniform` or `range` assignor). Version 1 (subscription regex, client-chosen
 * member ids) is still marked unstable in the spec this broker is built from, so it is not advertised; the
 * coordinator accepts both shapes.
 * Errors: INVALID_REQUEST (with Kafka's messages), UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, FENCED_INSTANCE_ID,
 * UNRELEASED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR, GROUP_MAX_SIZE_REACHED, GROUP_ID_NOT_FOUND (a classic group with
 * members), NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS.
 */
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function consumerGroupHeartbeatHandler(
  broker: BrokerContext,
): Handler<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse> {
  return {
    apiKey: 68,
    minVersion: 0,
    maxVersion: 0,
    async handle(ctx, request) {
      const result = await broker.groups.consumerGroupHeartbeat({
        groupId: request.groupId,
        memberId: request.memberId,
        memberEpoch: request.memberEpoch,
        instanceId: request.instanceId,
        rackId: request.rackId,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        subscribedTopicNames: request.subscribedTopicNames,
        subscribedTopicRegex: ctx.apiVersion >= 1 ? request.subscribedTopicRegex : null,
        serverAssignor: request.serverAssignor,
        topicPartitions: request.topicPartitions,
        clientId: ctx.clientId ?? '',
        clientHost: `/${ctx.remoteAddress}`,
      });
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        errorMessage: result.errorMessage,
        memberId: result.memberId,
        memberEpoch: result.memberEpoch,
        heartbeatIntervalMs: result.heartbeatIntervalMs,
        assignment: result.assignment === null ? null : { topicPartitions: result.assignment },
      };
    },
  };
}
