/**
 * Kafka's response framing (int32 size, then that many bytes) read from a socket straight into place: the socket's
 * reads go into a buffer this class hands out (net's `onread` option) instead of into chunks that are copied into a
 * frame afterwards. While a frame is incomplete, reads land in the frame itself, so a large Fetch answer is never
 * copied in JavaScript and no chunk garbage is left behind; between frames they land in a reusable scratch buffer,
 * from which small answers (several may come in one read) are copied out.
 *
 * Bounds: a size under 4 or over `maxFrameBytes` is reported through `onBadSize` before anything is allocated.
 */

/** Reads between frames go here; large enough for the small answers and the start of a large one. */
const SCRATCH_BYTES = 64 * 1024;
const SIZE_BYTES = 4;

export interface FrameHandlers {
  /** A whole frame (its bytes after the size), owned by the receiver of the call. */
  frame(frame: Buffer): void;
  /** A size out of bounds: the stream cannot be framed any further. */
  badSize(size: number): void;
}

export class FrameReceiver {
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** Unread bytes of the scratch buffer: [start, end). */
  private start = 0;
  private end = 0;
  /** The frame being read into, and how much of it is filled. */
  private frame: Buffer | null = null;
  private filled = 0;
  private handlers: FrameHandlers | null = null;
  private failed = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Where complete frames go; bytes that arrive before this is set wait in the receiver. */
  attach(handlers: FrameHandlers): void {
    this.handlers = handlers;
    this.drain();
  }

  /** `onread` for net.connect: the receiver picks the buffer of every read. */
  get onread(): { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean } {
    return {
      buffer: () => this.target(),
      callback: (n) => {
        this.received(n);
        return true;
      },
    };
  }

  /** The memory the next read fills: the rest of the current frame, else the free end of the scratch buffer. */
  private target(): Uint8Array {
    if (this.frame !== null) return this.frame.subarray(this.filled);
    return this.scratch.subarray(this.end);
  }

  private received(n: number): void {
    if (this.failed) return;
    if (this.frame !== null) {
      this.filled += n;
      if (this.filled < this.frame.length) return;
      const whole = this.frame;
      this.frame = null;
      this.filled = 0;
      this.handlers?.frame(whole);
      // Anything after it arrives in later reads (a read never goes past the frame's end).
      return;
    }
    this.end += n;
    this.drain();
  }

  /** Hands out the whole frames in the scratch buffer; starts reading into the next one if it is cut off. */
  private drain(): void {
    if (this.handlers === null) return;
    while (!this.failed && this.frame === null && this.end - this.start >= SIZE_BYTES) {
      const size = this.scratch.readInt32BE(this.start);
      if (size < SIZE_BYTES || size > this.maxFrameBytes) {
        this.failed = true;
        this.handlers.badSize(size);
        return;
      }
      const bodyAt = this.start + SIZE_BYTES;
      const available = this.end - bodyAt;
      const frame = Buffer.allocUnsafe(size);
      if (available >= size) {
        this.scratch.copy(frame, 0, bodyAt, bodyAt + size);
        this.start = bodyAt + size;
        this.handlers.frame(frame);
      } else {
        this.scratch.copy(frame, 0, bodyAt, this.end);
        this.frame = frame;
        this.filled = available;
        this.start = 0;
        this.end = 0;
      }
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    } else if (this.frame === null && this.start > 0) {
      // A size cut off at the end: move it to the front so that the next read has room.
      this.scratch.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }
}
