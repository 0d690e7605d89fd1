/**
 * Record batches: v2 (magic 2) encode/decode and hot-path validation, reading legacy v0/v1 message sets,
 * CRC-32C/CRC-32, and Kafka's compression codecs.
 */
export {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  CONTROL_BIT,
  CRC_OFFSET,
  CURRENT_MAGIC,
  DELETE_HORIZON_BIT,
  LOG_OVERHEAD,
  lastOffsetOf,
  MAGIC_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
} from './batch-header.js';
export {
  COMPRESSION_NAMES,
  Compression,
  type CompressionCodec,
  type CompressOptions,
  compress,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type DecompressOptions,
  decompress,
  isCompressionCodec,
} from './compression.js';
export { crc32, crc32c, crc32cJs } from './crc32c.js';
export { type DecodeOptions, decodeRecordBatches } from './decode.js';
export { type BytesInput, encodeRecordBatch, type RecordBatchInput, type RecordInput } from './encode.js';
export { scanRecordSet, validateBatch } from './scan.js';
export type { KafkaRecord, RecordBatch, RecordBatchHeader, RecordHeader, ScannedBatch } from './types.js';
