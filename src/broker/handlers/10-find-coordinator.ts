/**
 * FindCoordinator (api key 10), versions 0..6 (v4+: several keys per request, KIP-699). A group's coordinator is
 * the leader of partition abs(hash(groupId)) % offsets.topic.num.partitions of `__consumer_offsets`; in a cluster
 * of one that is always this node. Transaction coordinators (key type 1) do not exist yet: COORDINATOR_NOT_AVAILABLE.
 *
 * Advertising this API matters beyond groups: librdkafka enables LZ4 only for brokers that list FindCoordinator.
 * The group APIs themselves (JoinGroup, SyncGroup, OffsetCommit...) come with the group coordinator.
 */
import {
  ErrorCode,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type FindCoordinatorResponseCoordinator,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler, RequestContext } from './registry.js';

const GROUP = 0;

export default function findCoordinatorHandler(
  broker: BrokerContext,
): Handler<FindCoordinatorRequest, FindCoordinatorResponse> {
  function coordinator(ctx: RequestContext, key: string, keyType: number): FindCoordinatorResponseCoordinator {
    const self = broker.metadata.broker(broker.nodeId);
    const ep = self?.endpoints.find((e) => e.listener === ctx.listener) ?? self?.endpoints[0];
    if (keyType !== GROUP || ep === undefined) {
      return {
        key,
        nodeId: -1,
        host: '',
        port: -1,
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        errorMessage: 'The coordinator is not available.',
      };
    }
    return { key, nodeId: broker.nodeId, host: ep.host, port: ep.port, errorCode: ErrorCode.NONE, errorMessage: null };
  }

  return {
    apiKey: 10,
    minVersion: 0,
    maxVersion: 6,
    handle(ctx, request) {
      if (ctx.apiVersion >= 4) {
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          errorMessage: null,
          nodeId: 0,
          host: '',
          port: 0,
          coordinators: request.coordinatorKeys.map((k) => coordinator(ctx, k, request.keyType)),
        };
      }
      const c = coordinator(ctx, request.key, ctx.apiVersion >= 1 ? request.keyType : GROUP);
      return {
        throttleTimeMs: 0,
        errorCode: c.errorCode,
        errorMessage: c.errorMessage,
        nodeId: c.nodeId,
        host: c.host,
        port: c.port,
        coordinators: [],
      };
    },
  };
}
