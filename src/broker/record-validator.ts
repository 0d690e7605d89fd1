/**
 * Validation of the records a producer sends, before they are appended (Kafka's LogValidator, for magic v2):
 * exactly one batch per partition, structure and CRC-32C, base offset 0, a record count that matches the offset
 * range, no control batches from clients, a sequence number for every batch with a producer id, the topic's `max.message.bytes`, and, only when the topic bounds them,
 * record timestamps (`message.timestamp.before.max.ms` / `after.max.ms`). When the topic's `compression.type` names
 * a codec other than the producer's, the batch is rewritten with it; otherwise the producer's bytes are stored as
 * they are (the hot path decodes no record).
 *
 * Failures are KafkaErrors: CORRUPT_MESSAGE for bytes that are not a valid batch, INVALID_RECORD for a valid batch
 * that breaks a rule, MESSAGE_TOO_LARGE, INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION_TYPE.
 */
import { ProtocolError } from '../protocol/codec/protocol-error.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  COMPRESSION_NAMES,
  decodeRecordBatches,
  encodeRecordBatch,
  type ScannedBatch,
  validateBatch,
} from '../protocol/records/index.js';
import type { TopicSettings } from './config/topic-config.js';

const ZSTD = 4;
/** Produce v7 is the first that may carry zstd (KIP-110). */
const FIRST_ZSTD_PRODUCE_VERSION = 7;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

export interface ValidatedRecords {
  /** The bytes to append: the request's own, or a recompressed batch. */
  records: Buffer;
  batch: ScannedBatch;
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_RECORD, message);
}

export function validateProducedRecords(
  records: Buffer,
  settings: TopicSettings,
  produceVersion: number,
  now: number,
  where: string,
): ValidatedRecords {
  let batch: ScannedBatch;
  try {
    batch = validateBatch(records, 0, records.length);
  } catch (err) {
    if (err instanceof ProtocolError) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${where}: ${err.message}`);
    throw err;
  }
  if (batch.size !== records.length) {
    throw invalid(
      `Produce requests with version ${produceVersion} are only allowed to contain exactly one record batch`,
    );
  }
  if (batch.size > settings.maxMessageBytes) {
    throw new KafkaError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `The record batch of ${batch.size} bytes for ${where} exceeds max.message.bytes (${settings.maxMessageBytes})`,
    );
  }
  if (batch.baseOffset !== 0n) {
    throw invalid(
      `The baseOffset of the record batch in the append to ${where} should be 0, but it is ${batch.baseOffset}`,
    );
  }
  if (batch.recordCount !== batch.lastOffsetDelta + 1) {
    throw invalid(
      `Record count ${batch.recordCount} does not match the last offset delta ${batch.lastOffsetDelta} of the batch for ${where}`,
    );
  }
  if (batch.isControl) throw invalid(`Control records are not allowed from clients (${where})`);
  if (batch.baseSequence < 0 && batch.producerId >= 0n) {
    throw invalid(`Invalid sequence number ${batch.baseSequence} in record batch with producerId ${batch.producerId}`);
  }
  if (batch.compression === ZSTD && produceVersion < FIRST_ZSTD_PRODUCE_VERSION) {
    throw new KafkaError(
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `Produce requests to ${where} with zstd compressed records need version ${FIRST_ZSTD_PRODUCE_VERSION} or later`,
    );
  }
  // The deprecated message.timestamp.difference.max.ms bounds both directions, as it did before KIP-937.
  const beforeMax = Math.min(settings.messageTimestampBeforeMaxMs, settings.messageTimestampDifferenceMaxMs);
  const afterMax = Math.min(settings.messageTimestampAfterMaxMs, settings.messageTimestampDifferenceMaxMs);
  const checkTimes = settings.messageTimestampType === 'CreateTime' && (beforeMax < LONG_MAX || afterMax < LONG_MAX);
  const target = targetCodec(settings.compressionType);
  if (!checkTimes && (target === null || target === batch.compression)) return { records, batch };

  let decoded: ReturnType<typeof decodeRecordBatches>;
  try {
    // Decompressed records may be larger than the batch; bounded so that a compression bomb cannot exhaust memory.
    decoded = decodeRecordBatches(records, {
      verifyCrc: false,
      allowPartialTail: false,
      maxDecompressedBytes: Math.max(64 * 1024 * 1024, settings.maxMessageBytes * 4),
    });
  } catch (err) {
    if (err instanceof ProtocolError) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${where}: ${err.message}`);
    throw err;
  }
  const full = decoded[0]!;
  if (checkTimes) {
    const nowTs = BigInt(now);
    const before = BigInt(beforeMax);
    const after = BigInt(afterMax);
    for (const r of full.records) {
      if (nowTs - r.timestamp > before || r.timestamp - nowTs > after) {
        throw new KafkaError(
          ErrorCode.INVALID_TIMESTAMP,
          `Timestamp ${r.timestamp} of message with offset ${r.offset} is out of range. The timestamp should be within [${nowTs - before}, ${nowTs + after}]`,
        );
      }
    }
  }
  if (target === null || target === batch.compression) return { records, batch };
  const rewritten = encodeRecordBatch({
    baseOffset: 0n,
    compression: target,
    timestampType: full.timestampType,
    isTransactional: full.isTransactional,
    producerId: full.producerId,
    producerEpoch: full.producerEpoch,
    baseSequence: full.baseSequence,
    baseTimestamp: full.baseTimestamp,
    records: full.records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: Number(r.offset - full.baseOffset),
    })),
  });
  return { records: rewritten, batch: validateBatch(rewritten, 0, rewritten.length) };
}

/** The codec id a topic's compression.type forces, or null for 'producer' (keep what the producer chose). */
function targetCodec(type: TopicSettings['compressionType']): number | null {
  if (type === 'producer') return null;
  if (type === 'uncompressed') return 0;
  return COMPRESSION_NAMES.indexOf(type);
}
