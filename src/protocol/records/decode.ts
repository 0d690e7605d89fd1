/**
 * decodeRecordBatches: a record set (v2 batches, or legacy v0/v1 message sets, or a mix) into RecordBatch objects.
 * For clients (Fetch responses) and for the broker features that need records (compaction, transactions).
 *
 * Every entry starts with offset int64 and a length int32, and has its magic byte at position 16, so the format of
 * each entry is decided there. A trailing entry cut short (as a broker's Fetch size limit leaves it) is ignored by
 * default; anything else malformed is a ProtocolError('corrupt-record'). Decompression in one call is limited in
 * total to `maxDecompressedBytes`.
 */
import { ProtocolError } from '../codec/protocol-error.js';
import { CURRENT_MAGIC, LOG_OVERHEAD, MAGIC_OFFSET, MIN_BATCH_LENGTH } from './batch-header.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression.js';
import { decodeLegacyEntry, LEGACY_MIN_SIZE_V0 } from './decode-legacy.js';
import { type Budget, corruptAt, decodeBatchV2 } from './decode-v2.js';
import type { RecordBatch } from './types.js';

export interface DecodeOptions {
  /** Total decompressed bytes allowed in this call (default 64 MiB). */
  maxDecompressedBytes?: number;
  /** Check each batch's CRC-32C (v2) or each message's CRC-32 (v0/v1). Default true. */
  verifyCrc?: boolean;
  /** Ignore an incomplete last entry instead of failing. Default true. */
  allowPartialTail?: boolean;
}

/** Bytes needed to see an entry's length and magic. */
const ENTRY_PREFIX = MAGIC_OFFSET + 1;

export function decodeRecordBatches(buf: Buffer, opts?: DecodeOptions): RecordBatch[] {
  const verifyCrc = opts?.verifyCrc ?? true;
  const allowPartialTail = opts?.allowPartialTail ?? true;
  const max = opts?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const budget: Budget = { left: max };
  const batches: RecordBatch[] = [];
  const end = buf.length;
  let pos = 0;
  while (pos < end) {
    const remaining = end - pos;
    if (remaining < ENTRY_PREFIX) {
      if (allowPartialTail) break;
      throw corruptAt(pos, `partial entry of ${remaining} bytes`);
    }
    const length = buf.readInt32BE(pos + 8);
    if (length < LEGACY_MIN_SIZE_V0) throw corruptAt(pos, `invalid length ${length}`);
    if (length > remaining - LOG_OVERHEAD) {
      if (allowPartialTail) break;
      throw corruptAt(pos, `length ${length} exceeds the ${remaining - LOG_OVERHEAD} bytes that follow`);
    }
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    if (magic === CURRENT_MAGIC) {
      if (length < MIN_BATCH_LENGTH) {
        throw corruptAt(pos, `batch length ${length} is less than the minimum ${MIN_BATCH_LENGTH}`);
      }
      batches.push(decodeBatchV2(buf, pos, length, verifyCrc, budget));
    } else if (magic === 0 || magic === 1) {
      batches.push(decodeLegacyEntry(buf, pos, length, verifyCrc, budget));
    } else {
      throw new ProtocolError('corrupt-record', `record batch at byte ${pos}: unknown magic ${magic}`);
    }
    pos += LOG_OVERHEAD + length;
  }
  return batches;
}
