/**
 * Kafka's compression codecs, by the id carried in the low 3 bits of a batch's (or legacy message's) attributes.
 * Synchronous, because batch decoding is synchronous. Decompression is always bounded: output beyond `maxBytes`
 * is refused with ProtocolError('corrupt-record') before it is allocated, so a decompression bomb costs at most
 * the limit. Any malformed input is a ProtocolError('corrupt-record') too.
 */
import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ProtocolError } from '../codec/protocol-error.js';
import { lz4Compress, lz4Decompress } from './lz4.js';
import { snappyCompress, snappyDecompress } from './snappy.js';
import { zstdCompress, zstdDecompress } from './zstd.js';

export const Compression = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;

export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

export const COMPRESSION_NAMES: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Default limit on the output of one decompression (and, in decodeRecordBatches, of one call). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface CompressOptions {
  /** Codec-specific level (gzip 1-9, zstd 1-22); the codec's default when absent. */
  level?: number;
}

export interface DecompressOptions {
  /** Refuse output larger than this (default DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxBytes?: number;
  /**
   * The data comes from a magic 0 message: accept LZ4 frames with the wrong header checksum that Kafka 0.8/0.9
   * wrote (KAFKA-3160).
   */
  legacyLz4?: boolean;
}

function unknownCodec(codec: number): ProtocolError {
  return new ProtocolError('corrupt-record', `unknown compression codec ${codec}`);
}

export function isCompressionCodec(codec: number): codec is CompressionCodec {
  return Number.isInteger(codec) && codec >= 0 && codec <= 4;
}

export function compress(codec: number, buf: Buffer, opts?: CompressOptions): Buffer {
  switch (codec) {
    case Compression.none:
      return buf;
    case Compression.gzip:
      return gzipSync(buf, opts?.level === undefined ? undefined : { level: opts.level });
    case Compression.snappy:
      return snappyCompress(buf);
    case Compression.lz4:
      return lz4Compress(buf);
    case Compression.zstd:
      return zstdCompress(buf, opts?.level);
    default:
      throw unknownCodec(codec);
  }
}

export function decompress(codec: number, buf: Buffer, opts?: DecompressOptions): Buffer {
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  switch (codec) {
    case Compression.none:
      if (buf.length > maxBytes) {
        throw new ProtocolError('corrupt-record', `data exceeds the limit of ${maxBytes} bytes`);
      }
      return buf;
    case Compression.gzip:
      return gunzip(buf, maxBytes);
    case Compression.snappy:
      return snappyDecompress(buf, maxBytes);
    case Compression.lz4:
      return lz4Decompress(buf, maxBytes, opts?.legacyLz4 ?? false);
    case Compression.zstd:
      return zstdDecompress(buf, maxBytes);
    default:
      throw unknownCodec(codec);
  }
}

function gunzip(buf: Buffer, maxBytes: number): Buffer {
  try {
    // maxOutputLength makes zlib stop (and throw) as soon as the output would pass the limit.
    const out = gunzipSync(buf, { maxOutputLength: Math.max(1, Math.min(maxBytes, bufferConstants.MAX_LENGTH)) });
    if (out.length > maxBytes) throw Object.assign(new Error('too large'), { code: 'ERR_BUFFER_TOO_LARGE' });
    return out;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ProtocolError('corrupt-record', `gzip: decompressed data exceeds the limit of ${maxBytes} bytes`);
    }
    throw new ProtocolError('corrupt-record', `gzip: ${err.message}`);
  }
}
