// Byte-level builders for record tests, written from the documented layouts (docs/implementation.html), so tests
// do not depend on the encoder they check.

import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/protocol/codec/protocol-error.js';
import { crc32, crc32c } from '../../../src/protocol/records/index.js';

export const i8 = (v: number): Buffer => Buffer.from([v & 0xff]);

export function i16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}

export function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export function i64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}

/** Zig-zag varint (32-bit) as Kafka's record fields use. */
export function varint(v: number): Buffer {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  const out: number[] = [];
  while (u >= 0x80) {
    out.push((u & 0x7f) | 0x80);
    u >>>= 7;
  }
  out.push(u);
  return Buffer.from(out);
}

/** Zig-zag varlong (64-bit). */
export function varlong(v: bigint): Buffer {
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}

/** A varint-length-prefixed nullable byte field. */
export function vbytes(b: Buffer | string | null): Buffer {
  if (b === null) return varint(-1);
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint(buf.length), buf]);
}

export interface RawRecord {
  timestampDelta?: bigint;
  offsetDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: [string, Buffer | string | null][];
}

/** One v2 record: length varint, attributes, deltas, key, value, headers. */
export function rawRecord(r: RawRecord): Buffer {
  const headers = r.headers ?? [];
  const body = Buffer.concat([
    i8(0),
    varlong(r.timestampDelta ?? 0n),
    varint(r.offsetDelta),
    vbytes(r.key),
    vbytes(r.value),
    varint(headers.length),
    ...headers.map(([k, v]) => Buffer.concat([vbytes(k), vbytes(v)])),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

export interface RawBatch {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  magic?: number;
  attributes?: number;
  lastOffsetDelta: number;
  baseTimestamp?: bigint;
  maxTimestamp?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  recordCount: number;
  /** The bytes after recordCount (records, or compressed records). */
  payload: Buffer;
  /** Force the CRC field (default: the correct CRC-32C). */
  crc?: number;
  /** Force the batchLength field. */
  batchLength?: number;
}

/** A v2 record batch built field by field, with a correct CRC-32C unless told otherwise. */
export function rawBatch(b: RawBatch): Buffer {
  const afterCrc = Buffer.concat([
    i16(b.attributes ?? 0),
    i32(b.lastOffsetDelta),
    i64(b.baseTimestamp ?? 1000n),
    i64(b.maxTimestamp ?? 1000n),
    i64(b.producerId ?? -1n),
    i16(b.producerEpoch ?? -1),
    i32(b.baseSequence ?? -1),
    i32(b.recordCount),
    b.payload,
  ]);
  const crc = b.crc ?? crc32c(afterCrc);
  const afterLength = Buffer.concat([i32(b.partitionLeaderEpoch ?? -1), i8(b.magic ?? 2), u32(crc), afterCrc]);
  return Buffer.concat([i64(b.baseOffset ?? 0n), i32(b.batchLength ?? afterLength.length), afterLength]);
}

/** Recomputes the CRC-32C of the v2 batch at `pos` in place (after a test edits its bytes). */
export function fixCrc(buf: Buffer, pos = 0): Buffer {
  const end = pos + 12 + buf.readInt32BE(pos + 8);
  buf.writeUInt32BE(crc32c(buf.subarray(pos + 21, end)), pos + 17);
  return buf;
}

/** Legacy int32-length-prefixed nullable bytes. */
export function lbytes(b: Buffer | string | null): Buffer {
  if (b === null) return i32(-1);
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([i32(buf.length), buf]);
}

export interface RawMessage {
  offset: bigint;
  magic: 0 | 1;
  attributes?: number;
  timestamp?: bigint;
  key: Buffer | string | null;
  value: Buffer | string | null;
  /** Force the CRC field (default: the correct CRC-32). */
  crc?: number;
}

/** One legacy message-set entry: offset, message_size, crc, magic, attributes, [timestamp], key, value. */
export function rawMessage(m: RawMessage): Buffer {
  const body = Buffer.concat([
    i8(m.magic),
    i8(m.attributes ?? 0),
    m.magic === 1 ? i64(m.timestamp ?? 0n) : Buffer.alloc(0),
    lbytes(m.key),
    lbytes(m.value),
  ]);
  const message = Buffer.concat([u32(m.crc ?? crc32(body)), body]);
  return Buffer.concat([i64(m.offset), i32(message.length), message]);
}

/** Asserts that `fn` throws a ProtocolError (of `kind` when given) whose message matches `pattern`. */
export function assertProtocolError(fn: () => unknown, kind?: string, pattern?: RegExp): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ProtocolError, `expected a ProtocolError, got ${String(caught)}`);
  if (kind !== undefined) assert.equal(caught.kind, kind, caught.message);
  if (pattern !== undefined) assert.match(caught.message, pattern);
  return caught;
}

/** Runs `fn`; passes when it returns or throws a ProtocolError, fails on any other exception. */
export function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
  }
}
