/**
 * AlterPartitionReassignments (api key 45), version 0 (KIP-455): moves partitions to other replicas, or (null
 * replicas) cancels a reassignment in progress, served by the controller (NOT_CONTROLLER elsewhere, for the whole
 * request). The answer comes once the new assignments are in ZooKeeper; the move itself then runs in the
 * background (ListPartitionReassignments shows it). Per partition: NONE, UNKNOWN_TOPIC_OR_PARTITION,
 * NO_REASSIGNMENT_IN_PROGRESS (cancelling nothing), INVALID_REPLICA_ASSIGNMENT (empty, duplicate or negative ids,
 * brokers to add that are not alive, or a change that would leave no in-sync leader).
 *
 * Single-node mode answers as Kafka's controller would for a cluster of one: the only valid target is this
 * broker, which every partition already has (NONE, nothing to do); nothing is ever in progress to cancel.
 */
import { invalidTarget, type ReassignmentResult } from '../../metadata/reassignment.js';
import {
  type AlterPartitionReassignmentsRequest,
  type AlterPartitionReassignmentsResponse,
  type AlterPartitionReassignmentsResponseReassignableTopicResponse,
  ErrorCode,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { errorCodeOf } from './support.js';

export default function alterPartitionReassignmentsHandler(
  broker: BrokerContext,
): Handler<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse> {
  return {
    apiKey: 45,
    minVersion: 0,
    maxVersion: 0,
    async handle(_ctx, request) {
      const requests = request.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas })),
      );
      const control = broker.clusterControl;
      let results: ReassignmentResult[];
      if (control === null) {
        const self = new Set([broker.nodeId]);
        results = requests.map(({ topic, partition, replicas }) => {
          const state = partition >= 0 ? broker.metadata.topic(topic)?.partitions[partition] : undefined;
          const answer = (errorCode: number, message: string | null = null): ReassignmentResult => ({
            topic,
            partition,
            errorCode,
            message,
          });
          if (state === undefined)
            return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition} does not exist.`);
          if (replicas === null) return answer(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
          const why = invalidTarget({ replicas: state.replicas, adding: [], removing: [] }, replicas, self);
          return why === null ? answer(ErrorCode.NONE) : answer(ErrorCode.INVALID_REPLICA_ASSIGNMENT, why);
        });
      } else if (!control.isController()) {
        return failed(ErrorCode.NOT_CONTROLLER, `broker ${broker.nodeId} is not the controller`);
      } else {
        try {
          results = await control.alterPartitionReassignments(requests);
        } catch (err) {
          return failed(errorCodeOf(err), (err as Error).message);
        }
      }
      const byTopic = new Map<string, AlterPartitionReassignmentsResponseReassignableTopicResponse>();
      for (const r of results) {
        let t = byTopic.get(r.topic);
        if (t === undefined) {
          t = { name: r.topic, partitions: [] };
          byTopic.set(r.topic, t);
        }
        t.partitions.push({ partitionIndex: r.partition, errorCode: r.errorCode, errorMessage: r.message });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses: [...byTopic.values()] };
    },
  };
}

function failed(errorCode: number, errorMessage: string): AlterPartitionReassignmentsResponse {
  return { throttleTimeMs: 0, errorCode, errorMessage, responses: [] };
}
