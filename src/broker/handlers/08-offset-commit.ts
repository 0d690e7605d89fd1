/**
 * OffsetCommit (api key 8), versions 2..9 (Kafka 4 removed v0 and v1, KIP-896). Each partition gets its own error
 * code, in request order:
 * - a topic this cluster does not have, or a partition index outside it, gets UNKNOWN_TOPIC_OR_PARTITION and is not
 *   committed (Kafka checks its metadata cache the same way before asking the coordinator);
 * - the rest go to the group coordinator, which checks the generation and member (ILLEGAL_GENERATION,
 *   UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID for static members, v7+ KIP-345; generation -1 with
 *   an empty member id is a standalone commit), the metadata size (OFFSET_METADATA_TOO_LARGE) and stores them in
 *   `__consumer_offsets` before answering.
 * v2-4 carry retentionTimeMs: -1 means the broker's offsets.retention.minutes, anything else sets the offset's
 * expiry to now + retention, as Kafka does. v6+ carry the committed leader epoch (KIP-320; -1 before). v9 is the
 * first version a KIP-848 consumer may send: for a consumer group generationIdOrMemberEpoch is the member epoch
 * (FENCED_MEMBER_EPOCH above the member's, STALE_MEMBER_EPOCH below; members committing with v8 or older get
 * UNSUPPORTED_VERSION); for a classic group it is the generation, checked as in v8.
 */

import type { OffsetCommitEntry } from '../../coordinator/group/index.js';
import {
  ErrorCode,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetCommitResponseOffsetCommitResponseTopic,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

/** OffsetCommitRequest.DEFAULT_RETENTION_TIME: keep the offset for the broker's retention. */
const DEFAULT_RETENTION_TIME = -1n;

export default function offsetCommitHandler(broker: BrokerContext): Handler<OffsetCommitRequest, OffsetCommitResponse> {
  function exists(topic: string, partition: number): boolean {
    const info = broker.metadata.topic(topic);
    return info !== undefined && partition >= 0 && partition < info.partitions.length;
  }

  return {
    apiKey: 8,
    minVersion: 2,
    maxVersion: 9,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const retention = v <= 4 ? request.retentionTimeMs : DEFAULT_RETENTION_TIME;
      const expireTimestamp = retention === DEFAULT_RETENTION_TIME ? null : Date.now() + Number(retention);
      const entries: OffsetCommitEntry[] = [];
      // Checked once, before the await: the answer must match what was (or was not) committed.
      const known = request.topics.map((t) => t.partitions.map((p) => exists(t.name, p.partitionIndex)));
      request.topics.forEach((t, ti) => {
        t.partitions.forEach((p, pi) => {
          if (!known[ti]![pi]) return;
          entries.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
            metadata: p.committedMetadata,
            expireTimestamp,
          });
        });
      });
      // Nothing left to commit: Kafka answers without consulting the coordinator (no group checks either).
      const results =
        entries.length === 0
          ? []
          : await broker.groups.offsetCommit({
              groupId: request.groupId,
              generationId: request.generationIdOrMemberEpoch,
              memberId: request.memberId,
              groupInstanceId: v >= 7 ? request.groupInstanceId : null,
              apiVersion: v,
              offsets: entries,
            });
      // The coordinator answers one result per entry, in order.
      let next = 0;
      const topics: OffsetCommitResponseOffsetCommitResponseTopic[] = request.topics.map((t, ti) => ({
        name: t.name,
        partitions: t.partitions.map((p, pi) => ({
          partitionIndex: p.partitionIndex,
          errorCode: known[ti]![pi]
            ? (results[next++]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR)
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        })),
      }));
      return { throttleTimeMs: 0, topics };
    },
  };
}
