/**
 * Snappy for Kafka.
 *
 * Two forms exist on the wire. The Java client compresses with snappy-java's SnappyOutputStream, whose "xerial"
 * framing is: the 8-byte magic 0x82 'SNAPPY' 0x00, int32 version (1), int32 minimum compatible version (1), then
 * chunks of [int32 compressed length][raw snappy block], each block holding up to 32 KiB of input. librdkafka
 * writes one raw snappy block without framing. Every Kafka decoder (the Java client, whose SnappyInputStream falls
 * back to a raw block when the magic is missing; librdkafka; franz-go; kafka-python; Sarama) accepts both.
 *
 * We write the xerial form because that is what Kafka's own implementation (the Java client and the broker when it
 * recompresses) produces, so it is the form every consumer is tested against. We read both.
 *
 * Each raw block starts with its uncompressed length as a varint; the output limit is checked against those
 * lengths before anything is decompressed, and the native decoder fails if a block's content disagrees with its
 * declared length, so a bomb cannot allocate more than the limit.
 */
import { ProtocolError } from '../codec/protocol-error.js';
import { snappyBinding } from './native-codecs.js';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's default SnappyOutputStream block size, which the Java client uses. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

function corrupt(message: string): ProtocolError {
  return new ProtocolError('corrupt-record', `snappy: ${message}`);
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError('corrupt-record', `snappy: decompressed data exceeds the limit of ${maxBytes} bytes`);
}

/** Compresses into the xerial-framed form (see the module comment). */
export function snappyCompress(buf: Buffer): Buffer {
  const header = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  const parts: Buffer[] = [header];
  let total = XERIAL_HEADER_SIZE;
  // At least one chunk, even for empty input: some readers only recognise the framing when a chunk follows.
  let pos = 0;
  do {
    const block = snappyBinding().compressSync(buf.subarray(pos, pos + XERIAL_BLOCK_SIZE));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    total += 4 + block.length;
    pos += XERIAL_BLOCK_SIZE;
  } while (pos < buf.length);
  return Buffer.concat(parts, total);
}

/** Compresses into one raw snappy block (librdkafka's form). */
export function snappyCompressRaw(buf: Buffer): Buffer {
  return snappyBinding().compressSync(buf);
}

/** Whether `src` starts with the xerial framing header. */
export function isXerialFramed(src: Uint8Array): boolean {
  if (src.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (src[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length declared at the start of a raw snappy block (a varint of at most 32 bits). */
function declaredLength(src: Buffer, start: number, end: number): number {
  let result = 0;
  for (let i = 0; i < 5; i++) {
    if (start + i >= end) throw corrupt('truncated block length');
    const b = src[start + i]!;
    result += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (result > 0xffffffff) break;
      return result;
    }
  }
  throw corrupt('block length varint is too long');
}

function uncompressBlock(block: Buffer): Buffer {
  try {
    return snappyBinding().uncompressSync(block) as Buffer;
  } catch (e) {
    throw corrupt((e as Error).message);
  }
}

/** Decompresses raw or xerial-framed snappy data, refusing to produce more than `maxBytes`. */
export function snappyDecompress(src: Buffer, maxBytes: number): Buffer {
  if (!isXerialFramed(src)) {
    if (declaredLength(src, 0, src.length) > maxBytes) throw tooLarge(maxBytes);
    return uncompressBlock(src);
  }
  // Pass 1: check the chunk structure and the total declared length.
  let total = 0;
  let chunks = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < src.length) {
    if (src.length - pos < 4) throw corrupt('truncated chunk length');
    const len = src.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > src.length - pos) throw corrupt(`invalid chunk length ${len}`);
    total += declaredLength(src, pos, pos + len);
    if (total > maxBytes) throw tooLarge(maxBytes);
    pos += len;
    chunks++;
  }
  // Pass 2: decompress each chunk (natively: a JS block decoder writing straight into the output measured 2-3x
  // slower than this) and join them.
  pos = XERIAL_HEADER_SIZE;
  if (chunks === 1) return uncompressBlock(src.subarray(pos + 4));
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  while (pos < src.length) {
    const len = src.readInt32BE(pos);
    pos += 4;
    const block = uncompressBlock(src.subarray(pos, pos + len));
    block.copy(out, at);
    at += block.length;
    pos += len;
  }
  return out.subarray(0, at);
}
