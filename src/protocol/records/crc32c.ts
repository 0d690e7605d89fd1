/**
 * CRC-32C (Castagnoli), the checksum of record batch v2, and CRC-32 (IEEE, as zlib computes it), the checksum of
 * legacy v0/v1 messages. Both return the unsigned 32-bit value.
 *
 * `crc32c` uses the hardware-accelerated implementation from @node-rs/crc32 for large inputs. It was measured
 * against the pure-JS slicing-by-8 table implementation below (`crc32cJs`, kept as the reference): on the 2-core
 * dev machine (AMD EPYC, Node 20) over 1 MiB the native one does ~3,600 MB/s and the JS one ~900 MB/s, but every
 * native call costs ~250 ns of N-API overhead, so below NATIVE_MIN_BYTES (a batch of a record or two) the JS loop
 * is as fast or faster and is used instead. bench/records.ts repeats the measurement.
 */
import { crc32 as nativeCrc32, crc32c as nativeCrc32c } from '@node-rs/crc32';

/** Below this size the N-API call costs as much as the table loop (crossover measured at 256-384 bytes). */
const NATIVE_MIN_BYTES = 256;

/** Reflected Castagnoli polynomial. */
const POLY = 0x82f63b78;

/** 8 tables of 256 entries for slicing-by-8: TABLE[k * 256 + b] is the CRC of byte b followed by k zero bytes. */
const TABLE = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + i] = c;
    }
  }
  return t;
}

/** Pure-JS CRC-32C (slicing-by-8). `initial` is a previous result, to continue a checksum over split input. */
export function crc32cJs(buf: Uint8Array, initial = 0): number {
  const t = TABLE;
  let crc = ~initial;
  let i = 0;
  const n = buf.length;
  const end8 = n - (n & 7);
  while (i < end8) {
    const lo = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
    i += 8;
  }
  while (i < n) crc = t[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** CRC-32C of `buf`, continuing from `initial` (a previous result) when given. Unsigned. */
export function crc32c(buf: Uint8Array, initial = 0): number {
  if (buf.length < NATIVE_MIN_BYTES) return crc32cJs(buf, initial);
  return nativeCrc32c(buf, initial) >>> 0;
}

/** CRC-32 (IEEE 802.3, as zlib computes it) for legacy v0/v1 messages. Unsigned. */
export function crc32(buf: Uint8Array, initial = 0): number {
  return nativeCrc32(buf, initial) >>> 0;
}
