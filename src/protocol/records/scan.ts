/**
 * Validation of record sets on the broker's hot path (Produce): walk the concatenated v2 batches, check each one's
 * length bounds, magic, attributes and CRC-32C, and return their headers. Records are never decoded and batch bytes
 * never copied; the only allocations are one header object per batch.
 *
 * Anything wrong is a ProtocolError('corrupt-record') naming the batch's position and the reason (Kafka answers
 * CORRUPT_MESSAGE). A partial trailing batch is an error here: a producer never sends one.
 *
 * This checks structure only. Policy checks that need the header values (record count matching the offset range,
 * producer id/epoch/sequence rules, timestamps, max.message.bytes) belong to the caller, which has the fields.
 */
import { ProtocolError } from '../codec/protocol-error.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  CURRENT_MAGIC,
  headerAt,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MIN_BATCH_LENGTH,
  MIN_RECORD_SIZE,
  RECORD_BATCH_OVERHEAD,
} from './batch-header.js';
import { crc32c } from './crc32c.js';
import type { ScannedBatch } from './types.js';

function corrupt(pos: number, reason: string): ProtocolError {
  return new ProtocolError('corrupt-record', `record batch at byte ${pos}: ${reason}`);
}

/**
 * Validates the one v2 batch that starts at `pos` and must end at or before `end`; returns its header, position
 * and size. The CRC-32C covers attributes..end of batch.
 */
export function validateBatch(buf: Buffer, pos = 0, end = buf.length): ScannedBatch {
  const remaining = end - pos;
  if (remaining < MAGIC_OFFSET + 1) {
    throw corrupt(pos, `partial batch: ${remaining} bytes, a batch header alone is ${RECORD_BATCH_OVERHEAD}`);
  }
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) throw corrupt(pos, `magic ${magic} is not supported, expected 2`);
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw corrupt(pos, `batch length ${batchLength} is less than the minimum ${MIN_BATCH_LENGTH}`);
  }
  if (batchLength > remaining - LOG_OVERHEAD) {
    throw corrupt(pos, `batch length ${batchLength} exceeds the ${remaining - LOG_OVERHEAD} bytes that follow`);
  }
  const size = LOG_OVERHEAD + batchLength;
  const header = headerAt(buf, pos);
  const computed = crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size));
  if (computed !== header.crc) {
    throw corrupt(
      pos,
      `CRC-32C mismatch: stored 0x${header.crc.toString(16).padStart(8, '0')}, computed 0x${computed
        .toString(16)
        .padStart(8, '0')}`,
    );
  }
  if (header.compression > 4) throw corrupt(pos, `unknown compression codec ${header.compression}`);
  if (header.recordCount < 0) throw corrupt(pos, `negative record count ${header.recordCount}`);
  if (
    (header.attributes & COMPRESSION_MASK) === 0 &&
    header.recordCount > (size - RECORD_BATCH_OVERHEAD) / MIN_RECORD_SIZE
  ) {
    throw corrupt(pos, `record count ${header.recordCount} cannot fit in ${size - RECORD_BATCH_OVERHEAD} bytes`);
  }
  const scanned = header as ScannedBatch;
  scanned.position = pos;
  scanned.size = size;
  return scanned;
}

/**
 * Validates every batch of a record set (as in a Produce request's `records`) from `start` to `end`, which must be
 * covered exactly by whole batches. Returns the batches' headers in order; an empty range gives [].
 */
export function scanRecordSet(buf: Buffer, start = 0, end = buf.length): ScannedBatch[] {
  const batches: ScannedBatch[] = [];
  let pos = start;
  while (pos < end) {
    const batch = validateBatch(buf, pos, end);
    batches.push(batch);
    pos += batch.size;
  }
  return batches;
}
