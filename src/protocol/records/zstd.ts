/**
 * Zstandard for Kafka (KIP-110), through @bokuweb/zstd-wasm. The WebAssembly module is instantiated once, by a
 * top-level await when this module loads, so compress/decompress are synchronous afterwards.
 *
 * The library's one-shot decoder needs the output capacity up front: it uses the frame's declared content size
 * when present, and the capacity we pass otherwise (the Java client and librdkafka stream-compress, so their frames
 * usually declare none). So each frame's structure is walked here first (frame header, then one 3-byte header per
 * block of at most 128 KiB) to bound its output, and the capacity given is that bound clipped to what is left of
 * the caller's limit. A frame that needs more fails inside the decoder instead of allocating more.
 */
import { compress, decompress, init } from '@bokuweb/zstd-wasm';
import { ProtocolError } from '../codec/protocol-error.js';
import { skippableFrameEnd } from './skippable-frame.js';

await init();

const FRAME_MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;
/** The WebAssembly heap is limited to 2 GiB; no single frame may ask for more than this. */
const MAX_FRAME_OUTPUT = 1024 * 1024 * 1024;
const DEFAULT_LEVEL = 3;

function corrupt(message: string): ProtocolError {
  return new ProtocolError('corrupt-record', `zstd: ${message}`);
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError('corrupt-record', `zstd: decompressed data exceeds the limit of ${maxBytes} bytes`);
}

function toBuffer(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.length);
}

export function zstdCompress(buf: Buffer, level = DEFAULT_LEVEL): Buffer {
  return toBuffer(compress(buf, level));
}

interface Frame {
  start: number;
  end: number;
  /** Declared content size, or -1. */
  contentSize: number;
  /** Upper bound of the frame's output. */
  bound: number;
}

/** Walks one frame at `pos` without decoding it. */
function walkFrame(src: Buffer, pos: number): Frame {
  const n = src.length;
  if (n - pos < 6) throw corrupt('truncated frame header');
  const fhd = src[pos + 4]!;
  if (fhd & 0x08) throw corrupt('reserved bit set in frame header');
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const checksum = (fhd & 0x04) !== 0;
  const dictIdSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  let p = pos + 5 + (singleSegment ? 0 : 1) + dictIdSize;
  if (n - p < fcsSize) throw corrupt('truncated frame header');
  let contentSize = -1;
  if (fcsSize === 1) contentSize = src[p]!;
  else if (fcsSize === 2) contentSize = src.readUInt16LE(p) + 256;
  else if (fcsSize === 4) contentSize = src.readUInt32LE(p);
  else if (fcsSize === 8) {
    const hi = src.readUInt32LE(p + 4);
    contentSize = hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + src.readUInt32LE(p);
  }
  p += fcsSize;
  let bound = 0;
  while (true) {
    if (n - p < 3) throw corrupt('truncated block header');
    const h = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16);
    p += 3;
    const type = (h >>> 1) & 3;
    const size = h >>> 3;
    if (type === 3) throw corrupt('reserved block type');
    if (size > BLOCK_MAX) throw corrupt(`block size ${size} exceeds ${BLOCK_MAX}`);
    const stored = type === 1 ? 1 : size;
    if (n - p < stored) throw corrupt('truncated block');
    p += stored;
    bound += type === 2 ? BLOCK_MAX : size;
    if (h & 1) break;
  }
  if (checksum) {
    if (n - p < 4) throw corrupt('truncated content checksum');
    p += 4;
  }
  return { start: pos, end: p, contentSize, bound };
}

/** Decompresses zstd data (one or more frames), refusing to produce more than `maxBytes`. */
export function zstdDecompress(src: Buffer, maxBytes: number): Buffer {
  if (src.length === 0) throw corrupt('empty input');
  const frames: Frame[] = [];
  let pos = 0;
  while (pos < src.length) {
    if (src.length - pos < 4) throw corrupt('trailing bytes after the last frame');
    const magic = src.readUInt32LE(pos);
    const skipTo = skippableFrameEnd(src, pos, magic, corrupt);
    if (skipTo >= 0) {
      pos = skipTo;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`);
    const frame = walkFrame(src, pos);
    frames.push(frame);
    pos = frame.end;
  }
  const parts: Buffer[] = [];
  let total = 0;
  for (const f of frames) {
    const left = Math.min(maxBytes - total, MAX_FRAME_OUTPUT);
    if (f.contentSize > left) throw tooLarge(maxBytes);
    const capacity = f.contentSize >= 0 ? f.contentSize : Math.min(f.bound, left);
    let out: Buffer;
    try {
      // With a declared content size the library allocates exactly that (checked above); otherwise `capacity`.
      out = toBuffer(decompress(src.subarray(f.start, f.end), { defaultHeapSize: capacity }));
    } catch {
      throw f.bound > left
        ? corrupt(`data is corrupt or decompresses to more than the limit of ${maxBytes} bytes`)
        : corrupt('data is corrupt');
    }
    parts.push(out);
    total += out.length;
  }
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts, total);
}
