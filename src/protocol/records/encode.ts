/**
 * Encoding one record batch v2. Sizes are computed first so the records are written once into a buffer of the
 * exact size; the batch header is filled in last (lengths, deltas, max timestamp, last offset delta, CRC-32C).
 */
import { ProtocolError } from '../codec/protocol-error.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_BIT,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
} from './batch-header.js';
import { compress, isCompressionCodec } from './compression.js';
import { crc32c } from './crc32c.js';
import {
  uvarintSize,
  uvarlongSize as uvarlongSizeOfNumber,
  writeUvarint,
  writeUvarlong as writeUvarlongOfNumber,
  zigzag32,
} from './varint.js';

export type BytesInput = Buffer | string | null;

export interface RecordInput {
  key?: BytesInput;
  value?: BytesInput;
  headers?: { key: string; value: BytesInput }[];
  /** Absolute timestamp in ms; defaults to the batch's base timestamp. */
  timestamp?: bigint;
  /** Defaults to the record's index; must increase strictly through the batch. */
  offsetDelta?: number;
}

export interface RecordBatchInput {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  compression?: number;
  /** Level for gzip/zstd. */
  compressionLevel?: number;
  timestampType?: 0 | 1;
  isTransactional?: boolean;
  isControl?: boolean;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the first record's timestamp, or now. */
  baseTimestamp?: bigint;
  records: RecordInput[];
}

const MAX_INT32 = 0x7fffffff;

function invalid(message: string): ProtocolError {
  return new ProtocolError('invalid-value', `encodeRecordBatch: ${message}`);
}

function toBytes(v: BytesInput | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Zig-zag of a 64-bit delta: a number when it stays below 2^53, a bigint otherwise. */
function zigzag64(v: bigint): number | bigint {
  if (v >= -0x10000000000000n && v < 0x10000000000000n) {
    const n = Number(v);
    return n >= 0 ? n * 2 : -n * 2 - 1;
  }
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

function uvarlongSize(u: number | bigint): number {
  if (typeof u === 'number') return uvarlongSizeOfNumber(u);
  let size = 1;
  while (u >= 128n) {
    u >>= 7n;
    size++;
  }
  return size;
}

function writeUvarlong(buf: Buffer, pos: number, u: number | bigint): number {
  if (typeof u === 'number') return writeUvarlongOfNumber(buf, pos, u);
  while (u >= 128n) {
    buf[pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[pos++] = Number(u);
  return pos;
}

/** Size of a nullable byte field: zig-zag varint length (-1 for null) plus the bytes. */
function bytesFieldSize(b: Buffer | null): number {
  return b === null ? 1 : uvarintSize(zigzag32(b.length)) + b.length;
}

function writeBytesField(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) {
    buf[pos] = 1; // zig-zag of -1
    return pos + 1;
  }
  pos = writeUvarint(buf, pos, zigzag32(b.length));
  b.copy(buf, pos);
  return pos + b.length;
}

interface Prepared {
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: Buffer; value: Buffer | null }[];
  timestampDelta: number | bigint;
  offsetDelta: number;
  bodySize: number;
}

/** Encodes one v2 record batch. Throws ProtocolError('invalid-value') for input that cannot be encoded. */
export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const codec = input.compression ?? 0;
  if (!isCompressionCodec(codec)) throw invalid(`unknown compression codec ${codec}`);
  const inputs = input.records;
  const baseTimestamp = input.baseTimestamp ?? inputs[0]?.timestamp ?? (inputs.length > 0 ? BigInt(Date.now()) : -1n);
  let maxTimestamp = inputs.length > 0 ? -(2n ** 63n) : baseTimestamp;
  const prepared: Prepared[] = new Array(inputs.length);
  let recordsSize = 0;
  let lastDelta = -1;
  for (let i = 0; i < inputs.length; i++) {
    const rec = inputs[i]!;
    const offsetDelta = rec.offsetDelta ?? i;
    if (!Number.isInteger(offsetDelta) || offsetDelta <= lastDelta || offsetDelta > MAX_INT32) {
      throw invalid(`record ${i} has offset delta ${offsetDelta}, which must be an increasing int32 from 0`);
    }
    lastDelta = offsetDelta;
    const timestamp = rec.timestamp ?? baseTimestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const key = toBytes(rec.key);
    const value = toBytes(rec.value);
    const timestampDelta = zigzag64(timestamp - baseTimestamp);
    let bodySize =
      1 +
      uvarlongSize(timestampDelta) +
      uvarintSize(zigzag32(offsetDelta)) +
      bytesFieldSize(key) +
      bytesFieldSize(value);
    const headers: Prepared['headers'] = [];
    const hs = rec.headers ?? [];
    bodySize += uvarintSize(zigzag32(hs.length));
    for (const h of hs) {
      const hk = Buffer.from(h.key, 'utf8');
      const hv = toBytes(h.value);
      headers.push({ key: hk, value: hv });
      bodySize += bytesFieldSize(hk) + bytesFieldSize(hv);
    }
    if (bodySize > MAX_INT32) throw invalid(`record ${i} is too large`);
    prepared[i] = { key, value, headers, timestampDelta, offsetDelta, bodySize };
    recordsSize += uvarintSize(zigzag32(bodySize)) + bodySize;
  }
  if (recordsSize > MAX_INT32) throw invalid('records are too large for one batch');

  const uncompressed = codec === 0;
  // Uncompressed records go straight after the header; compressed ones into their own buffer first.
  const recordsBuf = Buffer.allocUnsafe(uncompressed ? RECORD_BATCH_OVERHEAD + recordsSize : recordsSize);
  let p = uncompressed ? RECORDS_OFFSET : 0;
  for (const r of prepared) {
    p = writeUvarint(recordsBuf, p, zigzag32(r.bodySize));
    recordsBuf[p++] = 0; // attributes
    p = writeUvarlong(recordsBuf, p, r.timestampDelta);
    p = writeUvarint(recordsBuf, p, zigzag32(r.offsetDelta));
    p = writeBytesField(recordsBuf, p, r.key);
    p = writeBytesField(recordsBuf, p, r.value);
    p = writeUvarint(recordsBuf, p, zigzag32(r.headers.length));
    for (const h of r.headers) {
      p = writeBytesField(recordsBuf, p, h.key);
      p = writeBytesField(recordsBuf, p, h.value);
    }
  }

  let out: Buffer;
  if (uncompressed) {
    out = recordsBuf;
  } else {
    const level = input.compressionLevel;
    const payload = compress(codec, recordsBuf, level === undefined ? undefined : { level });
    if (payload.length > MAX_INT32 - RECORD_BATCH_OVERHEAD) throw invalid('compressed records are too large');
    out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + payload.length);
    payload.copy(out, RECORDS_OFFSET);
  }

  const attributes =
    codec |
    (input.timestampType === 1 ? TIMESTAMP_TYPE_BIT : 0) |
    (input.isTransactional ? TRANSACTIONAL_BIT : 0) |
    (input.isControl ? CONTROL_BIT : 0);
  try {
    out.writeBigInt64BE(input.baseOffset ?? 0n, 0);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    out.writeInt32BE(input.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
    out.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
    out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
    out.writeInt32BE(prepared.length > 0 ? lastDelta : 0, LAST_OFFSET_DELTA_OFFSET);
    out.writeBigInt64BE(baseTimestamp, BASE_TIMESTAMP_OFFSET);
    out.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
    out.writeBigInt64BE(input.producerId ?? -1n, PRODUCER_ID_OFFSET);
    out.writeInt16BE(input.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(input.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
    out.writeInt32BE(prepared.length, RECORD_COUNT_OFFSET);
  } catch (e) {
    throw invalid((e as Error).message);
  }
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}
