/** The shapes of decoded records and batches. Legacy v0/v1 message sets are presented in the same shape. */

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  /** Absolute offset: the batch's base offset plus the record's offset delta. */
  offset: bigint;
  /**
   * Absolute timestamp in ms: the batch's base timestamp plus the record's delta, or the batch's max timestamp
   * when the batch uses log append time. -1 for magic 0 messages, which have none.
   */
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface RecordBatchHeader {
  baseOffset: bigint;
  /** Bytes after the batchLength field (the whole batch is 12 + batchLength bytes); for v0/v1, message_size. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** CRC-32C of attributes..end for v2; the message's CRC-32 for v0/v1. */
  crc: number;
  attributes: number;
  compression: number;
  /** 0: create time, 1: log append time. */
  timestampType: 0 | 1;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface RecordBatch extends RecordBatchHeader {
  records: KafkaRecord[];
}

/** A batch found by scanRecordSet/validateBatch: its header and where its bytes are. */
export interface ScannedBatch extends RecordBatchHeader {
  /** Byte position of the batch (its baseOffset field) in the scanned buffer. */
  position: number;
  /** Total size of the batch in bytes (12 + batchLength). */
  size: number;
}
