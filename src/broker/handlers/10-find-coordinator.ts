/**
 * FindCoordinator (api key 10), versions 0..6 (v4+: several keys per request, KIP-699). A group's coordinator is
 * the leader of partition abs(hash(groupId)) % offsets.topic.num.partitions of `__consumer_offsets`: this node in
 * a cluster of one, any broker in cluster mode (COORDINATOR_NOT_AVAILABLE while that partition has no leader). Transaction coordinators (key type 1) do not exist yet: COORDINATOR_NOT_AVAILABLE.
 *
 * As in Kafka, asking for a group coordinator creates `__consumer_offsets` when it does not exist yet; if that
 * fails the answer is COORDINATOR_NOT_AVAILABLE, which clients retry.
 *
 * Advertising this API matters beyond groups: librdkafka enables LZ4 only for brokers that list FindCoordinator.
 */

import { OFFSETS_TOPIC } from '../../coordinator/group/index.js';
import { groupPartition } from '../../protocol/hash.js';
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
  function unavailable(key: string): FindCoordinatorResponseCoordinator {
    return {
      key,
      nodeId: -1,
      host: '',
      port: -1,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: 'The coordinator is not available.',
    };
  }

  function coordinator(ctx: RequestContext, key: string, keyType: number): FindCoordinatorResponseCoordinator {
    if (keyType !== GROUP) return unavailable(key);
    const offsets = broker.metadata.topic(OFFSETS_TOPIC);
    const leader =
      offsets === undefined || offsets.partitions.length === 0
        ? broker.nodeId
        : offsets.partitions[groupPartition(key, offsets.partitions.length)]!.leader;
    const node = leader < 0 ? undefined : broker.metadata.broker(leader);
    const ep = node?.endpoints.find((e) => e.listener === ctx.listener) ?? node?.endpoints[0];
    if (ep === undefined) return unavailable(key);
    return { key, nodeId: leader, host: ep.host, port: ep.port, errorCode: ErrorCode.NONE, errorMessage: null };
  }

  return {
    apiKey: 10,
    minVersion: 0,
    maxVersion: 6,
    async handle(ctx, request) {
      const keyType = ctx.apiVersion >= 1 ? request.keyType : GROUP;
      let ready = true;
      if (keyType === GROUP) {
        try {
          await broker.ensureOffsetsTopic();
        } catch (err) {
          ready = false;
          ctx.logger.warn({ err: (err as Error).message }, 'cannot create __consumer_offsets');
        }
      }
      const find = (key: string) => (ready ? coordinator(ctx, key, keyType) : unavailable(key));
      if (ctx.apiVersion >= 4) {
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          errorMessage: null,
          nodeId: 0,
          host: '',
          port: 0,
          coordinators: request.coordinatorKeys.map(find),
        };
      }
      const c = find(request.key);
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
