/**
 * ListPartitionReassignments (api key 46), version 0 (KIP-455): the reassignments in progress, of the partitions
 * named or (null topics) of every partition, with the whole replica set and the replicas being added and removed.
 * Served by the controller (NOT_CONTROLLER elsewhere); partitions that are unknown or not being reassigned are left
 * out, as Kafka does. Single-node mode never has one in progress: the list is empty.
 */
import type { OngoingReassignment } from '../../metadata/reassignment.js';
import {
  ErrorCode,
  type ListPartitionReassignmentsRequest,
  type ListPartitionReassignmentsResponse,
  type ListPartitionReassignmentsResponseOngoingTopicReassignment,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { errorCodeOf } from './support.js';

export default function listPartitionReassignmentsHandler(
  broker: BrokerContext,
): Handler<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse> {
  return {
    apiKey: 46,
    minVersion: 0,
    maxVersion: 0,
    handle(_ctx, request) {
      const control = broker.clusterControl;
      let ongoing: OngoingReassignment[] = [];
      if (control !== null) {
        if (!control.isController()) {
          return failed(ErrorCode.NOT_CONTROLLER, `broker ${broker.nodeId} is not the controller`);
        }
        try {
          ongoing = control.listPartitionReassignments(
            request.topics?.map((t) => ({ topic: t.name, partitions: t.partitionIndexes })) ?? null,
          );
        } catch (err) {
          return failed(errorCodeOf(err), (err as Error).message);
        }
      }
      const byTopic = new Map<string, ListPartitionReassignmentsResponseOngoingTopicReassignment>();
      for (const r of ongoing) {
        let t = byTopic.get(r.topic);
        if (t === undefined) {
          t = { name: r.topic, partitions: [] };
          byTopic.set(r.topic, t);
        }
        t.partitions.push({
          partitionIndex: r.partition,
          replicas: [...r.replicas],
          addingReplicas: [...r.adding],
          removingReplicas: [...r.removing],
        });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [...byTopic.values()] };
    },
  };
}

function failed(errorCode: number, errorMessage: string): ListPartitionReassignmentsResponse {
  return { throttleTimeMs: 0, errorCode, errorMessage, topics: [] };
}
