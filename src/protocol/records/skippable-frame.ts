import type { ProtocolError } from '../codec/protocol-error.js';

const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_MASK = 0xfffffff0;

/**
 * LZ4 and zstd share one kind of skippable frame: a magic 0x184D2A50..5F, a uint32 LE size, then that many bytes.
 * Returns where the skippable frame starting at `pos` ends, or -1 when `magic` (read at `pos`) is not one.
 */
export function skippableFrameEnd(
  src: Buffer,
  pos: number,
  magic: number,
  corrupt: (message: string) => ProtocolError,
): number {
  if ((magic & SKIPPABLE_MASK) >>> 0 !== SKIPPABLE_MAGIC) return -1;
  if (src.length - pos < 8) throw corrupt('truncated skippable frame');
  const size = src.readUInt32LE(pos + 4);
  if (size > src.length - pos - 8) throw corrupt('truncated skippable frame');
  return pos + 8 + size;
}
