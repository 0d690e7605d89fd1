/**
 * Kafka framing: each request is a 4-byte big-endian size followed by that many bytes. Incoming chunks are kept
 * in a list and consumed by offset, so a frame is a zero-copy view when it lies inside one chunk and is copied
 * exactly once when it spans chunks; nothing is ever re-concatenated. The size is checked against the limit
 * before any buffer for the frame is allocated. Pure: no sockets, so it is tested byte by byte.
 */

export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(size < 0 ? `invalid frame size ${size}` : `frame of ${size} bytes exceeds the limit of ${limit}`);
  }
}

export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  /** Unconsumed bytes over all chunks. */
  private available = 0;
  /** Size of the frame being waited for, or -1 when its size prefix has not been read. */
  private pending = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.available;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /** The next complete frame (without its size prefix), or null when more bytes are needed. */
  next(): Buffer | null {
    if (this.pending < 0) {
      if (this.available < 4) return null;
      const size = this.readSize();
      if (size < 0 || size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes);
      this.pending = size;
    }
    const size = this.pending;
    if (this.available < size) return null;
    this.pending = -1;
    return this.take(size);
  }

  private readSize(): number {
    const first = this.chunks[0]!;
    if (first.length - this.head >= 4) {
      const v = first.readInt32BE(this.head);
      this.consume(4);
      return v;
    }
    const b = this.take(4);
    return b.readInt32BE(0);
  }

  /** Removes `n` (<= available) bytes and returns them, as a view when they lie in one chunk. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.consume(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(n - filled, c.length - this.head);
      c.copy(out, filled, this.head, this.head + k);
      filled += k;
      this.consume(k);
    }
    return out;
  }

  private consume(n: number): void {
    this.head += n;
    this.available -= n;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
