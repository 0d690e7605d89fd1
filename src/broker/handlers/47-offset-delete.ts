/**
 * OffsetDelete (api key 47), version 0 (KIP-496). Removes committed offsets of a group: allowed for an Empty group,
 * and for a consumer group only on topics none of its members subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise);
 * a group that does not exist is GROUP_ID_NOT_FOUND, a non-consumer group with members NON_EMPTY_GROUP (group-level
 * errors, with no partitions). A partition of a topic this cluster does not have answers
 * UNKNOWN_TOPIC_OR_PARTITION, as in Kafka, which checks its metadata before asking the coordinator.
 */

import type { TopicPartition } from '../../coordinator/group/index.js';
import {
  ErrorCode,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
  type OffsetDeleteResponseOffsetDeleteResponseTopic,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

export default function offsetDeleteHandler(broker: BrokerContext): Handler<OffsetDeleteRequest, OffsetDeleteResponse> {
  function exists(topic: string, partition: number): boolean {
    const info = broker.metadata.topic(topic);
    return info !== undefined && partition >= 0 && partition < info.partitions.length;
  }

  return {
    apiKey: 47,
    minVersion: 0,
    maxVersion: 0,
    async handle(_ctx, request) {
      const wanted: TopicPartition[] = [];
      const unknown: TopicPartition[] = [];
      for (const t of request.topics) {
        for (const p of t.partitions) {
          const tp = { topic: t.name, partition: p.partitionIndex };
          (exists(t.name, p.partitionIndex) ? wanted : unknown).push(tp);
        }
      }
      const result = await broker.groups.deleteOffsets(request.groupId, wanted);
      if (result.errorCode !== ErrorCode.NONE) {
        return { errorCode: result.errorCode, throttleTimeMs: 0, topics: [] };
      }
      const topics = new Map<string, OffsetDeleteResponseOffsetDeleteResponseTopic>();
      const add = (topic: string, partitionIndex: number, errorCode: number) => {
        let t = topics.get(topic);
        if (t === undefined) {
          t = { name: topic, partitions: [] };
          topics.set(topic, t);
        }
        t.partitions.push({ partitionIndex, errorCode });
      };
      for (const tp of unknown) add(tp.topic, tp.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      for (const r of result.partitions) add(r.topic, r.partition, r.errorCode);
      return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: [...topics.values()] };
    },
  };
}
