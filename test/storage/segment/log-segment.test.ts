import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeRecordBatches, encodeRecordBatch, validateBatch } from '../../../src/protocol/records/index.js';
import { FileCache } from '../../../src/storage/file-cache.js';
import { LogSegment, type SegmentOptions } from '../../../src/storage/segment/log-segment.js';
import { BASE_TS, capturingLogger, tempDir } from './helpers.js';

const files = new FileCache({ maxOpen: 32 });

interface Stored {
  base: bigint;
  last: bigint;
  bytes: Buffer;
  records: { offset: bigint; timestamp: bigint }[];
  epoch: number;
}

function options(extra: Partial<SegmentOptions> = {}): SegmentOptions {
  return { files, indexIntervalBytes: 200, segmentIndexBytes: 1 << 20, ...extra };
}

/** Appends batches with offsets assigned from the segment's next offset; returns what was stored. */
function fill(
  seg: LogSegment,
  specs: { records: number; ts: number; spread?: number; valueSize?: number; compression?: number }[],
): Stored[] {
  const out: Stored[] = [];
  let next = seg.nextOffset;
  specs.forEach((s, n) => {
    const bytes = encodeRecordBatch({
      baseOffset: next,
      partitionLeaderEpoch: n % 3,
      compression: s.compression ?? 0,
      baseTimestamp: BigInt(s.ts),
      records: Array.from({ length: s.records }, (_, i) => ({
        value: Buffer.alloc(s.valueSize ?? 30, i),
        timestamp: BigInt(s.ts + ((i * 7919) % (s.spread ?? 1))),
      })),
    });
    seg.append(bytes);
    const decoded = decodeRecordBatches(bytes)[0]!;
    out.push({
      base: next,
      last: next + BigInt(s.records - 1),
      bytes,
      records: decoded.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp })),
      epoch: n % 3,
    });
    next += BigInt(s.records);
  });
  return out;
}

const specArb = fc.record({
  records: fc.integer({ min: 1, max: 6 }),
  ts: fc.integer({ min: BASE_TS, max: BASE_TS + 10_000 }),
  spread: fc.integer({ min: 1, max: 500 }),
  valueSize: fc.integer({ min: 0, max: 300 }),
  compression: fc.constantFrom(0, 0, 1),
});

describe('LogSegment', () => {
  test('create names the three files by the 20-digit base offset', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 42n, options());
    assert.deepEqual(readdirSync(dir).sort(), [
      '00000000000000000042.index',
      '00000000000000000042.log',
      '00000000000000000042.timeindex',
    ]);
    assert.equal(seg.nextOffset, 42n);
    assert.equal(seg.size, 0);
    assert.equal(seg.translate(42n), null);
  });

  test('translate finds the batch holding every offset; readBatch returns its exact bytes', () => {
    fc.assert(
      fc.property(
        fc.array(specArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 600 }),
        (specs, interval) => {
          const seg = LogSegment.create(tempDir(), 1000n, options({ indexIntervalBytes: interval }));
          const stored = fill(seg, specs);
          assert.equal(
            seg.size,
            stored.reduce((n, s) => n + s.bytes.length, 0),
          );
          assert.equal(seg.nextOffset, stored.at(-1)!.last + 1n);
          for (const s of stored) {
            for (let o = s.base; o <= s.last; o++) {
              const loc = seg.translate(o)!;
              assert.equal(loc.baseOffset, s.base);
              assert.equal(loc.lastOffset, s.last);
              assert.equal(loc.leaderEpoch, s.epoch);
              assert.deepEqual(seg.readBatch(loc), s.bytes);
            }
          }
          assert.equal(seg.translate(0n)!.baseOffset, 1000n, 'below the base: the first batch');
          assert.equal(seg.translate(seg.nextOffset), null);
          // Kafka's sparse rule: an entry for a batch once more than index.interval.bytes were added since the last.
          let expectedEntries = 0;
          let since = 0;
          for (const s of stored) {
            if (since > interval) {
              expectedEntries++;
              since = 0;
            }
            since += s.bytes.length;
          }
          assert.equal(seg.indexEntries[0], expectedEntries);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('findOffsetByTimestamp and findMaxTimestamp agree with a scan of every record', () => {
    fc.assert(
      fc.property(
        fc.array(specArb, { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: BASE_TS - 10, max: BASE_TS + 11_000 }), { minLength: 1, maxLength: 10 }),
        fc.nat(),
        (specs, probes, startPick) => {
          const seg = LogSegment.create(tempDir(), 0n, options({ indexIntervalBytes: 100 }));
          const stored = fill(seg, specs);
          const all = stored.flatMap((s) => s.records.map((r) => ({ ...r, epoch: s.epoch, batchMax: s.last })));
          const start = all[startPick % all.length]!.offset;
          const visible = stored.filter((s) => s.last >= start);
          for (const probe of probes) {
            // Kafka's rule: the first batch (in offset order) whose max timestamp reaches the target, then its first
            // record at or after the target.
            let expected: { timestamp: bigint; offset: bigint; leaderEpoch: number } | null = null;
            for (const s of visible) {
              const rec = s.records.find((r) => r.offset >= start && r.timestamp >= BigInt(probe));
              if (rec) {
                expected = { timestamp: rec.timestamp, offset: rec.offset, leaderEpoch: s.epoch };
                break;
              }
            }
            assert.deepEqual(seg.findOffsetByTimestamp(BigInt(probe), start), expected, `probe ${probe}`);
          }
          let best: { timestamp: bigint; offset: bigint; leaderEpoch: number } | null = null;
          for (const r of all) {
            if (r.offset >= start && (best === null || r.timestamp > best.timestamp)) {
              best = { timestamp: r.timestamp, offset: r.offset, leaderEpoch: r.epoch };
            }
          }
          assert.deepEqual(seg.findMaxTimestamp(start), best);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('truncateTo cuts before the batch holding the offset and appending continues', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 0n, options({ indexIntervalBytes: 50 }));
    const stored = fill(
      seg,
      Array.from({ length: 20 }, (_, i) => ({ records: 3, ts: BASE_TS + i * 10 })),
    );
    const cutBatch = stored[12]!;
    const removed = seg.truncateTo(cutBatch.base + 1n);
    const kept = stored.slice(0, 12).reduce((n, s) => n + s.bytes.length, 0);
    assert.equal(seg.size, kept);
    assert.equal(
      removed,
      stored.slice(12).reduce((n, s) => n + s.bytes.length, 0),
    );
    assert.equal(statSync(seg.path).size, kept);
    assert.equal(seg.nextOffset, cutBatch.base);
    assert.equal(seg.maxTimestamp, BASE_TS + 11 * 10);
    assert.equal(seg.translate(cutBatch.base), null);
    const more = fill(seg, [{ records: 2, ts: BASE_TS + 5 }]);
    assert.equal(more[0]!.base, cutBatch.base);
    assert.equal(seg.translate(cutBatch.base + 1n)!.baseOffset, cutBatch.base);
    assert.equal(seg.truncateTo(1000n), 0, 'beyond the end: nothing to cut');
  });

  test('recover keeps a valid segment whole and rebuilds the same indexes', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 0n, options());
    fill(
      seg,
      Array.from({ length: 30 }, (_, i) => ({ records: 2, ts: BASE_TS + i })),
    );
    const before = seg.indexEntries;
    seg.onBecomeInactive();
    const epochs: number[] = [];
    const result = seg.recover((epoch) => epochs.push(epoch));
    assert.deepEqual(result, { validBytes: seg.size, truncatedBytes: 0, reason: null });
    assert.equal(epochs.length, 30);
    assert.equal(seg.indexEntries[0], before[0]);
    assert.equal(seg.nextOffset, 60n);
    assert.equal(seg.maxTimestamp, BASE_TS + 29);
  });

  test('recover cuts a torn last batch at the previous boundary', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 0n, options());
    const stored = fill(
      seg,
      Array.from({ length: 10 }, (_, i) => ({ records: 2, ts: BASE_TS + i })),
    );
    const full = seg.size;
    truncateSync(seg.path, full - 7);
    const result = seg.recover();
    assert.equal(result.truncatedBytes, stored.at(-1)!.bytes.length - 7);
    assert.match(result.reason!, /torn/);
    assert.equal(seg.size, full - stored.at(-1)!.bytes.length);
    assert.equal(seg.nextOffset, 18n);
  });

  test('an index full of garbage is detected on load, rebuilt, and lookups stay correct', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 500n, options({ indexIntervalBytes: 64 }));
    const stored = fill(
      seg,
      Array.from({ length: 40 }, (_, i) => ({ records: 1 + (i % 4), ts: BASE_TS + i })),
    );
    seg.onBecomeInactive();
    seg.closeFiles();
    const indexPath = join(dir, '00000000000000000500.index');
    const timePath = join(dir, '00000000000000000500.timeindex');
    const entries = statSync(indexPath).size / 8;
    assert.ok(entries > 5);
    writeFileSync(indexPath, Buffer.from(Array.from({ length: entries * 8 }, (_, i) => (i * 151) & 0xff)));
    writeFileSync(timePath, Buffer.from('definitely not a time index'));
    const { logger, lines } = capturingLogger();
    const reopened = LogSegment.open(dir, 500n, options({ indexIntervalBytes: 64, logger }), statSync(seg.path).size);
    for (const s of stored) {
      assert.equal(reopened.translate(s.last)!.baseOffset, s.base);
    }
    assert.equal(reopened.maxTimestamp, BASE_TS + 39);
    assert.equal(reopened.indexEntries[0], entries);
    assert.ok(
      lines.some((l) => l.level === 'warn' && /rebuilt/.test(l.msg)),
      'the rebuild is logged',
    );
    assert.equal(statSync(indexPath).size, entries * 8, 'the index file was rewritten');
  });

  test('an index entry that points between batches is caught when used, and repaired', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 0n, options({ indexIntervalBytes: 64 }));
    const stored = fill(
      seg,
      Array.from({ length: 30 }, (_, i) => ({ records: 2, ts: BASE_TS + i })),
    );
    seg.onBecomeInactive();
    seg.closeFiles();
    const indexPath = join(dir, '00000000000000000000.index');
    const index = readFileSync(indexPath);
    // Shift the position of the second entry by one byte: still increasing, so it passes the shape checks.
    index.writeInt32BE(index.readInt32BE(12) + 1, 12);
    writeFileSync(indexPath, index);
    const { logger, lines } = capturingLogger();
    const reopened = LogSegment.open(dir, 0n, options({ indexIntervalBytes: 64, logger }), seg.size);
    for (const s of stored) assert.equal(reopened.translate(s.base)!.baseOffset, s.base);
    assert.ok(lines.some((l) => l.level === 'warn'));
    assert.equal(reopened.size, seg.size, 'the log itself was not cut');
  });

  test('markDeleted renames every file to .deleted', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 7n, options());
    fill(seg, [{ records: 1, ts: BASE_TS }]);
    const paths = seg.markDeleted();
    assert.equal(paths.length, 3);
    for (const p of paths) assert.ok(p.endsWith('.deleted') && existsSync(p));
    assert.equal(readdirSync(dir).filter((n) => !n.endsWith('.deleted')).length, 0);
    assert.throws(() => seg.append(Buffer.alloc(0)), { errorName: 'KAFKA_STORAGE_ERROR' });
  });

  test('appended batches are stored byte for byte and stay valid', () => {
    const dir = tempDir();
    const seg = LogSegment.create(dir, 0n, options());
    const stored = fill(seg, [{ records: 3, ts: BASE_TS, compression: 1 }]);
    const loc = seg.translate(0n)!;
    const bytes = seg.readBatch(loc);
    assert.deepEqual(bytes, stored[0]!.bytes);
    assert.equal(validateBatch(bytes).recordCount, 3);
  });
});
