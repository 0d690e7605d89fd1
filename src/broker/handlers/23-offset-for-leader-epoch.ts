/**
 * OffsetForLeaderEpoch (api key 23), versions 2..4 (Kafka 4 removed v0 and v1). For each partition led here, the
 * largest leader epoch <= the requested one that the log knows and the offset where it ends (the start of the next
 * epoch, or the log end for the current epoch), from the leader-epoch cache; an epoch the log does not know answers
 * -1 / -1 without an error, as in Kafka. Followers use it to find where their log diverges (KIP-101, KIP-279) and
 * consumers to detect truncation after a leader change (KIP-320); both are served the same way, from the leader
 * only. currentLeaderEpoch (v2+, -1 unchecked) fences stale or future callers with FENCED_LEADER_EPOCH /
 * UNKNOWN_LEADER_EPOCH. replicaId (v3+: -2 debug, -1 consumer, else a follower) does not change the answer.
 */
import {
  ErrorCode,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { errorCodeOf, leaderPartition } from './support.js';

type EpochEndOffset = OffsetForLeaderEpochResponseEpochEndOffset;

export default function offsetForLeaderEpochHandler(
  broker: BrokerContext,
): Handler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> {
  return {
    apiKey: 23,
    minVersion: 2,
    maxVersion: 4,
    handle(ctx, request) {
      const topics = request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p): EpochEndOffset => {
          const failed = (errorCode: number): EpochEndOffset => ({
            errorCode,
            partition: p.partition,
            leaderEpoch: -1,
            endOffset: -1n,
          });
          const found = leaderPartition(broker, t.topic, p.partition, p.currentLeaderEpoch);
          if (found.partition === null) return failed(found.errorCode);
          try {
            const end = broker.logs.guard(t.topic, p.partition, (log) => log.endOffsetForEpoch(p.leaderEpoch));
            if (end.endOffset < 0n) return failed(ErrorCode.NONE);
            return {
              errorCode: ErrorCode.NONE,
              partition: p.partition,
              leaderEpoch: end.epoch,
              endOffset: end.endOffset,
            };
          } catch (err) {
            const errorCode = errorCodeOf(err);
            if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR) {
              ctx.logger.error(
                { topic: t.topic, partition: p.partition, err: (err as Error).message },
                'offset for leader epoch failed',
              );
            }
            return failed(errorCode);
          }
        }),
      }));
      return { throttleTimeMs: 0, topics };
    },
  };
}
