// Helpers for the log cleaner tests: keyed batches, reading every record back, and a log ready for compaction.
import { decodeRecordBatches, encodeRecordBatch } from '../../../src/protocol/records/index.js';
import type { LogConfig } from '../../../src/storage/config.js';
import type { SegmentLog } from '../../../src/storage/segment-log.js';
import { BASE_TS, smallConfig } from '../segment/helpers.js';

export { BASE_TS };

export type KV = [key: string | null, value: string | null];

/** One batch of keyed records with timestamps ts, ts+1, ... */
export function kvBatch(records: KV[], ts = BASE_TS, compression = 0): Buffer {
  return encodeRecordBatch({
    baseTimestamp: BigInt(ts),
    compression,
    records: records.map(([key, value], i) => ({ key, value, timestamp: BigInt(ts + i) })),
  });
}

/** Appends one batch and moves the high watermark to the log end (the cleaner stays below it). */
export function put(log: SegmentLog, records: KV[], ts = BASE_TS): void {
  log.append(kvBatch(records, ts), { now: ts });
  log.highWatermark = log.logEndOffset;
}

export interface Rec {
  offset: bigint;
  key: string | null;
  value: string | null;
  timestamp: bigint;
}

/** Every record the log returns from its start, in order. */
export function readRecords(log: SegmentLog): Rec[] {
  const out: Rec[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, { maxBytes: 1 << 20 });
    const batches = decodeRecordBatches(r.records);
    if (batches.length === 0) break;
    for (const b of batches) {
      for (const rec of b.records) {
        out.push({
          offset: rec.offset,
          key: rec.key === null ? null : rec.key.toString(),
          value: rec.value === null ? null : rec.value.toString(),
          timestamp: rec.timestamp,
        });
      }
    }
    const last = batches.at(-1)!;
    offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
  }
  return out;
}

/** Tiny segments, compaction on, every tombstone kept a minute, the dirty ratio low enough to always clean. */
export function compactConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return smallConfig({
    segmentBytes: 1024,
    cleanupPolicy: ['compact'],
    deleteRetentionMs: 60_000,
    minCleanableDirtyRatio: 0.01,
    retentionMs: -1,
    ...overrides,
  });
}
