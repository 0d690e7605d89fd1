/**
 * One record batch v2 under construction for one partition: the unit the producer accumulates, sends, retries and
 * acknowledges. Each record is encoded into the batch's buffer when it is appended (after the 61 bytes the batch
 * header will take), so nothing is kept per record but its delivery target and timestamp, and closing the batch
 * only fills the header, compresses when asked, and computes the CRC-32C. The encoded bytes are kept for retries.
 *
 * Each append says how large the batch may grow (the producer lets a batch grow past batchSize while the partition
 * waits for its previous batch); the first record always fits, so a record larger than that travels alone, as in the
 * Java client. A batch the broker finds too large (MESSAGE_TOO_LARGE) is split into smaller ones (`split`), with
 * the records' bytes reused and only their offset and timestamp deltas written anew.
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
import { compress, decompress } from '../../protocol/records/compression.js';
import { crc32c } from '../../protocol/records/crc32c.js';
import {
  uvarintSize,
  uvarlongSize,
  writeUvarint,
  writeUvarlong,
  zigzag32,
  zigzag64,
} from '../../protocol/records/varint.js';
import { KafkaClientError } from '../errors.js';
import type { DeliveryReport, HeaderValue, RecordHeaders } from './types.js';

/** Where a record's outcome goes: one `send` promise, or one slot of a `sendBatch` promise. */
export interface DeliverySink {
  delivered(slot: number, report: DeliveryReport): void;
  failed(slot: number, error: Error): void;
}

export const BATCH_HEADER_BYTES = RECORDS_OFFSET;

function readUvarint(buf: Buffer, pos: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, pos];
    shift += 7;
  }
}

function skipVarint(buf: Buffer, pos: number): number {
  while (buf[pos++]! >= 0x80);
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
  /**
   * Idempotence: the producer id, epoch and first sequence number written into the encoded header (-1 when none).
   * A batch keeps them across retries, so that the broker can recognise a resend it has already written.
   */
  producerId = -1n;
  producerEpoch = -1;
  baseSequence = -1;
  /** Sent again after a failure: the partition sends it alone, before anything that follows it. */
  resent = false;
  /** Sends that failed so far, when the next may start, and why the last one failed. */
  attempts = 0;
  retryAt = 0;
  lastError: Error | null = null;
  /** Called once the batch is done, acknowledged or failed (flush). */
  waiters: (() => void)[] | null = null;

  constructor(
    readonly createdAt: number,
    capacity: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, RECORDS_OFFSET));
  }

  /** Uncompressed bytes so far, header included. */
  get size(): number {
    return this.pos;
  }

  /** Bytes of the records before compression (kept after closing). */
  uncompressedSize = 0;

  /**
   * Encodes one record into the batch; false (and nothing changed) when the batch would pass `limit` bytes (header
   * included, uncompressed). Header values are checked here; a bad one throws KafkaClientError, nothing appended.
   */
  tryAppend(
    timestamp: number,
    key: Buffer | null,
    value: Buffer | null,
    headers: RecordHeaders | undefined,
    sink: DeliverySink,
    slot: number,
    limit: number,
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
      if (!first && end > limit) return false;
      this.grow(end, limit);
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
    this.appended(timestamp, sink, slot);
    return true;
  }

  /** Like tryAppend, with the record's key, value and headers already encoded (`rest`), as `split` has them. */
  private tryAppendEncoded(timestamp: number, rest: Buffer, sink: DeliverySink, slot: number, limit: number): boolean {
    const first = this.count === 0;
    const tsDelta = first ? 0 : zigzag64(timestamp - this.baseTimestamp);
    const offsetDelta = this.count;
    const body = 1 + uvarlongSize(tsDelta) + uvarintSize(zigzag32(offsetDelta)) + rest.length;
    const end = this.pos + uvarintSize(zigzag32(body)) + body;
    if (end > this.buf.length) {
      if (!first && end > limit) return false;
      this.grow(end, limit);
    }
    const buf = this.buf;
    let p = writeUvarint(buf, this.pos, zigzag32(body));
    buf[p++] = 0;
    p = writeUvarlong(buf, p, tsDelta);
    p = writeUvarint(buf, p, zigzag32(offsetDelta));
    buf.set(rest, p);
    this.pos = p + rest.length;
    this.appended(timestamp, sink, slot);
    return true;
  }

  private appended(timestamp: number, sink: DeliverySink, slot: number): void {
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.count++;
    this.sinks.push(sink);
    this.slots.push(slot);
    this.timestamps.push(timestamp);
  }

  private grow(needed: number, limit: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, Math.min(limit, this.buf.length * 2)));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * The records of this closed batch in new batches of at most `limit` bytes each (uncompressed), in order, not yet
   * closed; they inherit the creation time, so the delivery timeout still counts from the first send.
   */
  split(codec: number, limit: number): ProducerBatch[] {
    const encoded = this.encoded!;
    const payload = encoded.subarray(RECORDS_OFFSET);
    const records = codec === 0 ? payload : decompress(codec, payload, { maxBytes: 0x7fffffff });
    const out: ProducerBatch[] = [];
    let current = new ProducerBatch(this.createdAt, Math.min(limit, records.length + RECORDS_OFFSET));
    let pos = 0;
    for (let i = 0; i < this.count; i++) {
      let p = pos;
      const [length, afterLength] = readUvarint(records, p);
      p = afterLength;
      const end = p + (length >>> 1);
      p = skipVarint(records, skipVarint(records, p + 1)); // attributes, timestamp delta, offset delta
      const rest = records.subarray(p, end);
      pos = end;
      if (!current.tryAppendEncoded(this.timestamps[i]!, rest, this.sinks[i]!, this.slots[i]!, limit)) {
        out.push(current);
        current = new ProducerBatch(this.createdAt, Math.min(limit, records.length - pos + RECORDS_OFFSET));
        current.tryAppendEncoded(this.timestamps[i]!, rest, this.sinks[i]!, this.slots[i]!, limit);
      }
    }
    out.push(current);
    return out;
  }

  /** Fills in the header (compressing the records first when `codec` is not 0) and keeps the result. */
  close(codec: number, level: number | undefined): Buffer {
    this.uncompressedSize = this.pos - RECORDS_OFFSET;
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
    out.writeBigInt64BE(this.producerId, PRODUCER_ID_OFFSET);
    out.writeInt16BE(this.producerEpoch, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(this.baseSequence, BASE_SEQUENCE_OFFSET);
    out.writeInt32BE(this.count, RECORD_COUNT_OFFSET);
    out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    this.encoded = out;
    return out;
  }

  /**
   * Sets the producer id, epoch and first sequence; on a batch already encoded, rewrites them in the header and
   * computes the CRC again (they are inside the checksummed part). Stamping before `close` costs nothing extra.
   */
  stamp(producerId: bigint, producerEpoch: number, baseSequence: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
    const out = this.encoded;
    if (out === null) return;
    out.writeBigInt64BE(producerId, PRODUCER_ID_OFFSET);
    out.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
    out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  }
}
