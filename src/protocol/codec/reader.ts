import { ProtocolError } from './protocol-error.js';

const UTF8 = 'utf8';

/**
 * Sequential reader over one Kafka frame. It never copies: strings are decoded straight from the buffer and
 * bytes/records fields are returned as subarray views of the input, so a decoded message borrows its frame.
 * Every length and count is checked against what remains before anything is allocated, so hostile input costs
 * at most the size of the input.
 */
export class Reader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Points the reader at a new frame; lets one reader per connection serve every request. */
  reset(buf: Buffer, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const at = this.pos;
    if (n > this.end - at) {
      throw new ProtocolError('truncated', `need ${n} bytes at offset ${at}, only ${this.end - at} remain`);
    }
    this.pos = at + n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }

  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }

  float64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }

  /** Unsigned LEB128 varint of at most 32 bits (5 bytes), as Kafka's compact lengths and tags use. */
  uvarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    while (true) {
      if (pos >= this.end) throw new ProtocolError('truncated', `varint runs past the end at offset ${pos}`);
      const b = buf[pos++]!;
      if (shift === 28) {
        if (b > 0x0f) throw new ProtocolError('invalid-varint', `varint longer than 32 bits at offset ${this.pos}`);
        result += b * 2 ** 28;
        break;
      }
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    this.pos = pos;
    return result >>> 0;
  }

  /** Zig-zag signed varint of at most 32 bits. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag signed varlong of at most 64 bits. */
  varlong(): bigint {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0n;
    let shift = 0n;
    while (true) {
      if (pos >= this.end) throw new ProtocolError('truncated', `varlong runs past the end at offset ${pos}`);
      const b = buf[pos++]!;
      if (shift === 63n && b > 1) {
        throw new ProtocolError('invalid-varint', `varlong longer than 64 bits at offset ${this.pos}`);
      }
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    this.pos = pos;
    return (result >> 1n) ^ -(result & 1n);
  }

  /** Checks a decoded length against what remains; -1 (null) is allowed only when nullable. */
  private length(len: number, nullable: boolean, what: string): number {
    if (len < 0) {
      if (len === -1 && nullable) return -1;
      throw new ProtocolError('invalid-length', `${what} has invalid length ${len} at offset ${this.pos}`);
    }
    if (len > this.end - this.pos) {
      throw new ProtocolError(
        'invalid-length',
        `${what} length ${len} exceeds the ${this.end - this.pos} bytes remaining at offset ${this.pos}`,
      );
    }
    return len;
  }

  string(): string {
    const len = this.length(this.int16(), false, 'string');
    const at = this.need(len);
    return this.buf.toString(UTF8, at, at + len);
  }

  nullableString(): string | null {
    const len = this.length(this.int16(), true, 'string');
    if (len < 0) return null;
    const at = this.need(len);
    return this.buf.toString(UTF8, at, at + len);
  }

  compactString(): string {
    const len = this.length(this.uvarint() - 1, false, 'compact string');
    const at = this.need(len);
    return this.buf.toString(UTF8, at, at + len);
  }

  compactNullableString(): string | null {
    const len = this.length(this.uvarint() - 1, true, 'compact string');
    if (len < 0) return null;
    const at = this.need(len);
    return this.buf.toString(UTF8, at, at + len);
  }

  /** A view of the next `len` bytes (no copy). */
  raw(len: number): Buffer {
    const at = this.need(this.length(len, false, 'raw bytes'));
    return this.buf.subarray(at, at + len);
  }

  bytes(): Buffer {
    return this.raw(this.length(this.int32(), false, 'bytes'));
  }

  nullableBytes(): Buffer | null {
    const len = this.length(this.int32(), true, 'bytes');
    return len < 0 ? null : this.raw(len);
  }

  compactBytes(): Buffer {
    return this.raw(this.length(this.uvarint() - 1, false, 'compact bytes'));
  }

  compactNullableBytes(): Buffer | null {
    const len = this.length(this.uvarint() - 1, true, 'compact bytes');
    return len < 0 ? null : this.raw(len);
  }

  /** A UUID in Kafka's textual form: 22 characters of unpadded base64url. */
  uuid(): string {
    const at = this.need(16);
    return this.buf.toString('base64url', at, at + 16);
  }

  /**
   * Array element count, or -1 for a null array. A count larger than the bytes remaining is refused: every
   * element takes at least one byte, so a valid count can never exceed it.
   */
  arrayLength(nullable: boolean): number {
    return this.countCheck(this.int32(), nullable);
  }

  compactArrayLength(nullable: boolean): number {
    return this.countCheck(this.uvarint() - 1, nullable);
  }

  private countCheck(count: number, nullable: boolean): number {
    if (count < 0) {
      if (count === -1 && nullable) return -1;
      throw new ProtocolError('invalid-length', `invalid array length ${count} at offset ${this.pos}`);
    }
    if (count > this.end - this.pos) {
      throw new ProtocolError(
        'invalid-length',
        `array of ${count} elements cannot fit in the ${this.end - this.pos} bytes remaining at offset ${this.pos}`,
      );
    }
    return count;
  }
}
