import assert from 'node:assert/strict';
import fsCjs, { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeRecordBatches,
  encodeRecordBatch,
  scanRecordSet,
  validateBatch,
} from '../../src/protocol/records/index.js';
import { logConfig } from '../../src/storage/config.js';
import { CachedFile, FileCache } from '../../src/storage/file-cache.js';
import { MemoryLog } from '../../src/storage/memory-log.js';
import { SegmentLog } from '../../src/storage/segment-log.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP, type PartitionLog } from '../../src/storage/types.js';
import { BASE_TS, batch, capturingLogger, openLog, smallConfig, tempDir } from './segment/helpers.js';

/** Offsets of every batch in a read, in order. */
function batchBases(records: Buffer): bigint[] {
  return scanRecordSet(records).map((b) => b.baseOffset);
}

/** Reads the whole log from its start, batch by batch, returning [base, last] per batch. */
function readAll(log: SegmentLog): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, { maxBytes: 1 << 20 });
    const batches = scanRecordSet(r.records);
    if (batches.length === 0) break;
    for (const b of batches) out.push([b.baseOffset, b.baseOffset + BigInt(b.lastOffsetDelta)]);
    const last = batches.at(-1)!;
    offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
  }
  return out;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
}

describe('SegmentLog', () => {
  describe('appends', () => {
    test('leaders assign offsets in place, stamp the epoch and record new epochs', () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig());
      const set = Buffer.concat([batch(3), batch(2)]);
      const r = log.append(set, { leaderEpoch: 4, now: BASE_TS + 10 });
      assert.deepEqual(
        [r.firstOffset, r.lastOffset, r.batchCount, r.recordCount, r.bytes, r.logAppendTime],
        [0n, 4n, 2, 5, set.length, -1n],
      );
      assert.equal(r.maxTimestamp, BigInt(BASE_TS + 2));
      const stored = scanRecordSet(log.read(0n, { maxBytes: 10_000 }).records);
      assert.deepEqual(
        stored.map((b) => [b.baseOffset, b.partitionLeaderEpoch]),
        [
          [0n, 4],
          [3n, 4],
        ],
      );
      assert.equal(set.readBigInt64BE(0), 0n, 'rewritten in the caller buffer: no copy');
      log.append(batch(1), { leaderEpoch: 6 });
      assert.deepEqual(log.endOffsetForEpoch(4), { epoch: 4, endOffset: 5n });
      assert.deepEqual(log.endOffsetForEpoch(6), { epoch: 6, endOffset: 6n });
      assert.ok(readFileSync(join(dir, 'leader-epoch-checkpoint'), 'utf8').includes('6 5'));
    });

    test('LogAppendTime rewrites the max timestamp and attribute, with a valid CRC', () => {
      const log = openLog(tempDir(), smallConfig({ messageTimestampType: 'LogAppendTime' }));
      const r = log.append(batch(3, BASE_TS), { now: BASE_TS + 5000 });
      assert.equal(r.logAppendTime, BigInt(BASE_TS + 5000));
      assert.equal(r.maxTimestamp, BigInt(BASE_TS + 5000));
      const stored = log.read(0n, { maxBytes: 10_000 }).records;
      const header = validateBatch(stored);
      assert.equal(header.timestampType, 1);
      assert.equal(header.maxTimestamp, BigInt(BASE_TS + 5000));
      const records = decodeRecordBatches(stored)[0]!.records;
      assert.ok(records.every((rec) => rec.timestamp === BigInt(BASE_TS + 5000)));
    });

    test('followers keep the leader offsets and epochs, and must start at the log end', () => {
      const log = openLog(tempDir(), smallConfig());
      const leader = encodeRecordBatch({ baseOffset: 0n, partitionLeaderEpoch: 2, records: [{ value: 'a' }] });
      const next = encodeRecordBatch({ baseOffset: 1n, partitionLeaderEpoch: 3, records: [{ value: 'b' }, {}] });
      const r = log.append(Buffer.concat([leader, next]), { assignOffsets: false });
      assert.deepEqual([r.firstOffset, r.lastOffset], [0n, 2n]);
      assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 1n });
      const gap = encodeRecordBatch({ baseOffset: 7n, records: [{ value: 'c' }] });
      assert.throws(() => log.append(gap, { assignOffsets: false }), {
        errorName: 'OFFSET_OUT_OF_RANGE',
        message: /follower append starts at offset 7 but the log ends at 3/,
      });
      const behind = encodeRecordBatch({ baseOffset: 1n, records: [{ value: 'c' }] });
      assert.throws(() => log.append(behind, { assignOffsets: false }), { errorName: 'OFFSET_OUT_OF_RANGE' });
      assert.equal(log.logEndOffset, 3n);
    });

    test('size limits: MESSAGE_TOO_LARGE per batch, RECORD_LIST_TOO_LARGE per set, CORRUPT_MESSAGE when empty', () => {
      const log = openLog(tempDir(), smallConfig({ maxMessageBytes: 500, segmentBytes: 1000 }));
      assert.throws(() => log.append(batch(1, BASE_TS, 600)), { errorName: 'MESSAGE_TOO_LARGE' });
      assert.throws(() => log.append(Buffer.concat([batch(1, BASE_TS, 420), batch(1, BASE_TS, 420), batch(1)])), {
        errorName: 'RECORD_LIST_TOO_LARGE',
      });
      assert.throws(() => log.append(Buffer.alloc(0)), { errorName: 'CORRUPT_MESSAGE' });
      assert.throws(() => log.append(Buffer.alloc(70, 1)), { errorName: 'CORRUPT_MESSAGE' });
      assert.equal(log.logEndOffset, 0n);
      assert.equal(log.size, 0);
    });
  });

  describe('rolling', () => {
    test('on segment.bytes: a set never straddles two segments', () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig({ segmentBytes: 1000 }));
      const one = batch(2, BASE_TS, 100).length;
      for (let i = 0; i < 20; i++) log.append(batch(2, BASE_TS, 100));
      const perSegment = Math.floor(1000 / one);
      assert.equal(log.segmentCount, Math.ceil(20 / perSegment));
      for (const s of log.segments) assert.ok(s.size <= 1000);
      assert.deepEqual(
        log.segments.map((s) => s.baseOffset),
        Array.from({ length: log.segmentCount }, (_, i) => BigInt(i * perSegment * 2)),
      );
      assert.equal(segmentFiles(dir).length, log.segmentCount);
      assert.deepEqual(readAll(log).length, 20);
    });

    test('on segment.ms: the new batch timestamp against the first batch timestamp (Kafka rule)', () => {
      const log = openLog(tempDir(), smallConfig({ segmentBytes: 1 << 20, segmentMs: 60_000 }));
      log.append(batch(1, BASE_TS));
      log.append(batch(1, BASE_TS + 60_000));
      assert.equal(log.segmentCount, 1, 'exactly segment.ms later: not yet');
      log.append(batch(1, BASE_TS + 60_001));
      assert.equal(log.segmentCount, 2);
      assert.equal(log.segments[1]!.baseOffset, 2n);
    });

    test('on segment.ms with jitter: never later than segment.ms', () => {
      const log = openLog(
        tempDir(),
        smallConfig({ segmentBytes: 1 << 20, segmentMs: 60_000, segmentJitterMs: 30_000 }),
      );
      log.append(batch(1, BASE_TS));
      log.append(batch(1, BASE_TS + 60_001));
      assert.equal(log.segmentCount, 2);
    });

    test('when an index is full (segment.index.bytes)', () => {
      const log = openLog(
        tempDir(),
        smallConfig({ segmentBytes: 1 << 20, segmentIndexBytes: 24, indexIntervalBytes: 1 }),
      );
      for (let i = 0; i < 12; i++) log.append(batch(1, BASE_TS + i));
      // 24 bytes: 3 offset-index entries, 2 time-index entries; the first batch of a segment is never indexed.
      assert.ok(log.segmentCount >= 3, `rolled ${log.segmentCount}`);
      assert.deepEqual(
        readAll(log).map(([b]) => b),
        Array.from({ length: 12 }, (_, i) => BigInt(i)),
      );
    });

    test('roll() starts a new segment at the log end, not when the active one is empty', () => {
      const log = openLog(tempDir(), smallConfig());
      log.roll();
      assert.equal(log.segmentCount, 1);
      log.append(batch(3));
      log.roll();
      log.roll();
      assert.deepEqual(
        log.segments.map((s) => [s.baseOffset, s.active]),
        [
          [0n, false],
          [3n, true],
        ],
      );
    });
  });

  describe('reads', () => {
    function filled(segmentBytes = 1200) {
      const log = openLog(tempDir(), smallConfig({ segmentBytes, indexIntervalBytes: 100 }));
      const sizes: number[] = [];
      for (let i = 0; i < 40; i++) {
        const b = batch(1 + (i % 3), BASE_TS + i * 100, 40 + (i % 5) * 30);
        sizes.push(b.length);
        log.append(b);
      }
      return { log, sizes };
    }

    test('cross segment boundaries, return whole batches within maxBytes', () => {
      const { log } = filled();
      assert.ok(log.segmentCount > 4);
      const all = readAll(log);
      fc.assert(
        fc.property(fc.nat({ max: all.length - 1 }), fc.integer({ min: 1, max: 5000 }), (pick, maxBytes) => {
          const [base, last] = all[pick]!;
          const offset = base + BigInt(Math.floor(Number(last - base) / 2));
          const r = log.read(offset, { maxBytes });
          const got = scanRecordSet(r.records);
          assert.equal(r.firstOffset, base);
          assert.ok(got.length >= 1, 'minOneBatch');
          assert.ok(got.length === 1 || r.records.length <= maxBytes);
          // As many as fit: the next batch would not.
          const next = all[pick + got.length];
          if (next && got.length >= 1) {
            const nextSize = log.read(next[0], { maxBytes: 1 }).records.length;
            assert.ok(r.records.length + nextSize > maxBytes);
          }
          assert.deepEqual(
            got.map((b) => b.baseOffset),
            all.slice(pick, pick + got.length).map(([b]) => b),
          );
        }),
        { numRuns: 200 },
      );
    });

    test('minOneBatch false returns nothing when the first batch is too big', () => {
      const { log, sizes } = filled();
      assert.equal(log.read(0n, { maxBytes: sizes[0]! - 1, minOneBatch: false }).records.length, 0);
      assert.equal(log.read(0n, { maxBytes: sizes[0]! - 1 }).records.length, sizes[0]);
    });

    test('maxOffset (high watermark) bounds what is returned', () => {
      const { log } = filled();
      const all = readAll(log);
      const hw = all[20]![0];
      const r = log.read(0n, { maxBytes: 1 << 20, maxOffset: hw });
      assert.deepEqual(
        batchBases(r.records),
        all.slice(0, 20).map(([b]) => b),
      );
      assert.equal(log.read(hw, { maxBytes: 1 << 20, maxOffset: hw }).records.length, 0);
    });

    test('OFFSET_OUT_OF_RANGE outside [log start, log end]; empty at the log end', () => {
      const { log } = filled();
      assert.throws(() => log.read(log.logEndOffset + 1n, { maxBytes: 100 }), { errorName: 'OFFSET_OUT_OF_RANGE' });
      assert.throws(() => log.read(-1n, { maxBytes: 100 }), { errorName: 'OFFSET_OUT_OF_RANGE' });
      const r = log.read(log.logEndOffset, { maxBytes: 100 });
      assert.deepEqual([r.records.length, r.firstOffset], [0, log.logEndOffset]);
    });

    test('offsetForTimestamp across segments, and the special timestamps', () => {
      const { log } = filled();
      log.append(batch(2, BASE_TS + 50), { leaderEpoch: 3 });
      const all = readAll(log);
      // Batch i has timestamps BASE_TS + i*100 (+1, +2 for its other records).
      assert.deepEqual(log.offsetForTimestamp(BigInt(BASE_TS + 1000)), {
        timestamp: BigInt(BASE_TS + 1000),
        offset: all[10]![0],
        leaderEpoch: -1,
      });
      assert.equal(log.offsetForTimestamp(BigInt(BASE_TS + 1001))!.offset, all[10]![0] + 1n);
      assert.equal(log.offsetForTimestamp(BigInt(BASE_TS + 1003))!.offset, all[11]![0]);
      assert.equal(log.offsetForTimestamp(BigInt(BASE_TS + 999_999)), null);
      assert.deepEqual(log.offsetForTimestamp(LATEST_TIMESTAMP), {
        timestamp: -1n,
        offset: log.logEndOffset,
        leaderEpoch: 3,
      });
      assert.deepEqual(log.offsetForTimestamp(EARLIEST_TIMESTAMP), { timestamp: -1n, offset: 0n, leaderEpoch: -1 });
      const max = log.offsetForTimestamp(MAX_TIMESTAMP)!;
      assert.equal(max.timestamp, BigInt(BASE_TS + 3900));
      assert.equal(max.offset, all[39]![0]);
    });
  });

  describe('truncation', () => {
    test('truncateTo removes the batch holding the offset and later segments', () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig({ segmentBytes: 1000 }));
      for (let i = 0; i < 30; i++) log.append(batch(3, BASE_TS + i), { leaderEpoch: i < 15 ? 1 : 2 });
      const before = log.segmentCount;
      const cut = 31n; // inside the batch [30, 32]
      log.highWatermark = log.logEndOffset;
      log.truncateTo(cut);
      assert.equal(log.logEndOffset, 30n);
      assert.equal(log.highWatermark, 30n);
      assert.ok(log.segmentCount < before);
      assert.equal(segmentFiles(dir).length, log.segmentCount);
      assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 30n });
      assert.deepEqual(log.endOffsetForEpoch(2), { epoch: -1, endOffset: -1n });
      assert.equal(log.append(batch(1)).firstOffset, 30n);
      assert.deepEqual(readAll(log).at(-1), [30n, 30n]);
    });

    test('truncateFullyAndStartAt empties the log and restarts its offsets', () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig({ segmentBytes: 1000 }));
      for (let i = 0; i < 20; i++) log.append(batch(3), { leaderEpoch: 1 });
      log.truncateFullyAndStartAt(1000n);
      assert.deepEqual([log.logStartOffset, log.logEndOffset, log.size, log.segmentCount], [1000n, 1000n, 0, 1]);
      assert.deepEqual(segmentFiles(dir), ['00000000000000001000.log']);
      assert.equal(log.append(batch(1)).firstOffset, 1000n);
      assert.deepEqual(log.endOffsetForEpoch(1), { epoch: -1, endOffset: -1n });
    });

    test('deleteRecordsBefore never goes above the high watermark and drops whole segments below', () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig({ segmentBytes: 1000 }));
      for (let i = 0; i < 30; i++) log.append(batch(2));
      log.highWatermark = 40n;
      assert.throws(() => log.deleteRecordsBefore(41n), { errorName: 'OFFSET_OUT_OF_RANGE' });
      const second = log.segments[1]!.baseOffset;
      assert.equal(log.deleteRecordsBefore(second + 1n), second + 1n);
      assert.equal(log.segments[0]!.baseOffset, second, 'the segment holding the new start stays');
      assert.throws(() => log.read(second, { maxBytes: 100 }), { errorName: 'OFFSET_OUT_OF_RANGE' });
      assert.equal(log.read(second + 1n, { maxBytes: 100 }).firstOffset, second, 'its batch is returned whole');
      assert.equal(log.deleteRecordsBefore(3n), second + 1n, 'never moves down');
      assert.equal(log.offsetForTimestamp(EARLIEST_TIMESTAMP)!.offset, second + 1n);
    });
  });

  describe('retention', () => {
    test('retention.ms deletes segments whose newest record is older, never the active one', () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig({ segmentBytes: 1000, retentionMs: 10_000 }));
      for (let i = 0; i < 30; i++) log.append(batch(2, BASE_TS + i * 1000));
      const segs = log.segments;
      assert.ok(segs.length > 3);
      log.highWatermark = log.logEndOffset;
      // Everything older than BASE_TS + 15000 + 2 ... segments ending before the limit go.
      const deleted = log.applyRetention(BASE_TS + 25_000);
      assert.ok(deleted > 0 && deleted < segs.length);
      assert.equal(log.logStartOffset, log.segments[0]!.baseOffset);
      const remaining = readAll(log);
      assert.equal(remaining.at(-1)![1], 59n);
      // All old: everything but the active segment.
      log.applyRetention(BASE_TS + 10_000_000);
      assert.equal(log.segmentCount, 1);
      assert.equal(log.segments[0]!.active, true);
      assert.equal(log.logStartOffset, log.segments[0]!.baseOffset);
      assert.equal(segmentFiles(dir).length, 1);
      assert.ok(!readdirSync(dir).some((n) => n.includes('.deleted')), 'file.delete.delay.ms 0: unlinked at once');
    });

    test('retention never deletes a segment holding offsets at or above the high watermark', () => {
      const log = openLog(tempDir(), smallConfig({ segmentBytes: 1000, retentionMs: 10_000 }));
      for (let i = 0; i < 30; i++) log.append(batch(2, BASE_TS + i * 1000));
      assert.ok(log.segmentCount > 3);
      assert.equal(log.applyRetention(BASE_TS + 10_000_000), 0, 'high watermark 0: nothing may go');
      log.highWatermark = log.segments[2]!.baseOffset;
      assert.equal(log.applyRetention(BASE_TS + 10_000_000), 2, 'only the segments wholly below it');
      assert.equal(log.logStartOffset, log.highWatermark);
    });

    test('retention.bytes deletes the oldest segments while the log is too big', () => {
      const log = openLog(tempDir(), smallConfig({ segmentBytes: 1000, retentionBytes: 2500 }));
      for (let i = 0; i < 40; i++) log.append(batch(2, BASE_TS, 60));
      log.highWatermark = log.logEndOffset;
      const deleted = log.applyRetention(BASE_TS);
      assert.ok(deleted > 0);
      assert.ok(log.size <= 2500 + 1000, `size ${log.size}`);
      assert.ok(log.size + (log.segments[0]?.size ?? 0) > 2500 || log.segmentCount === 1);
    });

    test('deleted segments linger as .deleted for file.delete.delay.ms', async () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig({ segmentBytes: 1000, retentionBytes: 0, fileDeleteDelayMs: 30 }));
      for (let i = 0; i < 20; i++) log.append(batch(2, BASE_TS, 60));
      log.highWatermark = log.logEndOffset;
      log.applyRetention();
      assert.ok(readdirSync(dir).some((n) => n.endsWith('.log.deleted')));
      for (let i = 0; i < 100 && readdirSync(dir).some((n) => n.endsWith('.deleted')); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(!readdirSync(dir).some((n) => n.endsWith('.deleted')));
      await log.close();
    });

    test('compact-only logs are not deleted by retention', () => {
      const log = openLog(
        tempDir(),
        smallConfig({ segmentBytes: 1000, retentionBytes: 0, cleanupPolicy: ['compact'] }),
      );
      for (let i = 0; i < 20; i++) log.append(batch(2, BASE_TS, 60));
      const n = log.segmentCount;
      assert.equal(log.applyRetention(), 0);
      assert.equal(log.segmentCount, n);
    });
  });

  describe('restart and recovery', () => {
    async function written(config = smallConfig({ segmentBytes: 2000, indexIntervalBytes: 100 })) {
      const dir = tempDir();
      const files = new FileCache({ maxOpen: 16 });
      const log = SegmentLog.open(dir, config, { files });
      for (let i = 0; i < 60; i++)
        log.append(batch(1 + (i % 3), BASE_TS + i * 10, 50), { leaderEpoch: i < 30 ? 1 : 2 });
      return { dir, files, config, log, all: readAll(log) };
    }

    test('a clean shutdown reopens without scanning and with the same contents', async () => {
      const { dir, files, config, log, all } = await written();
      await log.close();
      assert.equal(log.recoveryPoint, log.logEndOffset);
      assert.throws(() => log.append(batch(1)), { errorName: 'KAFKA_STORAGE_ERROR' });
      // Damage the first batch of the first segment: a clean open does not read it.
      const first = join(dir, segmentFiles(dir)[0]!);
      const bytes = readFileSync(first);
      bytes[70] ^= 0xff;
      writeFileSync(first, bytes);
      const { logger, lines } = capturingLogger();
      const reopened = SegmentLog.open(dir, config, { files, cleanShutdown: true, logStartOffset: 0n, logger });
      assert.equal(reopened.logEndOffset, log.logEndOffset);
      assert.equal(reopened.recoveryPoint, reopened.logEndOffset);
      assert.equal(reopened.size, log.size);
      assert.ok(!lines.some((l) => l.level === 'warn'), 'nothing scanned, nothing found');
      assert.deepEqual(reopened.endOffsetForEpoch(1), { epoch: 1, endOffset: all[30]![0] });
      assert.equal(reopened.append(batch(1)).firstOffset, log.logEndOffset);
      await reopened.close();
      // The same damage after an unclean stop with recovery from 0: detected and cut.
      const recovered = SegmentLog.open(dir, config, { files, cleanShutdown: false, recoveryPoint: 0n, logger });
      assert.equal(recovered.logEndOffset, 0n);
      const warning = lines.find((l) => l.level === 'warn' && /torn or corrupt/.test(l.msg))!;
      assert.equal(warning.obj.segment, '00000000000000000000.log');
      assert.match(String(warning.obj.reason), /CRC/);
      assert.equal(warning.obj.dir, dir);
      await recovered.close();
    });

    test('an unclean stop recovers from the recovery point; unflushed data in the page cache survives', async () => {
      const { dir, files, config, log, all } = await written();
      await log.flush();
      const flushedTo = log.recoveryPoint;
      assert.equal(flushedTo, log.logEndOffset);
      log.append(batch(5, BASE_TS + 10_000));
      // "Crash": the object is abandoned without close.
      const { logger, lines } = capturingLogger();
      const reopened = SegmentLog.open(dir, config, { files, recoveryPoint: flushedTo, logger });
      assert.equal(reopened.logEndOffset, flushedTo + 5n);
      assert.equal(reopened.recoveryPoint, flushedTo);
      assert.deepEqual(readAll(reopened).slice(0, all.length), all);
      assert.ok(!lines.some((l) => l.level === 'warn'));
      await reopened.flush();
      assert.equal(reopened.recoveryPoint, reopened.logEndOffset);
      await reopened.close();
    });

    test('a flipped byte mid-way through the last segment cuts the tail at the last valid batch', async () => {
      const { dir, files, config, log, all } = await written();
      const segs = log.segments;
      const last = segs.at(-1)!;
      const inLast = all.filter(([b]) => b >= last.baseOffset);
      assert.ok(inLast.length >= 4);
      const victim = inLast[Math.floor(inLast.length / 2)]!;
      // Find the victim's position: read from the segment start up to it.
      const before = log.read(last.baseOffset, { maxBytes: 1 << 20, maxOffset: victim[0] }).records.length;
      const bytes = readFileSync(last.path);
      bytes[before + 40] ^= 0x5a;
      writeFileSync(last.path, bytes);
      const { logger, lines } = capturingLogger();
      const reopened = SegmentLog.open(dir, config, { files, recoveryPoint: segs[1]!.baseOffset, logger });
      assert.equal(reopened.logEndOffset, victim[0]);
      assert.deepEqual(
        readAll(reopened),
        all.filter(([b]) => b < victim[0]),
      );
      assert.equal(statSync(last.path).size, before);
      const w = lines.find((l) => l.level === 'warn')!;
      assert.equal(w.obj.bytesRemoved, bytes.length - before);
      assert.match(String(w.obj.reason), /CRC-32C mismatch/);
      assert.deepEqual(reopened.endOffsetForEpoch(2), { epoch: 2, endOffset: victim[0] });
      assert.equal(reopened.append(batch(1)).firstOffset, victim[0]);
      await reopened.close();
    });

    test('damage in an earlier segment removes every later segment', async () => {
      const { dir, files, config, log } = await written();
      const segs = log.segments;
      assert.ok(segs.length >= 3);
      truncateSync(segs[1]!.path, segs[1]!.size - 3);
      const reopened = SegmentLog.open(dir, config, { files, recoveryPoint: 0n });
      assert.equal(reopened.segmentCount, 2);
      assert.equal(segmentFiles(dir).length, 2);
      assert.ok(reopened.logEndOffset < segs[2]!.baseOffset);
      await reopened.close();
    });

    test('a .log truncated mid-batch is cut back to the batch boundary', async () => {
      const { dir, files, config, log, all } = await written();
      const last = log.segments.at(-1)!;
      const keep = log.read(all.at(-2)![0], { maxBytes: 1 << 20 }).records;
      const lastBatchSize = scanRecordSet(keep).at(-1)!.size;
      truncateSync(last.path, last.size - Math.floor(lastBatchSize / 2));
      const reopened = SegmentLog.open(dir, config, { files, recoveryPoint: 0n });
      assert.equal(reopened.logEndOffset, all.at(-1)![0]);
      assert.equal(statSync(last.path).size, last.size - lastBatchSize);
      assert.deepEqual(readAll(reopened), all.slice(0, -1));
      await reopened.close();
    });

    test('garbage in every .index and .timeindex: rebuilt on use, lookups still correct', async () => {
      const { dir, files, config, log, all } = await written();
      const tsProbes = [BASE_TS - 5, BASE_TS + 15, BASE_TS + 333, BASE_TS + 590, BASE_TS + 10_000].map(BigInt);
      const expected = tsProbes.map((t) => log.offsetForTimestamp(t));
      const expectedMax = log.offsetForTimestamp(MAX_TIMESTAMP);
      await log.close();
      for (const name of readdirSync(dir)) {
        if (name.endsWith('.index')) writeFileSync(join(dir, name), Buffer.alloc(64, 0x7f));
        if (name.endsWith('.timeindex')) writeFileSync(join(dir, name), Buffer.from('garbage!garbage!garbage!'));
      }
      const { logger, lines } = capturingLogger();
      const reopened = SegmentLog.open(dir, config, { files, cleanShutdown: true, logger });
      assert.deepEqual(readAll(reopened), all);
      for (const [base, last] of all) {
        assert.equal(reopened.read(last, { maxBytes: 1 }).firstOffset, base);
      }
      assert.deepEqual(
        tsProbes.map((t) => reopened.offsetForTimestamp(t)),
        expected,
      );
      assert.deepEqual(reopened.offsetForTimestamp(MAX_TIMESTAMP), expectedMax);
      assert.equal(lines.filter((l) => l.level === 'warn').length, log.segmentCount);
      assert.equal(reopened.logEndOffset, log.logEndOffset);
      await reopened.close();
    });

    test('missing index files are rebuilt', async () => {
      const { dir, files, config, log, all } = await written();
      await log.close();
      for (const name of readdirSync(dir)) if (/index$/.test(name)) fsCjs.rmSync(join(dir, name));
      const reopened = SegmentLog.open(dir, config, { files, cleanShutdown: true });
      assert.deepEqual(readAll(reopened), all);
      await reopened.close();
    });

    test('stray .deleted/.cleaned files are removed; an interrupted .swap is installed', async () => {
      const { dir, files, config, log } = await written();
      const segs = log.segments;
      await log.close();
      // A compaction result replacing the first two segments, interrupted before the swap completed.
      const replacement = encodeRecordBatch({
        baseOffset: segs[1]!.baseOffset - 1n,
        baseTimestamp: BigInt(BASE_TS),
        records: [{ key: 'k', value: 'compacted' }],
      });
      const first = segs[0]!.path;
      writeFileSync(`${first}.swap`, replacement);
      writeFileSync(`${first.replace(/\.log$/, '.index')}.swap`, Buffer.alloc(8));
      writeFileSync(join(dir, '00000000000000000777.log.deleted'), 'x');
      writeFileSync(join(dir, '00000000000000000778.timeindex.cleaned'), 'x');
      writeFileSync(join(dir, '00000000000000099999.index'), Buffer.alloc(8));
      const reopened = SegmentLog.open(dir, config, { files, cleanShutdown: true });
      const names = readdirSync(dir);
      assert.ok(!names.some((n) => /\.(deleted|cleaned|swap)$/.test(n)), names.join());
      assert.ok(!names.includes('00000000000000099999.index'));
      assert.equal(reopened.segments[0]!.baseOffset, segs[0]!.baseOffset);
      assert.equal(reopened.segments[1]!.baseOffset, segs[1]!.baseOffset);
      const firstRead = reopened.read(0n, { maxBytes: 1 << 20, maxOffset: segs[1]!.baseOffset });
      assert.deepEqual(batchBases(firstRead.records), [segs[1]!.baseOffset - 1n]);
      await reopened.close();
    });

    test('a log start offset beyond the first segment is kept; the log end never falls below it', async () => {
      const { dir, files, config, log } = await written();
      await log.close();
      const reopened = SegmentLog.open(dir, config, { files, cleanShutdown: true, logStartOffset: 5n });
      assert.equal(reopened.logStartOffset, 5n);
      assert.throws(() => reopened.read(4n, { maxBytes: 10 }), { errorName: 'OFFSET_OUT_OF_RANGE' });
      await reopened.close();
      const beyond = SegmentLog.open(dir, config, { files, cleanShutdown: true, logStartOffset: 10_000n });
      assert.deepEqual([beyond.logStartOffset, beyond.logEndOffset], [10_000n, 10_000n]);
      assert.equal(beyond.append(batch(1)).firstOffset, 10_000n);
      await beyond.close();
    });
  });

  describe('flushing', () => {
    test('concurrent flushes share one fsync round (group commit); later callers wait for the next', async () => {
      const log = openLog(tempDir(), smallConfig());
      log.append(batch(2));
      const calls: string[] = [];
      const original = CachedFile.prototype.sync;
      CachedFile.prototype.sync = function (this: CachedFile, dataOnly?: boolean) {
        calls.push(this.path);
        return original.call(this, dataOnly);
      };
      try {
        const a = log.flush();
        const b = log.flush();
        const c = log.flush();
        assert.equal(a, b);
        assert.equal(b, c);
        log.append(batch(1));
        const d = log.flush();
        const e = log.flush();
        assert.notEqual(d, a);
        assert.equal(d, e);
        await Promise.all([a, b, c, d, e]);
        assert.equal(log.recoveryPoint, 3n);
        const logSyncs = calls.filter((p) => p.endsWith('.log')).length;
        assert.equal(logSyncs, 2, 'two rounds for five callers');
        await log.flush();
        assert.equal(calls.filter((p) => p.endsWith('.log')).length, 2, 'nothing new: no fsync');
      } finally {
        CachedFile.prototype.sync = original;
      }
      await log.close();
    });

    test('flush.messages flushes in the background after that many messages', async () => {
      const log = openLog(tempDir(), smallConfig({ flushMessages: 5 }));
      log.append(batch(3));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(log.recoveryPoint, 0n);
      log.append(batch(3));
      for (let i = 0; i < 100 && log.recoveryPoint < 6n; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(log.recoveryPoint, 6n);
      await log.close();
    });

    test('flush.ms flushes unflushed appends after that long', async () => {
      const log = openLog(tempDir(), smallConfig({ flushMs: 15 }));
      log.append(batch(4));
      for (let i = 0; i < 200 && log.recoveryPoint < 4n; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(log.recoveryPoint, 4n);
      await log.close();
    });
  });

  describe('faults', () => {
    test('a write that fails half-way (ENOSPC) is cut back and reported as KAFKA_STORAGE_ERROR', async () => {
      const dir = tempDir();
      const log = openLog(dir, smallConfig());
      log.append(batch(2));
      const sizeBefore = log.size;
      const original = fsCjs.writeSync;
      fsCjs.writeSync = ((fd: number, buf: Uint8Array, off: number, len: number, pos: number) => {
        if (len > 40) {
          original(fd, buf, off, 40, pos);
          return 40;
        }
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      }) as typeof fsCjs.writeSync;
      syncBuiltinESMExports();
      try {
        assert.throws(
          () => log.append(batch(3)),
          (err: Error & { errorName?: string; cause?: { code?: string } }) =>
            err.errorName === 'KAFKA_STORAGE_ERROR' && err.cause?.code === 'ENOSPC',
        );
      } finally {
        fsCjs.writeSync = original;
        syncBuiltinESMExports();
      }
      assert.equal(log.size, sizeBefore);
      assert.equal(statSync(log.segments[0]!.path).size, sizeBefore, 'the partial write was removed');
      assert.equal(log.logEndOffset, 2n);
      assert.equal(log.append(batch(1)).firstOffset, 2n, 'the log keeps working');
      await log.close();
      const reopened = openLog(dir, smallConfig(), { recoveryPoint: 0n });
      assert.equal(reopened.logEndOffset, 3n);
      await reopened.close();
    });

    test('a failed fsync fails the log: flush rejects and appends are refused', async () => {
      const log = openLog(tempDir(), smallConfig());
      log.append(batch(2));
      const original = fsCjs.fdatasync;
      fsCjs.fdatasync = ((_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        process.nextTick(cb, Object.assign(new Error('i/o error'), { code: 'EIO' }));
      }) as typeof fsCjs.fdatasync;
      syncBuiltinESMExports();
      try {
        await assert.rejects(log.flush(), { errorName: 'KAFKA_STORAGE_ERROR' });
      } finally {
        fsCjs.fdatasync = original;
        syncBuiltinESMExports();
      }
      assert.equal(log.recoveryPoint, 0n);
      assert.ok(log.storageFailure);
      assert.throws(() => log.append(batch(1)), { errorName: 'KAFKA_STORAGE_ERROR' });
      await assert.rejects(log.flush(), { errorName: 'KAFKA_STORAGE_ERROR' });
      assert.equal(log.read(0n, { maxBytes: 1000 }).firstOffset, 0n, 'reads still work');
      await assert.rejects(log.close(), { errorName: 'KAFKA_STORAGE_ERROR' });
    });
  });

  test('a pool of 4 fds serves 50 segments correctly', async () => {
    const dir = tempDir();
    const files = new FileCache({ maxOpen: 4 });
    const config = smallConfig({ segmentBytes: 600, indexIntervalBytes: 64 });
    const log = SegmentLog.open(dir, config, { files });
    let n = 0;
    while (log.segmentCount < 50) {
      log.append(batch(1 + (n % 2), BASE_TS + n, 40, n));
      n++;
      assert.ok(files.openCount <= 4 + 3, `open ${files.openCount}`);
    }
    const all = readAll(log);
    assert.equal(all.length, n);
    await log.flush();
    for (let i = all.length - 1; i >= 0; i -= 7) {
      const r = log.read(all[i]![0], { maxBytes: 1 });
      const rec = decodeRecordBatches(r.records)[0]!.records[0]!;
      assert.equal(rec.value![0], i & 0xff);
    }
    await log.close();
    const reopened = SegmentLog.open(dir, config, { files, cleanShutdown: true });
    assert.deepEqual(readAll(reopened), all);
    assert.equal(reopened.offsetForTimestamp(BigInt(BASE_TS + 77))!.offset, all[77]![0]);
    assert.ok(files.openCount <= 4);
    assert.ok(files.stats.evictions > 100);
    await reopened.close();
    const recovered = SegmentLog.open(dir, config, { files, recoveryPoint: 0n });
    assert.deepEqual(readAll(recovered), all);
    assert.ok(files.openCount <= 4);
    await recovered.close();
  });
});

type Step =
  | { k: 'append'; batches: { n: number; ts: number; size: number; codec: number }[]; bump: boolean }
  | { k: 'read'; at: number; max: number; toHw: boolean }
  | { k: 'hw' | 'truncate' | 'deleteRecords'; at: number }
  | { k: 'roll' }
  | { k: 'retention'; now: number }
  | { k: 'timestamp'; ts: number }
  | { k: 'epoch'; epoch: number }
  | { k: 'restart'; clean: boolean };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('append' as const),
      batches: fc.array(
        fc.record({
          n: fc.integer({ min: 1, max: 5 }),
          ts: fc.integer({ min: 0, max: 100_000 }),
          size: fc.integer({ min: 0, max: 400 }),
          codec: fc.constantFrom(0, 0, 1, 4),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      bump: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('read' as const),
      at: fc.double({ min: -0.1, max: 1.1, noNaN: true }),
      max: fc.integer({ min: 1, max: 5000 }),
      toHw: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constantFrom('hw' as const, 'truncate' as const, 'deleteRecords' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('roll' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('retention' as const), now: fc.integer({ min: 0, max: 200_000 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('timestamp' as const), ts: fc.integer({ min: -3, max: 110_000 }) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('restart' as const), clean: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('epoch' as const), epoch: fc.integer({ min: -1, max: 8 }) }) },
);

test('long random histories (append-heavy, many segments, restarts) match the MemoryLog model', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        segmentBytes: fc.integer({ min: 600, max: 6000 }),
        indexIntervalBytes: fc.integer({ min: 1, max: 2000 }),
        retentionBytes: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 20_000 })),
        retentionMs: fc.oneof(fc.constant(-1), fc.integer({ min: 1000, max: 150_000 })),
        messageTimestampType: fc.constantFrom<'CreateTime' | 'LogAppendTime'>('CreateTime', 'LogAppendTime'),
      }),
      fc.array(stepArb, { minLength: 20, maxLength: 100 }),
      async (cfg, steps) => {
        const config = logConfig({ ...cfg, fileDeleteDelayMs: 0 });
        const model = new MemoryLog(config);
        const dir = tempDir();
        const files = new FileCache({ maxOpen: 5 });
        let log = SegmentLog.open(dir, config, { files });
        let epoch = 0;
        const same = <T>(what: string, fn: (l: PartitionLog) => T): void => {
          const run = (l: PartitionLog): { ok: T } | { code: unknown } => {
            try {
              return { ok: fn(l) };
            } catch (err) {
              return { code: (err as { code?: unknown }).code ?? String(err) };
            }
          };
          assert.deepEqual(run(log), run(model), what);
        };
        const within = (f: number, lo: bigint, hi: bigint) => lo + BigInt(Math.floor(Number(hi - lo) * f));
        try {
          for (const [i, step] of steps.entries()) {
            const what = `step ${i} ${JSON.stringify(step)}`;
            const now = BASE_TS + 100_000 + i;
            switch (step.k) {
              case 'append': {
                if (step.bump) epoch++;
                const set = Buffer.concat(
                  step.batches.map((b) =>
                    encodeRecordBatch({
                      compression: b.codec,
                      baseTimestamp: BigInt(BASE_TS + b.ts),
                      records: Array.from({ length: b.n }, (_, r) => ({
                        key: `k${r}`,
                        value: Buffer.alloc(b.size, r),
                        timestamp: BigInt(BASE_TS + b.ts + ((r * 37) % 50)),
                      })),
                    }),
                  ),
                );
                same(what, (l) => l.append(Buffer.from(set), { leaderEpoch: epoch, now }));
                break;
              }
              case 'read': {
                const span = model.logEndOffset - model.logStartOffset;
                const at = model.logStartOffset + BigInt(Math.floor(Number(span + 2n) * step.at)) - 1n;
                same(what, (l) => {
                  const r = l.read(at, { maxBytes: step.max, maxOffset: step.toHw ? l.highWatermark : undefined });
                  return { ...r, records: r.records.toString('hex') };
                });
                break;
              }
              case 'hw':
                model.highWatermark = within(step.at, model.logStartOffset, model.logEndOffset);
                log.highWatermark = model.highWatermark;
                break;
              case 'truncate': {
                const offset = within(step.at, model.logStartOffset, model.logEndOffset);
                same(what, (l) => l.truncateTo(offset));
                break;
              }
              case 'deleteRecords': {
                const offset = within(step.at, model.logStartOffset, model.highWatermark);
                same(what, (l) => l.deleteRecordsBefore(offset));
                break;
              }
              case 'roll':
                same(what, (l) => l.roll(now));
                break;
              case 'retention':
                same(what, (l) => l.applyRetention(BASE_TS + step.now));
                break;
              case 'timestamp':
                same(what, (l) => l.offsetForTimestamp(step.ts < 0 ? BigInt(step.ts) : BigInt(BASE_TS + step.ts)));
                break;
              case 'epoch':
                same(what, (l) => l.endOffsetForEpoch(step.epoch));
                break;
              case 'restart': {
                const { highWatermark, recoveryPoint, logStartOffset } = log;
                if (step.clean) await log.close();
                log = SegmentLog.open(dir, config, { files, cleanShutdown: step.clean, recoveryPoint, logStartOffset });
                log.highWatermark = highWatermark;
                break;
              }
            }
            const state = (l: PartitionLog) => [l.logStartOffset, l.logEndOffset, l.highWatermark, l.size];
            assert.deepEqual(state(log), state(model), `${what}: state`);
          }
        } finally {
          await log.close().catch(() => {});
        }
      },
    ),
    { numRuns: 60 },
  );
});
