/**
 * One record batch v2 under construction for one partition: the unit the producer accumulates, sends, retries and
 * acknowledges. Each record is encoded into the batch's buffer when it is appended (after the 61 bytes the batch
 * header will take), so nothing is kept per record but its delivery target and timestamp, and closing the batch
 * only fills the header, compresses when asked, and computes the CRC-32C. The encoded bytes are kept for retries.
 *
 * A batch holds at most `limit` bytes, except that its first record always fits (the buffer grows for it): a record
 * larger than batchSize travels alone, as in the Java client.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
} from '../../protocol/records/batch-header.js';
import { compress } from '../../protocol/records/compression.js';
import { crc32c } from '../../protocol/records/crc32c.js';
import { KafkaClientError } from '../errors.js';
import type { DeliveryReport, HeaderValue, RecordHeaders } from './types.js';

/** Where a record's outcome goes: one `send` promise, or one slot of a `sendBatch` promise. */
export interface DeliverySink {
  delivered(slot: number, report: DeliveryReport): void;
  failed(slot: number, error: Error): void;
}

export const BATCH_HEADER_BYTES = RECORDS_OFFSET;

function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

/** Zig-zag of a timestamp delta (a safe integer). */
function zigzag64(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

function uvarlongSize(v: number): number {
  if (v <= 0xffffffff) return uvarintSize(v);
  let size = 5;
  for (let rest = Math.floor(v / 2 ** 35); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

function writeUvarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeUvarlong(buf: Buffer, pos: number, v: number): number {
  if (v <= 0xffffffff) return writeUvarint(buf, pos, v);
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** Encoded size of a nullable bytes field (zig-zag varint length, -1 for null, then the bytes). */
function fieldSize(v: HeaderValue): number {
  if (v === null) return 1;
  const n = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
  return uvarintSize(zigzag32(n)) + n;
}

function writeField(buf: Buffer, pos: number, v: HeaderValue): number {
  if (v === null) {
    buf[pos] = 1; // zig-zag of -1
    return pos + 1;
  }
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v, 'utf8');
    pos = writeUvarint(buf, pos, zigzag32(n));
    return pos + buf.write(v, pos, n, 'utf8');
  }
  pos = writeUvarint(buf, pos, zigzag32(v.length));
  buf.set(v, pos);
  return pos + v.length;
}

function checkHeaderValue(key: string, v: unknown): HeaderValue {
  if (v === null || typeof v === 'string' || Buffer.isBuffer(v)) return v;
  throw new KafkaClientError(`header '${key}': a value must be a Buffer, a string or null`);
}

/** Number of headers counted by the last `headersSize` call (saves a second walk just to count). */
let headerCount = 0;

/** Bytes of the headers' entries (without their count), setting `headerCount`. */
function headersSize(headers: RecordHeaders | undefined): number {
  headerCount = 0;
  if (headers === undefined) return 0;
  let size = 0;
  if (Array.isArray(headers)) {
    for (const h of headers as readonly { key: string; value: HeaderValue }[]) {
      if (typeof h?.key !== 'string') throw new KafkaClientError('a header needs a string key');
      size += fieldSize(h.key) + fieldSize(checkHeaderValue(h.key, h.value));
    }
    headerCount = headers.length;
    return size;
  }
  const object = headers as Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>;
  for (const key in object) {
    const v = object[key];
    if (v === undefined) continue;
    const keySize = fieldSize(key);
    if (Array.isArray(v)) {
      for (const one of v as readonly HeaderValue[]) size += keySize + fieldSize(checkHeaderValue(key, one));
      headerCount += v.length;
    } else {
      size += keySize + fieldSize(checkHeaderValue(key, v));
      headerCount++;
    }
  }
  return size;
}

function writeHeaders(buf: Buffer, pos: number, headers: RecordHeaders): number {
  if (Array.isArray(headers)) {
    for (const h of headers as readonly { key: string; value: HeaderValue }[]) {
      pos = writeField(buf, pos, h.key);
      pos = writeField(buf, pos, h.value);
    }
    return pos;
  }
  const object = headers as Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>;
  for (const key in object) {
    const v = object[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      for (const one of v as readonly HeaderValue[]) {
        pos = writeField(buf, pos, key);
        pos = writeField(buf, pos, one);
      }
    } else {
      pos = writeField(buf, pos, key);
      pos = writeField(buf, pos, v as HeaderValue);
    }
  }
  return pos;
}

/** Upper bound of the bytes one record adds to a batch (its timestamp and offset deltas at their largest). */
export function recordSizeBound(key: Buffer | null, value: Buffer | null, headers: RecordHeaders | undefined): number {
  const h = headersSize(headers);
  const body = 1 + 10 + 5 + fieldSize(key) + fieldSize(value) + uvarintSize(zigzag32(headerCount)) + h;
  return uvarintSize(zigzag32(body)) + body;
}

const EMPTY = Buffer.alloc(0);

export class ProducerBatch {
  private buf: Buffer;
  private pos = RECORDS_OFFSET;
  /** Records appended. */
  count = 0;
  private baseTimestamp = 0;
  private maxTimestamp = 0;
  /** Per record: where its outcome goes, and its create time. */
  readonly sinks: DeliverySink[] = [];
  readonly slots: number[] = [];
  readonly timestamps: number[] = [];
  /** The batch as sent, once closed. */
  encoded: Buffer | null = null;
  /** Position among the batches of its partition (a retried batch goes back before later ones). */
  seq = 0;
  /** Sends that failed so far, when the next may start, and why the last one failed. */
  attempts = 0;
  retryAt = 0;
  lastError: Error | null = null;
  /** Called once the batch is done, acknowledged or failed (flush). */
  waiters: (() => void)[] | null = null;

  constructor(
    readonly createdAt: number,
    capacity: number,
    /** Most bytes (header included, uncompressed) the batch takes once it holds a record. */
    private readonly limit: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, RECORDS_OFFSET));
  }

  /** Uncompressed bytes so far, header included. */
  get size(): number {
    return this.pos;
  }

  /**
   * Encodes one record into the batch; false (and nothing changed) when it would pass the batch's limit. Header
   * values are checked here; a bad one throws KafkaClientError, with nothing appended.
   */
  tryAppend(
    timestamp: number,
    key: Buffer | null,
    value: Buffer | null,
    headers: RecordHeaders | undefined,
    sink: DeliverySink,
    slot: number,
  ): boolean {
    const first = this.count === 0;
    const tsDelta = first ? 0 : zigzag64(timestamp - this.baseTimestamp);
    const offsetDelta = this.count;
    const hSize = headersSize(headers);
    const hCount = headerCount;
    const body =
      1 +
      uvarlongSize(tsDelta) +
      uvarintSize(zigzag32(offsetDelta)) +
      fieldSize(key) +
      fieldSize(value) +
      uvarintSize(zigzag32(hCount)) +
      hSize;
    const end = this.pos + uvarintSize(zigzag32(body)) + body;
    if (end > this.buf.length) {
      if (!first && end > this.limit) return false;
      this.grow(end);
    }
    const buf = this.buf;
    let p = writeUvarint(buf, this.pos, zigzag32(body));
    buf[p++] = 0; // record attributes: unused
    p = writeUvarlong(buf, p, tsDelta);
    p = writeUvarint(buf, p, zigzag32(offsetDelta));
    p = writeField(buf, p, key);
    p = writeField(buf, p, value);
    p = writeUvarint(buf, p, zigzag32(hCount));
    if (hCount > 0) p = writeHeaders(buf, p, headers!);
    this.pos = p;
    if (first) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.count++;
    this.sinks.push(sink);
    this.slots.push(slot);
    this.timestamps.push(timestamp);
    return true;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, Math.min(this.limit, this.buf.length * 2)));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Fills in the header (compressing the records first when `codec` is not 0) and keeps the result. */
  close(codec: number, level: number | undefined): Buffer {
    let out: Buffer;
    if (codec === 0) {
      out = this.buf.subarray(0, this.pos);
    } else {
      const payload = compress(
        codec,
        this.buf.subarray(RECORDS_OFFSET, this.pos),
        level === undefined ? {} : { level },
      );
      out = Buffer.allocUnsafe(RECORDS_OFFSET + payload.length);
      payload.copy(out, RECORDS_OFFSET);
    }
    this.buf = EMPTY;
    out.writeBigInt64BE(0n, 0);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    out.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET);
    out[MAGIC_OFFSET] = CURRENT_MAGIC;
    out.writeInt16BE(codec, ATTRIBUTES_OFFSET);
    out.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET);
    out.writeBigInt64BE(BigInt(this.baseTimestamp), BASE_TIMESTAMP_OFFSET);
    out.writeBigInt64BE(BigInt(this.maxTimestamp), MAX_TIMESTAMP_OFFSET);
    // No idempotence (the broker has no InitProducerId yet): producer id, epoch and sequence stay unset.
    out.writeBigInt64BE(-1n, PRODUCER_ID_OFFSET);
    out.writeInt16BE(-1, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(-1, BASE_SEQUENCE_OFFSET);
    out.writeInt32BE(this.count, RECORD_COUNT_OFFSET);
    out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    this.encoded = out;
    return out;
  }
}
