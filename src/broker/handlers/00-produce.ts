/**
 * Produce (api key 0), versions 3..11: record batch v2 only (Kafka 4 removed v0..2 and the old message formats,
 * though it still advertises v0 for librdkafka's sake, and so do we).
 * Per partition: find the partition led here, validate the batch (record-validator.ts), append it with offsets
 * assigned by rewriting the batch header in place, move the high watermark, and wake waiting fetches.
 *   acks=0  no response; any failure closes the connection, which is how Kafka tells such a producer.
 *   acks=1  answer after the local append (and its fsync when samsa.flush.before.ack is set).
 *   acks=-1 refused with NOT_ENOUGH_REPLICAS when the ISR is smaller than min.insync.replicas; otherwise answer
 *           when the high watermark covers the batch, NOT_LEADER_OR_FOLLOWER when this broker stops leading the
 *           partition (or a new leader epoch starts) first, or REQUEST_TIMED_OUT after the request's timeout.
 * Other acks values are INVALID_REQUIRED_ACKS. Transactional produce arrives with the transaction coordinator.
 *
 * Idempotent producers (batches with a producer id, KIP-98): the partition log checks epoch and sequence against its
 * producer state before appending (storage/producer-state.ts). A retry of one of the producer's last 5 batches is
 * not appended again and is answered with NONE and the original base offset (and, for acks=-1, once that is
 * replicated), as Kafka does; a stale epoch is INVALID_PRODUCER_EPOCH and a sequence gap OUT_OF_ORDER_SEQUENCE_NUMBER,
 * leaving the state as it was. Partitions of one request, and requests pipelined on one connection, are appended in
 * the order they arrive: each append (check included) is one synchronous step.
 */
import {
  ErrorCode,
  KafkaError,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
  type ProduceResponseTopicProduceResponse,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import { validateProducedRecords } from '../record-validator.js';
import type { Partition } from '../replica/partition.js';
import type { Handler } from './registry.js';
import { errorCodeOf, leaderPartition } from './support.js';

export const PRODUCE_MIN_VERSION = 3;
export const PRODUCE_MAX_VERSION = 11;

type PartitionResponse = ProduceResponsePartitionProduceResponse;

function partitionResponse(index: number, errorCode: number, errorMessage: string | null = null): PartitionResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

/** An acks=-1 append waiting until the high watermark passes `endOffset`. */
interface Pending {
  partition: Partition;
  /** The leader epoch it was appended in: only that term's high watermark acknowledges it. */
  leaderEpoch: number;
  endOffset: bigint;
  response: PartitionResponse;
}

/**
 * Whether a waiting acks=-1 append is settled: acknowledged (the high watermark passed it) or failed. A broker that
 * stopped leading the partition (or leads it in a later term) fails it with NOT_LEADER_OR_FOLLOWER, as Kafka does:
 * as a follower it may truncate the batch and then see the high watermark pass its offsets with another leader's
 * records, which must not acknowledge it.
 */
function settled(p: Pending): boolean {
  if (p.response.errorCode !== ErrorCode.NONE) return true;
  if (!p.partition.isLeader || p.partition.leaderEpoch !== p.leaderEpoch) {
    p.response.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    p.response.baseOffset = -1n;
    p.response.logAppendTimeMs = -1n;
    p.response.logStartOffset = -1n;
    return true;
  }
  return p.partition.highWatermark >= p.endOffset;
}

export default function produceHandler(broker: BrokerContext): Handler<ProduceRequest, ProduceResponse> {
  return {
    apiKey: 0,
    minVersion: PRODUCE_MIN_VERSION,
    maxVersion: PRODUCE_MAX_VERSION,
    // As Kafka 4 does (KAFKA-18659): librdkafka enables gzip, snappy and lz4 only when Produce v0 is listed, and
    // otherwise silently sends those batches uncompressed. Requests below v3 are still refused.
    advertisedMinVersion: 0,
    handle(ctx, request) {
      const { acks } = request;
      const now = Date.now();
      const responses: ProduceResponseTopicProduceResponse[] = [];
      const flushes: Promise<void>[] = [];
      let pending: Pending[] | null = null;
      let failure: string | null = null;

      for (const topic of request.topicData) {
        const partitionResponses: PartitionResponse[] = [];
        responses.push({ name: topic.name, partitionResponses });
        for (const pd of topic.partitionData) {
          if (acks !== 0 && acks !== 1 && acks !== -1) {
            partitionResponses.push(partitionResponse(pd.index, ErrorCode.INVALID_REQUIRED_ACKS));
            continue;
          }
          const where = `${topic.name}-${pd.index}`;
          const found = leaderPartition(broker, topic.name, pd.index);
          if (found.partition === null) {
            partitionResponses.push(partitionResponse(pd.index, found.errorCode));
            failure ??= `${where}: error ${found.errorCode}`;
            continue;
          }
          const partition = found.partition;
          try {
            const info = broker.metadata.topic(topic.name)!;
            const settings = broker.settingsOf(info);
            if (acks === -1 && partition.isr.length < settings.minInsyncReplicas) {
              throw new KafkaError(
                ErrorCode.NOT_ENOUGH_REPLICAS,
                `The size of the current ISR ${partition.isr.length} is insufficient to satisfy the min.isr requirement of ${settings.minInsyncReplicas} for partition ${where}`,
              );
            }
            if (pd.records === null || pd.records.length === 0) {
              throw new KafkaError(ErrorCode.INVALID_RECORD, `Produce request for ${where} carries no records`);
            }
            const { records } = validateProducedRecords(pd.records, settings, ctx.apiVersion, now, where);
            const result = partition.appendAsLeader(records, now);
            if (result.duplicate === true) {
              ctx.logger.debug(
                { topic: topic.name, partition: pd.index, baseOffset: String(result.firstOffset) },
                'duplicate batch of an idempotent producer: answered with its original offsets',
              );
            } else {
              broker.replicas.dataChanged(partition);
            }
            const response: PartitionResponse = {
              ...partitionResponse(pd.index, ErrorCode.NONE),
              baseOffset: result.firstOffset,
              logAppendTimeMs: result.logAppendTime,
              logStartOffset: result.logStartOffset,
            };
            partitionResponses.push(response);
            if (settings.flushBeforeAck) flushes.push(partition.log.flush());
            if (acks === -1 && partition.highWatermark <= result.lastOffset) {
              pending ??= [];
              pending.push({
                partition,
                leaderEpoch: partition.leaderEpoch,
                endOffset: result.lastOffset + 1n,
                response,
              });
            }
          } catch (err) {
            const code = errorCodeOf(err);
            if (code === ErrorCode.UNKNOWN_SERVER_ERROR) {
              ctx.logger.error(
                { topic: topic.name, partition: pd.index, err: (err as Error).message },
                'produce failed',
              );
            } else {
              ctx.logger.debug(
                { topic: topic.name, partition: pd.index, err: (err as Error).message },
                'produce refused',
              );
            }
            partitionResponses.push(partitionResponse(pd.index, code, err instanceof KafkaError ? err.message : null));
            failure ??= `${where}: ${(err as Error).message}`;
          }
        }
      }

      if (acks === 0) {
        // No response to carry the error: Kafka closes the connection so the producer notices and refreshes metadata.
        if (failure !== null) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `acks=0 produce failed: ${failure}`);
        return null;
      }
      const body: ProduceResponse = { responses, throttleTimeMs: 0, nodeEndpoints: [] };
      if (flushes.length === 0 && pending === null) return body;
      return finish(broker, body, flushes, pending, request.timeoutMs);
    },
  };
}

/** Waits for the fsyncs (flush-before-ack) and for the high watermark of acks=-1 appends, then answers. */
async function finish(
  broker: BrokerContext,
  body: ProduceResponse,
  flushes: Promise<void>[],
  pending: Pending[] | null,
  timeoutMs: number,
): Promise<ProduceResponse> {
  const results = await Promise.allSettled(flushes);
  if (results.some((r) => r.status === 'rejected')) {
    // The append is in the page cache but not durable: the producer must not count it as acknowledged.
    for (const t of body.responses) {
      for (const p of t.partitionResponses) {
        if (p.errorCode === ErrorCode.NONE) p.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      }
    }
    return body;
  }
  if (pending === null) return body;
  await new Promise<void>((resolve) => {
    const keys = pending.map((p) => p.partition.key);
    broker.producePurgatory.watch(
      {
        tryComplete: () => {
          let done = true;
          for (const p of pending) if (!settled(p)) done = false;
          if (done) resolve();
          return done;
        },
        onExpire: () => {
          for (const p of pending) if (!settled(p)) p.response.errorCode = ErrorCode.REQUEST_TIMED_OUT;
          resolve();
        },
      },
      keys,
      timeoutMs,
    );
  });
  return body;
}
