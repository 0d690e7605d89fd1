/**
 * Reading legacy message sets (magic 0 and 1, Kafka before 0.11), presented as RecordBatch objects so consumers
 * of decodeRecordBatches see one shape.
 *
 *   entry:   offset int64 | message_size int32 | message
 *   message: crc uint32 (CRC-32 of magic..end) | magic int8 | attributes int8 | [timestamp int64, magic 1 only]
 *            | key bytes (int32 length, -1 = null) | value bytes
 *
 * Attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 timestamp type (magic 1).
 *
 * Each top-level message becomes one batch, as in the Java client: an uncompressed message is a batch of one
 * record; a compressed "wrapper" message, whose value is a compressed message set, is a batch of its inner
 * messages. Inner offsets are absolute in magic 0; in magic 1 they are relative and the wrapper carries the
 * absolute offset of the last inner message. With log append time (magic 1) inner messages take the wrapper's
 * timestamp. Nested compression is invalid, as in Kafka. Headers, producer ids and sequences do not exist here:
 * they read as [] and -1.
 */
import { ProtocolError } from '../codec/protocol-error.js';
import { LOG_OVERHEAD } from './batch-header.js';
import { crc32 } from './crc32c.js';
import { type Budget, corruptAt, decompressWithin } from './decode-v2.js';
import type { KafkaRecord, RecordBatch } from './types.js';

/** Smallest message_size of a magic 0 message: crc, magic, attributes, two null lengths. */
export const LEGACY_MIN_SIZE_V0 = 14;
/** Smallest message_size of a magic 1 message: as v0 plus the timestamp. */
export const LEGACY_MIN_SIZE_V1 = 22;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_BIT = 0x08;

interface Message {
  offset: bigint;
  crc: number;
  magic: number;
  attributes: number;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/** Parses the message entry at `pos` whose message_size `size` already fits in `buf`. */
function readMessage(buf: Buffer, pos: number, size: number, verifyCrc: boolean): Message {
  const end = pos + LOG_OVERHEAD + size;
  const magic = buf[pos + 16]!;
  const min = magic === 0 ? LEGACY_MIN_SIZE_V0 : LEGACY_MIN_SIZE_V1;
  if (size < min) throw new ProtocolError('corrupt-record', `message size ${size} is below the minimum ${min}`);
  const crc = buf.readUInt32BE(pos + 12);
  if (verifyCrc) {
    const computed = crc32(buf.subarray(pos + 16, end));
    if (computed !== crc) {
      throw new ProtocolError(
        'corrupt-record',
        `CRC-32 mismatch: stored 0x${crc.toString(16)}, computed 0x${computed.toString(16)}`,
      );
    }
  }
  const attributes = buf[pos + 17]!;
  let p = pos + 18;
  let timestamp = -1n;
  if (magic === 1) {
    timestamp = buf.readBigInt64BE(p);
    p += 8;
  }
  const keyLength = buf.readInt32BE(p);
  p += 4;
  let key: Buffer | null = null;
  if (keyLength !== -1) {
    if (keyLength < 0 || keyLength > end - p - 4) {
      throw new ProtocolError('corrupt-record', `key length ${keyLength} does not fit the message`);
    }
    key = buf.subarray(p, p + keyLength);
    p += keyLength;
  }
  const valueLength = buf.readInt32BE(p);
  p += 4;
  let value: Buffer | null = null;
  if (valueLength !== -1) {
    if (valueLength < 0 || valueLength > end - p) {
      throw new ProtocolError('corrupt-record', `value length ${valueLength} does not fit the message`);
    }
    value = buf.subarray(p, p + valueLength);
    p += valueLength;
  }
  if (p !== end) throw new ProtocolError('corrupt-record', `message size ${size} disagrees with its content`);
  return { offset: buf.readBigInt64BE(pos), crc, magic, attributes, timestamp, key, value };
}

/** Decodes the legacy entry at `pos` (message_size `size` already checked to fit) into a batch. */
export function decodeLegacyEntry(
  buf: Buffer,
  pos: number,
  size: number,
  verifyCrc: boolean,
  budget: Budget,
): RecordBatch {
  let wrapper: Message;
  try {
    wrapper = readMessage(buf, pos, size, verifyCrc);
  } catch (e) {
    if (e instanceof ProtocolError) throw corruptAt(pos, e.message);
    throw e;
  }
  const magic = wrapper.magic;
  const compression = wrapper.attributes & COMPRESSION_MASK;
  const timestampType: 0 | 1 = magic === 1 && wrapper.attributes & TIMESTAMP_TYPE_BIT ? 1 : 0;
  let records: KafkaRecord[];
  if (compression === 0) {
    records = [
      { offset: wrapper.offset, timestamp: wrapper.timestamp, key: wrapper.key, value: wrapper.value, headers: [] },
    ];
  } else {
    if (compression > 3) throw corruptAt(pos, `compression codec ${compression} is not valid with magic ${magic}`);
    if (wrapper.value === null) throw corruptAt(pos, 'compressed message has a null value');
    const inner = decompressWithin(compression, wrapper.value, budget, pos, magic === 0);
    records = decodeInner(inner, wrapper, timestampType, verifyCrc, pos);
  }
  const first = records[0];
  const last = records[records.length - 1];
  const baseOffset = first ? first.offset : wrapper.offset;
  return {
    baseOffset,
    batchLength: size,
    partitionLeaderEpoch: -1,
    magic,
    crc: wrapper.crc,
    attributes: wrapper.attributes,
    compression,
    timestampType,
    isTransactional: false,
    isControl: false,
    hasDeleteHorizon: false,
    lastOffsetDelta: last ? Number(last.offset - baseOffset) : 0,
    baseTimestamp: first ? first.timestamp : wrapper.timestamp,
    // The wrapper's timestamp is the max of its inner messages' (or the log append time).
    maxTimestamp: wrapper.timestamp,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    recordCount: records.length,
    records,
  };
}

/** The inner message set of a compressed wrapper: whole messages only, none of them compressed. */
function decodeInner(
  inner: Buffer,
  wrapper: Message,
  timestampType: 0 | 1,
  verifyCrc: boolean,
  pos: number,
): KafkaRecord[] {
  const messages: Message[] = [];
  let p = 0;
  try {
    while (p < inner.length) {
      if (inner.length - p < LOG_OVERHEAD + 5) throw new ProtocolError('corrupt-record', 'truncated inner message');
      const size = inner.readInt32BE(p + 8);
      if (size < LEGACY_MIN_SIZE_V0 || size > inner.length - p - LOG_OVERHEAD) {
        throw new ProtocolError('corrupt-record', `inner message size ${size} is invalid`);
      }
      const magic = inner[p + 16]!;
      if (magic > 1) throw new ProtocolError('corrupt-record', `inner message has magic ${magic}`);
      const m = readMessage(inner, p, size, verifyCrc);
      if ((m.attributes & COMPRESSION_MASK) !== 0) {
        throw new ProtocolError('corrupt-record', 'compressed message nested in a compressed message');
      }
      messages.push(m);
      p += LOG_OVERHEAD + size;
    }
  } catch (e) {
    if (e instanceof ProtocolError) throw corruptAt(pos, `inner message at byte ${p}: ${e.message}`);
    throw e;
  }
  const lastInner = messages.length > 0 ? messages[messages.length - 1]!.offset : 0n;
  // Magic 1: inner offsets are relative and the wrapper holds the absolute offset of the last one.
  const shift = wrapper.magic === 1 ? wrapper.offset - lastInner : 0n;
  const records: KafkaRecord[] = new Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    records[i] = {
      offset: m.offset + shift,
      timestamp: timestampType === 1 ? wrapper.timestamp : m.timestamp,
      key: m.key,
      value: m.value,
      headers: [],
    };
  }
  return records;
}
