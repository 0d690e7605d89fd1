import { ProtocolError } from './protocol-error.js';

/** Byte blocks at least this large are referenced rather than copied (record sets in Fetch responses). */
const ZERO_COPY_THRESHOLD = 16 * 1024;

/**
 * Growable big-endian writer. Small fields go into one buffer that doubles as needed; large byte blocks
 * (record batches) are linked in by reference, so encoding a Fetch response never copies the log data.
 * `chunks()` gives the pieces for a vectored socket write; `toBuffer()` joins them when one buffer is needed.
 */
export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Start of the part of `buf` not yet handed to `done`. */
  private chunkStart = 0;
  /** Finished pieces, in order, when a large block has been linked in. */
  private done: Buffer[] = [];
  private doneBytes = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.doneBytes + this.pos - this.chunkStart;
  }

  private ensure(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      const live = at - this.chunkStart;
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, live + n, 256));
      this.buf.copy(next, 0, this.chunkStart, at);
      this.buf = next;
      this.chunkStart = 0;
      this.pos = live + n;
      return live;
    }
    this.pos = at + n;
    return at;
  }

  int8(v: number): this {
    const at = this.ensure(1);
    this.buf.writeInt8(v, at);
    return this;
  }

  bool(v: boolean): this {
    const at = this.ensure(1);
    this.buf[at] = v ? 1 : 0;
    return this;
  }

  int16(v: number): this {
    const at = this.ensure(2);
    this.buf.writeInt16BE(v, at);
    return this;
  }

  uint16(v: number): this {
    const at = this.ensure(2);
    this.buf.writeUInt16BE(v, at);
    return this;
  }

  int32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeInt32BE(v, at);
    return this;
  }

  uint32(v: number): this {
    const at = this.ensure(4);
    this.buf.writeUInt32BE(v, at);
    return this;
  }

  int64(v: bigint): this {
    const at = this.ensure(8);
    this.buf.writeBigInt64BE(v, at);
    return this;
  }

  float64(v: number): this {
    const at = this.ensure(8);
    this.buf.writeDoubleBE(v, at);
    return this;
  }

  uvarint(v: number): this {
    if (v < 0 || v > 0xffffffff || !Number.isInteger(v)) {
      throw new ProtocolError('invalid-value', `unsigned varint out of range: ${v}`);
    }
    let at = this.ensure(uvarintSize(v));
    const buf = this.buf;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[at] = v;
    return this;
  }

  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  varlong(v: bigint): this {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    while (u >= 0x80n) {
      const at = this.ensure(1);
      this.buf[at] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    const at = this.ensure(1);
    this.buf[at] = Number(u);
    return this;
  }

  private utf8(v: string, len: number): void {
    const at = this.ensure(len);
    this.buf.write(v, at, len, 'utf8');
  }

  string(v: string): this {
    const len = Buffer.byteLength(v, 'utf8');
    if (len > 0x7fff) throw new ProtocolError('invalid-value', `string of ${len} bytes is longer than 32767`);
    this.int16(len);
    this.utf8(v, len);
    return this;
  }

  nullableString(v: string | null): this {
    if (v === null) return this.int16(-1);
    return this.string(v);
  }

  compactString(v: string): this {
    const len = Buffer.byteLength(v, 'utf8');
    this.uvarint(len + 1);
    this.utf8(v, len);
    return this;
  }

  compactNullableString(v: string | null): this {
    if (v === null) return this.uvarint(0);
    return this.compactString(v);
  }

  /** Raw bytes without a length prefix; large blocks are linked in, not copied. */
  raw(v: Uint8Array): this {
    if (v.length >= ZERO_COPY_THRESHOLD) {
      this.seal();
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
      this.done.push(b);
      this.doneBytes += b.length;
      return this;
    }
    const at = this.ensure(v.length);
    this.buf.set(v, at);
    return this;
  }

  bytes(v: Uint8Array): this {
    this.int32(v.length);
    return this.raw(v);
  }

  nullableBytes(v: Uint8Array | null): this {
    if (v === null) return this.int32(-1);
    return this.bytes(v);
  }

  compactBytes(v: Uint8Array): this {
    this.uvarint(v.length + 1);
    return this.raw(v);
  }

  compactNullableBytes(v: Uint8Array | null): this {
    if (v === null) return this.uvarint(0);
    return this.compactBytes(v);
  }

  uuid(v: string): this {
    const at = this.ensure(16);
    const n = this.buf.write(v, at, 16, 'base64url');
    if (n !== 16 || v.length !== 22) throw new ProtocolError('invalid-value', `not a Kafka uuid: ${v}`);
    return this;
  }

  arrayLength(n: number): this {
    return this.int32(n);
  }

  compactArrayLength(n: number): this {
    return this.uvarint(n + 1);
  }

  /** Reserves a 4-byte slot (for a size prefix) and returns its position for `patchInt32`. */
  reserveInt32(): number {
    if (this.done.length > 0) throw new ProtocolError('invalid-value', 'cannot reserve after a linked block');
    return this.ensure(4);
  }

  /** Fills a slot from `reserveInt32`. Valid while the slot still lives in the first buffer. */
  patchInt32(at: number, v: number): this {
    const target = this.done.length > 0 ? this.done[0]! : this.buf;
    target.writeInt32BE(v, at);
    return this;
  }

  private seal(): void {
    if (this.pos > this.chunkStart) {
      const piece = this.buf.subarray(this.chunkStart, this.pos);
      this.done.push(piece);
      this.doneBytes += piece.length;
      this.chunkStart = this.pos;
    }
  }

  /** The written bytes as pieces for a vectored write. The writer must not be used afterwards. */
  chunks(): Buffer[] {
    this.seal();
    return this.done;
  }

  /** The written bytes as one buffer (a view when nothing was linked in, a joined copy otherwise). */
  toBuffer(): Buffer {
    if (this.done.length === 0) return this.buf.subarray(this.chunkStart, this.pos);
    return Buffer.concat(this.chunks(), this.doneBytes);
  }
}

export function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}
