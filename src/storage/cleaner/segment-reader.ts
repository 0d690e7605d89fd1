/**
 * Reading a segment's batches in bounded chunks, for the log cleaner: each call returns the whole batches that
 * start at a byte position and fit in about `maxBytes` (at least one batch, however large), each validated (length,
 * magic, CRC-32C). Reads go through LogSegment.readInto, so they share the log's fd pool and never need indexes.
 */
import { validateBatch } from '../../protocol/records/index.js';
import type { LogSegment } from '../segment/log-segment.js';

const LOG_OVERHEAD = 12;
const HEADER_SIZE = 61;

export interface BatchChunk {
  /** The bytes read; the batches are views into it. */
  batches: Buffer[];
  /** Bytes consumed (the next chunk starts at position + bytes). */
  bytes: number;
}

/** The whole batches starting at `position` up to about `maxBytes`, up to the segment size `end`. */
export function readBatchChunk(seg: LogSegment, position: number, end: number, maxBytes: number): BatchChunk {
  const remaining = end - position;
  if (remaining <= 0) return { batches: [], bytes: 0 };
  let want = Math.min(Math.max(maxBytes, HEADER_SIZE), remaining);
  let buf = Buffer.allocUnsafe(want);
  let got = seg.readInto(buf, 0, position, want);
  if (got >= LOG_OVERHEAD) {
    const first = LOG_OVERHEAD + buf.readInt32BE(8);
    if (first > got && first <= remaining) {
      want = first;
      buf = Buffer.allocUnsafe(want);
      got = seg.readInto(buf, 0, position, want);
    }
  }
  const batches: Buffer[] = [];
  let at = 0;
  while (got - at >= HEADER_SIZE) {
    const size = LOG_OVERHEAD + buf.readInt32BE(at + 8);
    if (size > got - at) break;
    validateBatch(buf, at, at + size);
    batches.push(buf.subarray(at, at + size));
    at += size;
  }
  if (at === 0) {
    throw new Error(`segment ${seg.path}: no whole batch at byte ${position} (${got} bytes read, ${remaining} left)`);
  }
  return { batches, bytes: at };
}
