/**
 * OffsetFetch (api key 9), versions 1..9 (Kafka 4 removed v0, which read ZooKeeper, KIP-896). Answers the committed
 * offset, leader epoch (v5+, KIP-320) and metadata of each requested partition:
 * - a partition without a committed offset, of an unknown topic, or of a group that does not exist, answers offset
 *   -1 with no error (Kafka does not check topics here);
 * - v2+ may ask for every committed partition of the group (topics null) and carry a group-level error code
 *   (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS...); v1 has neither, so a group error is repeated on each
 *   partition, as Kafka does;
 * - v7+ requireStable (KIP-447): a partition with a commit still being written answers UNSTABLE_OFFSET_COMMIT;
 * - v8+ (KIP-709) ask for several groups at once, each answered in `groups` with its own error.
 * v9's memberId/memberEpoch belong to KIP-848 consumer groups: a member must fetch at its current epoch
 * (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH as the group's error); requests without a member (admin tools) and
 * requests to classic groups are not checked.
 */

import type { FetchedOffset, TopicPartition } from '../../coordinator/group/index.js';
import {
  ErrorCode,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type OffsetFetchResponseOffsetFetchResponseTopic,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

type TopicsAnswer = OffsetFetchResponseOffsetFetchResponseTopic[];

function partitionsOf(topics: readonly { name: string; partitionIndexes: number[] }[] | null): TopicPartition[] | null {
  return topics === null
    ? null
    : topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
}

/** Fetched offsets grouped by topic, in the order topics first appear. */
function byTopic(offsets: readonly FetchedOffset[], groupError: number): TopicsAnswer {
  const topics = new Map<string, TopicsAnswer[number]>();
  for (const o of offsets) {
    let t = topics.get(o.topic);
    if (t === undefined) {
      t = { name: o.topic, partitions: [] };
      topics.set(o.topic, t);
    }
    t.partitions.push({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: o.leaderEpoch,
      metadata: o.metadata,
      errorCode: o.errorCode !== ErrorCode.NONE ? o.errorCode : groupError,
    });
  }
  return [...topics.values()];
}

/** What each requested partition answers when the whole group failed (v1 has no group-level error code). */
function failedPartitions(partitions: readonly TopicPartition[] | null): FetchedOffset[] {
  return (partitions ?? []).map((tp) => ({ ...tp, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: 0 }));
}

export default function offsetFetchHandler(broker: BrokerContext): Handler<OffsetFetchRequest, OffsetFetchResponse> {
  return {
    apiKey: 9,
    minVersion: 1,
    maxVersion: 9,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const requireStable = v >= 7 && request.requireStable;
      if (v >= 8) {
        const results = await broker.groups.fetchOffsetsForGroups(
          request.groups.map((g) => ({
            groupId: g.groupId,
            partitions: partitionsOf(g.topics),
            member: v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : null,
          })),
          requireStable,
        );
        return {
          throttleTimeMs: 0,
          topics: [],
          errorCode: ErrorCode.NONE,
          groups: results.map((r) => ({ groupId: r.groupId, errorCode: r.errorCode, topics: byTopic(r.offsets, 0) })),
        };
      }
      // v1 cannot send null topics; v2+ may (all committed partitions).
      const partitions = partitionsOf(request.topics);
      const result = await broker.groups.fetchOffsets(request.groupId, partitions, requireStable);
      if (v < 2 && result.errorCode !== ErrorCode.NONE) {
        return {
          throttleTimeMs: 0,
          topics: byTopic(failedPartitions(partitions), result.errorCode),
          errorCode: ErrorCode.NONE,
          groups: [],
        };
      }
      return {
        throttleTimeMs: 0,
        topics: byTopic(result.offsets, ErrorCode.NONE),
        errorCode: v >= 2 ? result.errorCode : ErrorCode.NONE,
        groups: [],
      };
    },
  };
}
