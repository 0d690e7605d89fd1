/**
 * ElectLeaders (api key 43), versions 0..2 (KIP-460): preferred (election type 0) or unclean (1) leader elections,
 * for the partitions named or (null) every partition that needs one, run by the controller (NOT_CONTROLLER
 * elsewhere; in single-node mode every partition is led by its only replica: ELECTION_NOT_NEEDED). Per partition:
 * NONE when elected, ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE (the first replica is down or out of
 * sync), ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION.
 */
import {
  type ElectLeadersRequest,
  type ElectLeadersResponse,
  type ElectLeadersResponseReplicaElectionResult,
  ErrorCode,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { errorCodeOf } from './support.js';

export default function electLeadersHandler(broker: BrokerContext): Handler<ElectLeadersRequest, ElectLeadersResponse> {
  return {
    apiKey: 43,
    minVersion: 0,
    maxVersion: 2,
    async handle(_ctx, request) {
      const named =
        request.topicPartitions === null
          ? null
          : request.topicPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
      const type = request.electionType;
      const control = broker.clusterControl;
      let results: { topic: string; partition: number; errorCode: number; message: string | null }[];
      if (control === null) {
        results = (named ?? []).map(({ topic, partition }) => {
          const known = broker.metadata.topic(topic)?.partitions[partition] !== undefined;
          return known
            ? { topic, partition, errorCode: ErrorCode.ELECTION_NOT_NEEDED, message: null }
            : { topic, partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null };
        });
      } else if (!control.isController()) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, replicaElectionResults: [] };
      } else {
        try {
          results = await control.electLeaders(type, named);
        } catch (err) {
          return { throttleTimeMs: 0, errorCode: errorCodeOf(err), replicaElectionResults: [] };
        }
      }
      const byTopic = new Map<string, ElectLeadersResponseReplicaElectionResult>();
      for (const r of results) {
        let t = byTopic.get(r.topic);
        if (t === undefined) {
          t = { topic: r.topic, partitionResult: [] };
          byTopic.set(r.topic, t);
        }
        t.partitionResult.push({ partitionId: r.partition, errorCode: r.errorCode, errorMessage: r.message });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [...byTopic.values()] };
    },
  };
}
