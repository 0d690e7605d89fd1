/**
 * The varints of record batch v2 (unsigned LEB128, zig-zag for signed values) over plain numbers, written straight
 * into a preallocated buffer: what the record encoder and the producer's incremental batch builder both use on
 * their hot paths. Lengths and deltas that need 64 bits stay safe integers (< 2^53) here; the encoder handles the
 * rare bigint case itself.
 */
import { uvarintSize } from '../codec/writer.js';

export { uvarintSize };

export function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

/** Zig-zag of a 64-bit value that is a safe integer. */
export function zigzag64(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** Size of an unsigned varint of a non-negative safe integer (up to 8 bytes for 2^53). */
export function uvarlongSize(v: number): number {
  if (v <= 0xffffffff) return uvarintSize(v);
  let size = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

export function writeUvarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function writeUvarlong(buf: Buffer, pos: number, v: number): number {
  if (v <= 0xffffffff) return writeUvarint(buf, pos, v);
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}
