/**
 * DeleteRecords (api key 21), versions 0..2. Per partition led here, moves the log start offset up to the requested
 * offset (-1: the high watermark) and drops the segments wholly below it; the answer's lowWatermark is the new log
 * start offset. An offset above the high watermark, or negative other than -1, is OFFSET_OUT_OF_RANGE; a topic whose
 * cleanup.policy lacks "delete" is POLICY_VIOLATION and an internal topic INVALID_TOPIC_EXCEPTION, as in Kafka.
 * Partitions not led here are NOT_LEADER_OR_FOLLOWER (UNKNOWN_TOPIC_OR_PARTITION when they do not exist) and a
 * failing disk is KAFKA_STORAGE_ERROR. The answer is immediate: in Kafka it waits (up to the timeout) until every
 * replica's log start offset has moved, which needs replication; until then only the leader's counts.
 */
import { isInternalTopic } from '../../metadata/topic-name.js';
import {
  type DeleteRecordsRequest,
  type DeleteRecordsResponse,
  type DeleteRecordsResponseDeleteRecordsPartitionResult,
  ErrorCode,
  KafkaError,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';
import { errorCodeOf, leaderPartition } from './support.js';

/** DeleteRecordsRequest.HIGH_WATERMARK */
const HIGH_WATERMARK = -1n;

type PartitionResult = DeleteRecordsResponseDeleteRecordsPartitionResult;

export default function deleteRecordsHandler(
  broker: BrokerContext,
): Handler<DeleteRecordsRequest, DeleteRecordsResponse> {
  function deleteOne(topic: string, index: number, offset: bigint): PartitionResult {
    const failed = (errorCode: number): PartitionResult => ({ partitionIndex: index, lowWatermark: -1n, errorCode });
    if (isInternalTopic(topic)) return failed(ErrorCode.INVALID_TOPIC_EXCEPTION);
    const found = leaderPartition(broker, topic, index);
    if (found.partition === null) return failed(found.errorCode);
    const info = broker.metadata.topic(topic)!;
    if (!broker.settingsOf(info).cleanupPolicy.includes('delete')) return failed(ErrorCode.POLICY_VIOLATION);
    const lowWatermark = broker.logs.guard(topic, index, (log) => {
      const target = offset === HIGH_WATERMARK ? log.highWatermark : offset;
      if (target < 0n) {
        throw new KafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `The offset ${target} for partition ${topic}-${index} is not valid`,
        );
      }
      return log.deleteRecordsBefore(target);
    });
    return { partitionIndex: index, lowWatermark, errorCode: ErrorCode.NONE };
  }

  return {
    apiKey: 21,
    minVersion: 0,
    maxVersion: 2,
    handle(ctx, request) {
      const topics = request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p): PartitionResult => {
          try {
            const result = deleteOne(t.name, p.partitionIndex, p.offset);
            if (result.errorCode === ErrorCode.NONE) {
              ctx.logger.info(
                {
                  topic: t.name,
                  partition: p.partitionIndex,
                  logStartOffset: result.lowWatermark,
                  client: ctx.clientId,
                },
                'records deleted',
              );
            }
            return result;
          } catch (err) {
            const errorCode = errorCodeOf(err);
            const log = errorCode === ErrorCode.UNKNOWN_SERVER_ERROR ? ctx.logger.error : ctx.logger.debug;
            log.call(
              ctx.logger,
              { topic: t.name, partition: p.partitionIndex, err: (err as Error).message },
              'delete records failed',
            );
            return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode };
          }
        }),
      }));
      return { throttleTimeMs: 0, topics };
    },
  };
}
