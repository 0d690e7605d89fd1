/**
 * The per-batch rule of the log cleaner: given one stored v2 batch and the cleaning context (the latest offset of
 * every key in the dirty section, the pass time, delete.retention.ms), decide what of the batch survives.
 *
 * - Control batches and transactional batches are kept byte for byte (transactions are handled later; until then
 *   their records are neither removed nor allowed to supersede anything: they never enter the offset map).
 * - Records with a null key are kept (Kafka refuses them on compacted topics at produce time; the cleaner has no
 *   key to compare, so it keeps what was stored rather than silently losing it).
 * - A keyed record is dropped when the map holds a later offset for its key.
 * - A tombstone (null value) that survives the key rule is kept until the batch's delete horizon (KIP-534): the
 *   first pass that keeps it rewrites the batch with the DELETE_HORIZON attribute bit set and the base timestamp
 *   set to `now + delete.retention.ms` (record timestamps keep their values: their deltas are re-encoded against the
 *   new base). A later pass at or after the horizon drops it.
 * - A rewritten batch keeps its base offset, partition leader epoch, producer fields, compression codec, timestamp
 *   type and its last offset delta, so its offset range never changes; surviving records keep their offsets. A batch
 *   left empty is dropped unless the caller asks to keep it as an empty batch (the cleaner keeps the last batch of
 *   each output segment so that the segment still covers its whole offset range; see clean-pass.ts).
 * - A batch with nothing to change is returned as the very same bytes.
 */
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
} from '../../protocol/records/batch-header.js';
import {
  crc32c,
  DELETE_HORIZON_BIT,
  decodeRecordBatches,
  encodeRecordBatch,
  type KafkaRecord,
  type RecordBatchHeader,
  readBatchHeader,
} from '../../protocol/records/index.js';

const INT64_MAX = 2n ** 63n - 1n;

/** The key of a record as a map key: one char per byte, so any bytes compare exactly. */
export function mapKey(key: Buffer): string {
  return key.toString('latin1');
}

export interface FilterContext {
  /** Latest offset per key (mapKey) among the dirty section's non-transactional records. */
  latest: ReadonlyMap<string, bigint>;
  /** Pass time in ms. */
  now: number;
  /** delete.retention.ms */
  deleteRetentionMs: number;
}

export interface FilterResult {
  /** The bytes to keep (the input itself when unchanged), or null when the batch is dropped. */
  out: Buffer | null;
  /** Whether `out` differs from the input. */
  changed: boolean;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** The delete horizon of the kept batch when it still holds tombstones, else null. */
  horizon: bigint | null;
}

/** The delete horizon a tombstone first kept at `now` gets. */
export function deleteHorizon(now: number, deleteRetentionMs: number): bigint {
  const h = BigInt(Math.trunc(now)) + BigInt(Math.max(0, Math.trunc(deleteRetentionMs)));
  return h > INT64_MAX ? INT64_MAX : h;
}

/** Whether the cleaner may ever change this batch (control and transactional batches are kept as they are). */
export function isCleanable(h: RecordBatchHeader): boolean {
  return !h.isControl && !h.isTransactional;
}

/** Applies the cleaning rules (module comment) to the one batch in `batch`. */
export function filterBatch(batch: Buffer, ctx: FilterContext): FilterResult {
  const header = readBatchHeader(batch, 0);
  if (!isCleanable(header)) return keep(batch, null);
  const decoded = decodeRecordBatches(batch, { allowPartialTail: false })[0]!;
  const horizonPassed = decoded.hasDeleteHorizon && BigInt(Math.trunc(ctx.now)) >= decoded.baseTimestamp;
  const kept: KafkaRecord[] = [];
  let tombstonesRemoved = 0;
  let tombstonesKept = 0;
  for (const r of decoded.records) {
    if (r.key !== null) {
      const latest = ctx.latest.get(mapKey(r.key));
      if (latest !== undefined && latest > r.offset) continue;
      if (r.value === null) {
        if (horizonPassed) {
          tombstonesRemoved++;
          continue;
        }
        tombstonesKept++;
      }
    }
    kept.push(r);
  }
  const removed = decoded.records.length - kept.length;
  const horizon =
    tombstonesKept === 0
      ? null
      : decoded.hasDeleteHorizon
        ? decoded.baseTimestamp
        : deleteHorizon(ctx.now, ctx.deleteRetentionMs);
  const needsHorizon = tombstonesKept > 0 && !decoded.hasDeleteHorizon;
  if (removed === 0 && !needsHorizon) return keep(batch, horizon);
  const result: FilterResult = { out: null, changed: true, recordsRemoved: removed, tombstonesRemoved, horizon };
  if (kept.length === 0) return result;
  const out = encodeRecordBatch({
    baseOffset: decoded.baseOffset,
    partitionLeaderEpoch: decoded.partitionLeaderEpoch,
    compression: decoded.compression,
    timestampType: decoded.timestampType,
    producerId: decoded.producerId,
    producerEpoch: decoded.producerEpoch,
    baseSequence: decoded.baseSequence,
    baseTimestamp: horizon ?? decoded.baseTimestamp,
    records: kept.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: Number(r.offset - decoded.baseOffset),
    })),
  });
  // Keep the batch's offset range and mark the delete horizon: both are header fields covered by the CRC.
  let attributes = out.readInt16BE(ATTRIBUTES_OFFSET);
  attributes = horizon !== null ? attributes | DELETE_HORIZON_BIT : attributes & ~DELETE_HORIZON_BIT;
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  out.writeInt32BE(decoded.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  result.out = out;
  return result;
}

/**
 * A batch with no records covering the same offsets as `header` (base offset and last offset delta) and keeping
 * its max timestamp (so that time-based retention and the segment's time index see the same age as before): what
 * stands in for the last batch of an output segment when all of its records were removed.
 */
export function emptyBatchLike(header: RecordBatchHeader): Buffer {
  const out = encodeRecordBatch({
    baseOffset: header.baseOffset,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    timestampType: header.timestampType,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    baseTimestamp: -1n,
    records: [],
  });
  out.writeInt32BE(header.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  out.writeBigInt64BE(header.maxTimestamp, MAX_TIMESTAMP_OFFSET);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}

function keep(batch: Buffer, horizon: bigint | null): FilterResult {
  return { out: batch, changed: false, recordsRemoved: 0, tombstonesRemoved: 0, horizon };
}
