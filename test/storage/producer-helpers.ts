/** Batches of idempotent producers for storage tests, and reading back who wrote what. */
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/records/index.js';
import type { PartitionLog } from '../../src/storage/types.js';

export const BASE_TS = 1_700_000_000_000;

export interface IdemBatch {
  pid: bigint;
  epoch?: number;
  seq: number;
  /** Records in the batch (default 1). */
  count?: number;
  ts?: number;
  codec?: number;
  /** Prefix of the record values (default `p<pid>`); each value is `<prefix>-<seq of the record>`. */
  tag?: string;
}

/** One v2 batch of `count` records whose values name producer and sequence; producer id -1 when `pid` is -1n. */
export function idemBatch(b: IdemBatch): Buffer {
  const count = b.count ?? 1;
  const ts = BigInt(b.ts ?? BASE_TS);
  const tag = b.tag ?? `p${b.pid}`;
  return encodeRecordBatch({
    compression: b.codec ?? 0,
    producerId: b.pid,
    producerEpoch: b.pid < 0n ? -1 : (b.epoch ?? 0),
    baseSequence: b.pid < 0n ? -1 : b.seq,
    baseTimestamp: ts,
    records: Array.from({ length: count }, (_, i) => ({
      key: `k${i}`,
      value: `${tag}-${(b.seq + i) % 2 ** 31}`,
      timestamp: ts + BigInt(i),
    })),
  });
}

/** Every record value in the log from its start, in offset order, with its offset. */
export function logValues(log: PartitionLog): { offset: bigint; value: string }[] {
  const out: { offset: bigint; value: string }[] = [];
  let at = log.logStartOffset;
  while (at < log.logEndOffset) {
    const r = log.read(at, { maxBytes: 1 << 20 });
    if (r.records.length === 0) break;
    for (const batch of decodeRecordBatches(r.records)) {
      for (const rec of batch.records) {
        if (rec.offset >= at) out.push({ offset: rec.offset, value: rec.value!.toString() });
      }
      at = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
    }
  }
  return out;
}
