/**
 * Jute, ZooKeeper's record encoding (zookeeper.jute in ZooKeeper's source): big-endian `int` (4 bytes) and `long`
 * (8 bytes, here a bigint), `boolean` as one byte, `buffer` and `ustring` as an int length (-1 for null) followed
 * by the bytes (UTF-8 for strings), `vector` as an int count (-1 for null) followed by the elements.
 *
 * The reader works on one frame that has already been bounded by the connection; every length and count read from
 * it is checked against the bytes left before anything is allocated, so a corrupt or hostile frame fails with a
 * `JuteError` instead of a large allocation.
 */

export class JuteError extends Error {
  override readonly name = 'JuteError';
}

export class JuteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  long(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  boolean(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  string(v: string | null): this {
    if (v === null) return this.int(-1);
    const n = Buffer.byteLength(v, 'utf8');
    this.int(n);
    this.ensure(n);
    this.buf.write(v, this.pos, 'utf8');
    this.pos += n;
    return this;
  }

  strings(v: readonly string[]): this {
    this.int(v.length);
    for (const s of v) this.string(s);
    return this;
  }

  /** Reserves an int to be filled in by `patchInt` (the frame length, written last). */
  reserveInt(): number {
    const at = this.pos;
    this.int(0);
    return at;
  }

  patchInt(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class JuteReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new JuteError(`truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  int(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  long(): bigint {
    this.need(8, 'long');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A long known to hold a timestamp or another value well inside the safe integer range. */
  longNumber(): number {
    return Number(this.long());
  }

  boolean(): boolean {
    this.need(1, 'boolean');
    return this.buf[this.pos++] !== 0;
  }

  private length(what: string): number {
    const n = this.int();
    if (n < -1) throw new JuteError(`negative ${what} length ${n}`);
    if (n > 0) this.need(n, what);
    return n;
  }

  /** A buffer field as a copy (the frame it came from is reused). Null reads as an empty buffer. */
  buffer(): Buffer {
    const n = this.length('buffer');
    if (n <= 0) return Buffer.alloc(0);
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }

  /** A ustring field; null reads as the empty string. */
  string(): string {
    const n = this.length('string');
    if (n <= 0) return '';
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  strings(): string[] {
    const count = this.int();
    if (count <= 0) {
      if (count < -1) throw new JuteError(`negative vector count ${count}`);
      return [];
    }
    // Each element takes at least its 4-byte length: a count the frame cannot hold is rejected before allocating.
    this.need(count * 4, 'vector');
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) out[i] = this.string();
    return out;
  }
}
