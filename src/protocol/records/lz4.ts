/**
 * LZ4 for Kafka: the LZ4 frame format (KIP-57), as the Java client and librdkafka write it.
 *
 * Compression uses lz4-napi's frame encoder (independent blocks, no checksums, 256 KiB blocks; every Kafka
 * client reads that). Decompression first walks the frame structure in JS, which is cheap (one length per block),
 * to validate it and to bound the output: when the bound fits the caller's limit, the whole frame goes to the
 * native decoder in one call; otherwise (a possible decompression bomb, several frames, or a legacy frame) the
 * blocks are decoded here in JS into an output that never grows past the limit.
 *
 * Legacy: Kafka 0.8-0.9 (magic 0 messages) computed the frame header checksum over the magic number too
 * (KAFKA-3160). Like the Java client, the header checksum is not checked when `legacy` is set.
 */
import { ProtocolError } from '../codec/protocol-error.js';
import { lz4Binding } from './native-codecs.js';
import { skippableFrameEnd } from './skippable-frame.js';
import { xxh32 } from './xxhash32.js';

const FRAME_MAGIC = 0x184d2204;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const UNCOMPRESSED_BLOCK = 0x80000000;

/** Maximum block size by the BD byte's size id (4..7). */
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

function corrupt(message: string): ProtocolError {
  return new ProtocolError('corrupt-record', `lz4: ${message}`);
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError('corrupt-record', `lz4: decompressed data exceeds the limit of ${maxBytes} bytes`);
}

export function lz4Compress(buf: Buffer): Buffer {
  return lz4Binding().compressFrameSync(buf);
}

interface FrameHeader {
  flags: number;
  blockMax: number;
  /** Position of the first block. */
  dataStart: number;
  /** Declared content size, or -1. */
  contentSize: number;
}

/** Parses and checks one frame descriptor at `pos`. */
function readFrameHeader(src: Buffer, pos: number, legacy: boolean): FrameHeader {
  if (src.length - pos < 7) throw corrupt('truncated frame header');
  const flags = src[pos + 4]!;
  const bd = src[pos + 5]!;
  if (flags >>> 6 !== 1) throw corrupt(`unsupported frame version ${flags >>> 6}`);
  if ((flags & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt('reserved bits set in frame descriptor');
  const blockMax = BLOCK_MAX[(bd >>> 4) & 7]!;
  if (blockMax === 0) throw corrupt(`invalid block size id ${(bd >>> 4) & 7}`);
  let p = pos + 6;
  let contentSize = -1;
  if (flags & FLG_CONTENT_SIZE) {
    if (src.length - p < 8) throw corrupt('truncated frame header');
    const hi = src.readUInt32LE(p + 4);
    // Anything at or above 2^53 is absurd for one batch: treat it as "too large".
    contentSize = hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + src.readUInt32LE(p);
    p += 8;
  }
  if (flags & FLG_DICT_ID) {
    // Kafka never uses dictionaries; data that needs one cannot be decoded.
    throw corrupt('frames that need a dictionary are not supported');
  }
  if (src.length - p < 1) throw corrupt('truncated frame header');
  if (!legacy) {
    const hc = (xxh32(src, pos + 4, p) >>> 8) & 0xff;
    if (hc !== src[p]) throw corrupt('frame header checksum mismatch');
  }
  return { flags, blockMax, dataStart: p + 1, contentSize };
}

interface FrameWalk {
  /** Number of LZ4 frames (skippable frames not counted). */
  frames: number;
  /** Whether there are skippable frames. */
  skippable: boolean;
  /** Upper bound of the decompressed size. */
  bound: number;
}

/** Validates the frame and block structure of `src` and bounds the decompressed size, without decoding. */
function walkFrames(src: Buffer, legacy: boolean, maxBytes: number): FrameWalk {
  let pos = 0;
  let frames = 0;
  let skippable = false;
  let bound = 0;
  if (src.length === 0) throw corrupt('empty input');
  while (pos < src.length) {
    if (src.length - pos < 4) throw corrupt('trailing bytes after the last frame');
    const magic = src.readUInt32LE(pos);
    const skipTo = skippableFrameEnd(src, pos, magic, corrupt);
    if (skipTo >= 0) {
      pos = skipTo;
      skippable = true;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`);
    const h = readFrameHeader(src, pos, legacy);
    if (h.contentSize > maxBytes) throw tooLarge(maxBytes);
    frames++;
    pos = h.dataStart;
    let frameBound = 0;
    const blockChecksum = h.flags & FLG_BLOCK_CHECKSUM ? 4 : 0;
    while (true) {
      if (src.length - pos < 4) throw corrupt('truncated block header');
      const word = src.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = (word & ~UNCOMPRESSED_BLOCK) >>> 0;
      if (size > h.blockMax) throw corrupt(`block of ${size} bytes exceeds the frame's maximum ${h.blockMax}`);
      if (size + blockChecksum > src.length - pos) throw corrupt('truncated block');
      pos += size + blockChecksum;
      frameBound += word & UNCOMPRESSED_BLOCK ? size : h.blockMax;
    }
    if (h.flags & FLG_CONTENT_CHECKSUM) {
      if (src.length - pos < 4) throw corrupt('truncated content checksum');
      pos += 4;
    }
    bound += h.contentSize >= 0 ? Math.min(h.contentSize, frameBound) : frameBound;
  }
  return { frames, skippable, bound };
}

/** Output buffer that grows by doubling but never past `max` bytes. */
class Output {
  buf: Buffer;
  len = 0;
  readonly max: number;

  constructor(initial: number, max: number) {
    this.max = max;
    this.buf = Buffer.allocUnsafe(Math.max(0, Math.min(initial, max)));
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): Buffer {
    const need = this.len + n;
    if (need > this.buf.length) {
      if (need > this.max) throw tooLarge(this.max);
      const next = Buffer.allocUnsafe(Math.min(this.max, Math.max(need, this.buf.length * 2, 4096)));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    return this.buf;
  }
}

/**
 * Decodes one LZ4 block `src[sp, end)` onto `out`. Matches may reach back into earlier output of the same frame
 * (`frameStart`), which also covers linked blocks.
 */
function decodeBlock(src: Buffer, sp: number, end: number, out: Output, frameStart: number): void {
  while (sp < end) {
    const token = src[sp++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (sp >= end) throw corrupt('truncated literal length');
        b = src[sp++]!;
        lit += b;
      } while (b === 255);
    }
    if (lit > end - sp) throw corrupt('literals run past the end of the block');
    if (lit > 0) {
      const o = out.reserve(lit);
      if (lit > 16) {
        src.copy(o, out.len, sp, sp + lit);
      } else {
        for (let k = 0; k < lit; k++) o[out.len + k] = src[sp + k]!;
      }
      out.len += lit;
      sp += lit;
    }
    if (sp === end) return;
    if (end - sp < 2) throw corrupt('truncated match offset');
    const offset = src[sp]! | (src[sp + 1]! << 8);
    sp += 2;
    if (offset === 0 || offset > out.len - frameStart) throw corrupt(`invalid match offset ${offset}`);
    let mlen = (token & 15) + 4;
    if (mlen === 19) {
      let b: number;
      do {
        if (sp >= end) throw corrupt('truncated match length');
        b = src[sp++]!;
        mlen += b;
      } while (b === 255);
    }
    const o = out.reserve(mlen);
    let op = out.len;
    let from = op - offset;
    if (offset >= mlen && mlen > 32) {
      o.copyWithin(op, from, from + mlen);
    } else {
      const stop = op + mlen;
      while (op < stop) o[op++] = o[from++]!;
    }
    out.len += mlen;
  }
}

/** The JS decoder: exact output limit, all frames, checksums verified (header checksum unless legacy). */
function decodeFrames(src: Buffer, maxBytes: number, legacy: boolean, sizeHint: number): Buffer {
  const out = new Output(sizeHint, maxBytes);
  let pos = 0;
  while (pos < src.length) {
    const skipTo = skippableFrameEnd(src, pos, src.readUInt32LE(pos), corrupt);
    if (skipTo >= 0) {
      pos = skipTo;
      continue;
    }
    const h = readFrameHeader(src, pos, legacy);
    const frameStart = out.len;
    pos = h.dataStart;
    const blockChecksum = (h.flags & FLG_BLOCK_CHECKSUM) !== 0;
    while (true) {
      const word = src.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = (word & ~UNCOMPRESSED_BLOCK) >>> 0;
      if (word & UNCOMPRESSED_BLOCK) {
        const o = out.reserve(size);
        src.copy(o, out.len, pos, pos + size);
        out.len += size;
      } else {
        decodeBlock(src, pos, pos + size, out, frameStart);
      }
      if (blockChecksum) {
        if (xxh32(src, pos, pos + size) !== src.readUInt32LE(pos + size)) throw corrupt('block checksum mismatch');
        pos += 4;
      }
      pos += size;
    }
    if (h.contentSize >= 0 && h.contentSize !== out.len - frameStart) {
      throw corrupt(`frame declares ${h.contentSize} bytes but holds ${out.len - frameStart}`);
    }
    if (h.flags & FLG_CONTENT_CHECKSUM) {
      if (xxh32(out.buf, frameStart, out.len) !== src.readUInt32LE(pos)) throw corrupt('content checksum mismatch');
      pos += 4;
    }
  }
  return out.buf.subarray(0, out.len);
}

/**
 * Decompresses LZ4 frame data, refusing to produce more than `maxBytes`. `legacy` skips the frame header checksum
 * (magic 0 messages, see the module comment). Every failure is a ProtocolError('corrupt-record').
 */
export function lz4Decompress(src: Buffer, maxBytes: number, legacy = false): Buffer {
  const walk = walkFrames(src, legacy, maxBytes);
  if (walk.frames === 1 && !walk.skippable && !legacy && walk.bound <= maxBytes) {
    let out: Buffer;
    try {
      out = lz4Binding().decompressFrameSync(src);
    } catch (e) {
      throw corrupt((e as Error).message);
    }
    if (out.length > maxBytes) throw tooLarge(maxBytes);
    return out;
  }
  return decodeFrames(src, maxBytes, legacy, Math.min(walk.bound, src.length * 4 + 1024));
}

/** The JS decoder alone, for tests and benchmarks. */
export function lz4DecompressJs(src: Buffer, maxBytes: number, legacy = false): Buffer {
  const walk = walkFrames(src, legacy, maxBytes);
  return decodeFrames(src, maxBytes, legacy, Math.min(walk.bound, src.length * 4 + 1024));
}
