/**
 * The fixed 61-byte header of a record batch v2 (magic 2): field positions, reading it without touching the
 * records, and the in-place rewrites a broker does (base offset, partition leader epoch; neither is covered by the
 * CRC).
 *
 *   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8 | 17 crc uint32
 *   21 attributes int16 | 23 lastOffsetDelta int32 | 27 baseTimestamp int64 | 35 maxTimestamp int64
 *   43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32 | 57 recordCount int32 | 61 records
 */
import { ProtocolError } from '../codec/protocol-error.js';
import type { RecordBatchHeader } from './types.js';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** baseOffset + batchLength: the part of every batch (and legacy message) that precedes what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** Size of the v2 batch header, the smallest possible batch. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** The smallest valid batchLength of a v2 batch. */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;
/** The smallest possible encoded record: length, attributes, timestamp/offset deltas, key/value lengths, headers. */
export const MIN_RECORD_SIZE = 7;

export const CURRENT_MAGIC = 2;

/** Attribute bits (v2). */
export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_BIT = 0x08;
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;
export const DELETE_HORIZON_BIT = 0x40;

/** Batch-level "none" values of producerId/epoch/sequence and timestamps. */
export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_TIMESTAMP = -1n;
export const NO_PARTITION_LEADER_EPOCH = -1;

/**
 * Reads the 61-byte header of the v2 batch at `pos` without checking its CRC or touching its records. Throws
 * ProtocolError('truncated') when fewer than 61 bytes remain and ProtocolError('corrupt-record') when the magic is
 * not 2 (use decodeRecordBatches for legacy message sets).
 */
export function readBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  if (pos < 0 || buf.length - pos < RECORD_BATCH_OVERHEAD) {
    throw new ProtocolError(
      'truncated',
      `record batch header needs ${RECORD_BATCH_OVERHEAD} bytes at offset ${pos}, ${Math.max(0, buf.length - pos)} remain`,
    );
  }
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) {
    throw new ProtocolError('corrupt-record', `record batch at offset ${pos} has magic ${magic}, expected 2`);
  }
  return headerAt(buf, pos);
}

/** Header fields of the v2 batch at `pos`; the caller has checked that 61 bytes are there and the magic is 2. */
export function headerAt(buf: Buffer, pos: number): RecordBatchHeader {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  return {
    baseOffset: buf.readBigInt64BE(pos),
    batchLength: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: CURRENT_MAGIC,
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes,
    compression: attributes & COMPRESSION_MASK,
    timestampType: attributes & TIMESTAMP_TYPE_BIT ? 1 : 0,
    isTransactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    isControl: (attributes & CONTROL_BIT) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_BIT) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: buf.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT_OFFSET),
  };
}

function checkHeaderRoom(buf: Buffer, batchPos: number, what: string): void {
  if (!Number.isInteger(batchPos) || batchPos < 0 || buf.length - batchPos < RECORD_BATCH_OVERHEAD) {
    throw new ProtocolError('invalid-value', `${what}: no batch header at offset ${batchPos}`);
  }
}

/** Rewrites the base offset of the batch at `batchPos` in place (not covered by the CRC). */
export function setBaseOffset(buf: Buffer, batchPos: number, offset: bigint): void {
  checkHeaderRoom(buf, batchPos, 'setBaseOffset');
  buf.writeBigInt64BE(offset, batchPos + BASE_OFFSET_OFFSET);
}

/** Rewrites the partition leader epoch of the batch at `batchPos` in place (not covered by the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, batchPos: number, epoch: number): void {
  checkHeaderRoom(buf, batchPos, 'setPartitionLeaderEpoch');
  buf.writeInt32BE(epoch, batchPos + PARTITION_LEADER_EPOCH_OFFSET);
}

/** The offset of the last record of the batch at `batchPos`: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(buf: Buffer, batchPos: number): bigint {
  checkHeaderRoom(buf, batchPos, 'lastOffsetOf');
  return buf.readBigInt64BE(batchPos) + BigInt(buf.readInt32BE(batchPos + LAST_OFFSET_DELTA_OFFSET));
}
