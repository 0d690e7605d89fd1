import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeRecordBatches, scanRecordSet } from '../../../src/protocol/records/index.js';
import { CLEANER_CHECKPOINT_FILE, LogCleaner, readCleanerCheckpoint } from '../../../src/storage/cleaner/index.js';
import type { SegmentLog } from '../../../src/storage/segment-log.js';
import { openLog, tempDir } from '../segment/helpers.js';
import { BASE_TS, compactConfig, kvBatch, put, type Rec, readRecords } from './helpers.js';

/** Latest record per key in `recs` (by offset). */
function latestByKey(recs: Rec[]): Map<string, Rec> {
  const m = new Map<string, Rec>();
  for (const r of recs) if (r.key !== null) m.set(r.key, r);
  return m;
}

function assertIncreasing(recs: Rec[]): void {
  for (let i = 1; i < recs.length; i++) assert.ok(recs[i]!.offset > recs[i - 1]!.offset, 'offsets increase');
}

/** 200 one-record batches over 10 keys: key k<i%10> = v<i>, timestamps BASE_TS + i. */
function overwriteMany(log: SegmentLog, n = 200): Rec[] {
  const all: Rec[] = [];
  for (let i = 0; i < n; i++) {
    put(log, [[`k${i % 10}`, `v${i}`]], BASE_TS + i);
    all.push({ offset: BigInt(i), key: `k${i % 10}`, value: `v${i}`, timestamp: BigInt(BASE_TS + i) });
  }
  return all;
}

const NOW = BASE_TS + 1_000_000;

describe('LogCleaner', () => {
  test('keys overwritten across many segments: only the latest survive, offsets and reads intact', async () => {
    const dir = tempDir('samsa-clean-');
    const log = openLog(dir, compactConfig());
    const all = overwriteMany(log);
    const segmentsBefore = log.segmentCount;
    assert.ok(segmentsBefore > 10);
    const activeBase = log.segments.at(-1)!.baseOffset;
    const activeBytes = readFileSync(log.segments.at(-1)!.path);
    const end = log.logEndOffset;
    const cleaner = new LogCleaner();
    const result = await cleaner.cleanOnce(log, NOW);
    assert.equal(result.cleaned, true, result.reason);
    assert.equal(result.cleanedUpTo, activeBase);
    assert.equal(log.logEndOffset, end, 'the log end never moves');
    assert.equal(log.segmentCount, segmentsBefore, 'full segments are not grouped (each is near segment.bytes)');
    assert.deepEqual(readFileSync(log.segments.at(-1)!.path), activeBytes, 'active segment untouched');

    const recs = readRecords(log);
    assertIncreasing(recs);
    const byOffset = new Map(all.map((r) => [r.offset, r]));
    for (const r of recs) assert.deepEqual(r, byOffset.get(r.offset), 'records keep offset, key, value, timestamp');
    // Below the active segment: exactly the latest per key of that section; in the active one: everything.
    const cleanable = all.filter((r) => r.offset < activeBase);
    const latest = latestByKey(cleanable);
    const expected = cleanable
      .filter((r) => latest.get(r.key!) === r)
      .concat(all.filter((r) => r.offset >= activeBase));
    assert.deepEqual(recs, expected);
    for (const [k, r] of latestByKey(all)) assert.ok(recs.some((x) => x.key === k && x.value === r.value));

    // Reads from any offset return the next surviving batch; timestamps still find records.
    for (let o = 0n; o < end; o++) {
      const got = decodeRecordBatches(log.read(o, { maxBytes: 4096 }).records).flatMap((b) => b.records);
      const want = recs.find((r) => r.offset >= o)!;
      assert.equal(got.find((r) => r.offset >= o)!.offset, want.offset);
    }
    for (let ts = BigInt(BASE_TS) - 1n; ts < BigInt(BASE_TS + 200); ts += 7n) {
      const want = recs.find((r) => r.timestamp >= ts)!;
      assert.equal(log.offsetForTimestamp(ts)!.offset, want.offset, `timestamp ${ts}: removed records are skipped`);
    }
    // A second pass groups the small cleaned segments instead of keeping one tiny segment per input.
    const second = await cleaner.cleanOnce(log, NOW, { force: true });
    assert.ok(second.groupsInstalled > 0);
    assert.ok(log.segmentCount <= 3, `grouped: ${log.segmentCount} of ${segmentsBefore}`);
    assert.deepEqual(readRecords(log), recs);
    // Restart both ways: the same records.
    await log.close();
    const clean = openLog(dir, compactConfig(), { cleanShutdown: true });
    assert.deepEqual(readRecords(clean), recs);
    await clean.close();
    const recovered = openLog(dir, compactConfig());
    assert.deepEqual(readRecords(recovered), recs);
    assert.equal(recovered.logEndOffset, end);
    await recovered.close();
  });

  test('the checkpoint survives restarts and a clean log is not cleaned again', async () => {
    const dir = tempDir('samsa-clean-');
    let log = openLog(dir, compactConfig({ minCleanableDirtyRatio: 0.5 }));
    overwriteMany(log, 100);
    const first = await new LogCleaner().cleanOnce(log, NOW);
    assert.ok(first.cleaned);
    assert.equal(readCleanerCheckpoint(dir), first.cleanedUpTo);
    assert.ok(readdirSync(dir).includes(CLEANER_CHECKPOINT_FILE));
    await log.close();
    log = openLog(dir, compactConfig({ minCleanableDirtyRatio: 0.5 }), { cleanShutdown: true });
    log.highWatermark = log.logEndOffset;
    const cleaner = new LogCleaner();
    assert.equal(cleaner.firstDirtyOffset(log), first.cleanedUpTo);
    const again = await cleaner.cleanOnce(log, NOW);
    assert.equal(again.cleaned, false);
    assert.match(again.reason, /ratio|nothing/);
    // Enough new dirty data makes it eligible again.
    for (let i = 0; i < 100; i++) put(log, [[`k${i % 10}`, `w${i}`]], BASE_TS + 1000 + i);
    const third = await cleaner.cleanOnce(log, NOW);
    assert.ok(third.cleaned, third.reason);
    assert.equal(third.firstDirty, first.cleanedUpTo);
    await log.close();
  });

  test('nothing at or above the high watermark is cleaned', async () => {
    const log = openLog(tempDir('samsa-clean-'), compactConfig());
    overwriteMany(log, 60);
    log.highWatermark = 0n;
    const r = await new LogCleaner().cleanOnce(log, NOW, { force: true });
    assert.equal(r.cleaned, false);
    assert.equal(readRecords(log).length, 60);
    await log.close();
  });

  test('tombstones are kept until delete.retention.ms after the pass that first saw them', async () => {
    const retention = 60_000;
    const log = openLog(tempDir('samsa-clean-'), compactConfig({ deleteRetentionMs: retention }));
    put(log, [
      ['a', '1'],
      ['b', '1'],
    ]);
    put(log, [
      ['a', null],
      ['c', '1'],
    ]);
    log.roll();
    put(log, [['d', '1']]);
    const cleaner = new LogCleaner();
    const t0 = NOW;
    const r1 = await cleaner.cleanOnce(log, t0);
    assert.ok(r1.cleaned);
    assert.equal(r1.earliestHorizon, BigInt(t0 + retention));
    let recs = readRecords(log);
    assert.deepEqual(
      recs.map((r) => [r.key, r.value]),
      [
        ['b', '1'],
        ['a', null],
        ['c', '1'],
        ['d', '1'],
      ],
    );
    // The batch holding the tombstone carries the delete horizon (KIP-534), record timestamps unchanged.
    const stored = decodeRecordBatches(log.read(2n, { maxBytes: 4096 }).records)[0]!;
    assert.equal(stored.hasDeleteHorizon, true);
    assert.equal(stored.baseTimestamp, BigInt(t0 + retention));
    assert.deepEqual(
      stored.records.map((r) => r.timestamp),
      [BigInt(BASE_TS), BigInt(BASE_TS + 1)],
    );
    // Before the horizon: still there (a later pass does not move the horizon).
    await cleaner.cleanOnce(log, t0 + retention - 1, { force: true });
    assert.ok(readRecords(log).some((r) => r.key === 'a' && r.value === null));
    const again = decodeRecordBatches(log.read(2n, { maxBytes: 4096 }).records)[0]!;
    assert.equal(again.baseTimestamp, BigInt(t0 + retention));
    // At the horizon: removed, without forcing (an expired horizon makes the log eligible).
    const r3 = await cleaner.cleanOnce(log, t0 + retention);
    assert.ok(r3.cleaned, r3.reason);
    assert.equal(r3.tombstonesRemoved, 1);
    recs = readRecords(log);
    assert.deepEqual(
      recs.map((r) => [r.offset, r.key, r.value]),
      [
        [1n, 'b', '1'],
        [3n, 'c', '1'],
        [4n, 'd', '1'],
      ],
    );
    await log.close();
  });

  test('min.compaction.lag.ms: segments with recent records are not compacted', async () => {
    const lag = 10_000;
    const log = openLog(tempDir('samsa-clean-'), compactConfig({ minCompactionLagMs: lag }));
    // Old records, then recent ones overwriting the same keys.
    for (let i = 0; i < 40; i++) put(log, [[`k${i % 4}`, `old${i}`]], BASE_TS + i);
    log.roll();
    const oldEnd = log.logEndOffset;
    for (let i = 0; i < 40; i++) put(log, [[`k${i % 4}`, `new${i}`]], BASE_TS + 100_000 + i);
    log.roll();
    put(log, [['z', 'active']], BASE_TS + 100_100);
    const cleaner = new LogCleaner();
    // At this time only the old section is past the lag.
    const r = await cleaner.cleanOnce(log, BASE_TS + 100_000 + lag - 1);
    assert.ok(r.cleaned);
    assert.equal(r.cleanedUpTo, oldEnd);
    let recs = readRecords(log);
    const recent = recs.filter((x) => x.offset >= oldEnd);
    assert.equal(recent.length, 41, 'recent records all kept');
    assert.equal(recs.filter((x) => x.offset < oldEnd).length, 4);
    // Later, the recent section is cleaned too, superseding the old values.
    await cleaner.cleanOnce(log, BASE_TS + 200_000);
    recs = readRecords(log);
    assert.deepEqual(
      recs.map((x) => x.value),
      ['new36', 'new37', 'new38', 'new39', 'active'],
    );
    await log.close();
  });

  test('max.compaction.lag.ms cleans a log below the dirty ratio', async () => {
    const cfg = compactConfig({ minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 1000 });
    const log = openLog(tempDir('samsa-clean-'), cfg);
    overwriteMany(log, 50);
    log.roll();
    const cleaner = new LogCleaner();
    await cleaner.cleanOnce(log, NOW, { force: true });
    for (let i = 0; i < 20; i++) put(log, [[`k${i % 10}`, `x${i}`]], BASE_TS + 2000 + i);
    log.roll();
    const before = await cleaner.cleanOnce(log, BASE_TS + 2500);
    assert.equal(before.cleaned, false, 'not yet: ratio too low, lag not reached');
    const after = await cleaner.cleanOnce(log, BASE_TS + 3100);
    assert.ok(after.cleaned);
    assert.equal(after.reason, 'max.compaction.lag.ms');
    await log.close();
  });

  test('null keys, control and transactional batches are kept as they are; compressed batches are rewritten', async () => {
    const { encodeRecordBatch } = await import('../../../src/protocol/records/index.js');
    const log = openLog(tempDir('samsa-clean-'), compactConfig({ segmentBytes: 100_000 }));
    log.append(
      kvBatch(
        [
          ['a', '1'],
          [null, 'nokey'],
          ['a', '2'],
          ['b', '1'],
        ],
        BASE_TS,
        1,
      ),
      { now: BASE_TS },
    );
    log.append(encodeRecordBatch({ isTransactional: true, producerId: 7n, records: [{ key: 'a', value: 'txn' }] }));
    log.append(
      encodeRecordBatch({
        isControl: true,
        isTransactional: true,
        producerId: 7n,
        records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }],
      }),
    );
    log.append(kvBatch([['b', '2']]));
    log.roll();
    log.highWatermark = log.logEndOffset;
    await new LogCleaner().cleanOnce(log, NOW, { force: true });
    const stored = decodeRecordBatches(log.read(0n, { maxBytes: 1 << 16 }).records);
    assert.equal(stored[0]!.compression, 1, 'codec kept');
    assert.equal(stored[0]!.lastOffsetDelta, 3, 'offset range kept');
    assert.deepEqual(
      stored[0]!.records.map((r) => [r.offset, r.key?.toString() ?? null]),
      [
        [1n, null],
        [2n, 'a'],
      ],
    );
    assert.equal(stored[1]!.isTransactional, true);
    assert.equal(stored[1]!.records[0]!.value!.toString(), 'txn', 'transactional data untouched');
    assert.equal(stored[2]!.isControl, true);
    assert.equal(stored[3]!.records[0]!.value!.toString(), '2');
    assert.equal(stored.length, 4);
    await log.close();
  });

  test('the last batch of a cleaned segment survives as an empty batch so the offsets stay covered', async () => {
    const log = openLog(tempDir('samsa-clean-'), compactConfig({ segmentBytes: 100_000 }));
    put(log, [['a', '1']]);
    put(log, [['b', '1']]);
    put(log, [['a', '2']]);
    log.roll();
    put(log, [['b', '2']]);
    log.roll();
    put(log, [['z', 'active']]);
    await new LogCleaner().cleanOnce(log, NOW, { force: true });
    const batches = scanRecordSet(log.read(0n, { maxBytes: 1 << 16 }).records);
    assert.deepEqual(
      batches.map((b) => [b.baseOffset, b.recordCount]),
      [
        [2n, 1],
        [3n, 1],
        [4n, 1],
      ],
    );
    // When the last batch of a cleaned segment loses all its records, an empty batch keeps its offsets.
    const log2 = openLog(tempDir('samsa-clean-'), compactConfig({ segmentBytes: 100_000, deleteRetentionMs: 10 }));
    put(log2, [['a', '1']]);
    put(log2, [['b', '1']]);
    put(log2, [['a', null]]);
    log2.roll();
    put(log2, [['z', 'active']]);
    const cleaner = new LogCleaner();
    await cleaner.cleanOnce(log2, NOW, { force: true });
    await cleaner.cleanOnce(log2, NOW + 10);
    const b2 = scanRecordSet(log2.read(0n, { maxBytes: 1 << 16 }).records);
    assert.deepEqual(
      b2.map((b) => [b.baseOffset, b.baseOffset + BigInt(b.lastOffsetDelta), b.recordCount]),
      [
        [1n, 1n, 1],
        [2n, 2n, 0],
        [3n, 3n, 1],
      ],
    );
    assert.equal(log2.segments[0]!.size, b2[0]!.size + b2[1]!.size);
    await log.close();
    await log2.close();
  });

  test('compact,delete: retention still deletes segments; compact alone never does', async () => {
    const both = openLog(
      tempDir('samsa-clean-'),
      compactConfig({ cleanupPolicy: ['compact', 'delete'], retentionMs: 1000 }),
    );
    overwriteMany(both, 60);
    await new LogCleaner().cleanOnce(both, NOW);
    assert.ok(both.applyRetention(NOW) > 0);
    assert.equal(both.segmentCount, 1);
    const compactOnly = openLog(tempDir('samsa-clean-'), compactConfig({ retentionMs: 1000 }));
    overwriteMany(compactOnly, 60);
    assert.equal(compactOnly.applyRetention(NOW), 0);
    const del = openLog(tempDir('samsa-clean-'), compactConfig({ cleanupPolicy: ['delete'] }));
    overwriteMany(del, 60);
    const r = await new LogCleaner().cleanOnce(del, NOW, { force: true });
    assert.equal(r.cleaned, false, 'delete-only logs are never compacted');
    await both.close();
    await compactOnly.close();
    await del.close();
  });

  test('a cleaned segment keeps the modification time retention falls back on', async () => {
    const log = openLog(tempDir('samsa-clean-'), compactConfig({ segmentBytes: 100_000 }));
    put(log, [['a', '1']]);
    put(log, [['a', '2']]);
    log.roll();
    put(log, [['z', '1']]);
    const before = statSync(log.segments[0]!.path).mtimeMs;
    await new LogCleaner().cleanOnce(log, NOW, { force: true });
    assert.ok(Math.abs(statSync(log.segments[0]!.path).mtimeMs - before) < 1);
    await log.close();
  });

  test('appends, reads and rolls interleaved with a chunked pass', async () => {
    const dir = tempDir('samsa-clean-');
    const log = openLog(dir, compactConfig());
    overwriteMany(log, 150);
    const cleaner = new LogCleaner({ chunkBytes: 1024 });
    let i = 0;
    const appended: [string, string][] = [];
    const r = await cleaner.cleanOnce(log, NOW, {
      onChunk: () => {
        const k = `k${i % 10}`;
        const v = `during${i++}`;
        put(log, [[k, v]], BASE_TS + 5000 + i);
        appended.push([k, v]);
        // Reads see a consistent log while the pass runs.
        const recs = readRecords(log);
        assertIncreasing(recs);
        assert.equal(recs.at(-1)!.value, v);
      },
    });
    assert.ok(r.cleaned, r.reason);
    assert.ok(i > 3, `several chunks (${i})`);
    const recs = readRecords(log);
    assertIncreasing(recs);
    for (const [k, v] of appended.slice(-10)) assert.ok(recs.some((x) => x.key === k && x.value === v));
    // Another pass catches up with what was appended during the first.
    await cleaner.cleanOnce(log, NOW, { force: true });
    const after = readRecords(log);
    const active = log.segments.at(-1)!.baseOffset;
    const keys = after.filter((x) => x.offset < active).map((x) => x.key);
    assert.equal(new Set(keys).size, keys.length, 'no duplicate keys below the active segment');
    await log.close();
    const reopened = openLog(dir, compactConfig());
    assert.deepEqual(readRecords(reopened), after);
    await reopened.close();
  });

  test('a pass whose input segments are deleted midway is abandoned and leaves no files', async () => {
    const dir = tempDir('samsa-clean-');
    const log = openLog(dir, compactConfig({ cleanupPolicy: ['compact', 'delete'], retentionMs: 1000 }));
    overwriteMany(log, 150);
    const before = readRecords(log);
    const cleaner = new LogCleaner({ chunkBytes: 1024 });
    let chunks = 0;
    const r = await cleaner.cleanOnce(log, NOW, {
      onChunk: () => {
        if (++chunks === 3) log.deleteRecordsBefore(log.segments[2]!.baseOffset);
      },
    });
    assert.equal(r.cleaned, false);
    assert.match(r.reason, /deleted|replaced/);
    assert.ok(!readdirSync(dir).some((n) => /\.(cleaned|swap)$/.test(n)));
    const after = readRecords(log);
    assert.deepEqual(
      after,
      before.filter((x) => x.offset >= log.logStartOffset),
    );
    await log.close();
  });

  test('throttling makes a large pass sleep and take many ticks', async () => {
    const log = openLog(tempDir('samsa-clean-'), compactConfig({ segmentBytes: 4096 }));
    overwriteMany(log, 400);
    const cleaner = new LogCleaner({ chunkBytes: 1024, ioMaxBytesPerSecond: 200_000 });
    let ticks = 0;
    let done = false;
    const count = (): void => {
      if (done) return;
      ticks++;
      setImmediate(count);
    };
    setImmediate(count);
    const r = await cleaner.cleanOnce(log, NOW);
    done = true;
    assert.ok(r.cleaned);
    assert.ok(cleaner.stats.chunks > 10, `chunks ${cleaner.stats.chunks}`);
    assert.ok(
      cleaner.stats.throttleSleeps > 0,
      `the throttle slept (${cleaner.stats.bytesRead} read, ${cleaner.stats.bytesWritten} written)`,
    );
    assert.ok(ticks > 10, `the event loop kept turning (${ticks} ticks)`);
    await log.close();
  });

  test('start/stop: the background loop cleans added logs; remove abandons a pass', async () => {
    const log = openLog(tempDir('samsa-clean-'), compactConfig());
    overwriteMany(log, 100);
    const cleaner = new LogCleaner({ backoffMs: 5, now: () => NOW });
    cleaner.add(log);
    cleaner.start();
    for (let i = 0; i < 200 && cleaner.firstDirtyOffset(log) === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(cleaner.firstDirtyOffset(log), log.segments.at(-1)!.baseOffset);
    await cleaner.stop();
    await cleaner.remove(log);
    assert.equal(cleaner.size, 0);
    await log.close();
  });
});

describe('crash safety of the segment swap', () => {
  /**
   * Two copies of one log: `oldDir` as it was before cleaning, `newDir` after one pass that replaced every inactive
   * segment with one cleaned segment at offset 0. Returns both record lists and the file names involved.
   */
  async function prepare(): Promise<{
    oldDir: string;
    newDir: string;
    oldRecs: Rec[];
    newRecs: Rec[];
    oldBases: string[];
  }> {
    const oldDir = tempDir('samsa-crash-');
    const log = openLog(oldDir, compactConfig({ segmentBytes: 100_000 }));
    for (let s = 0; s < 6; s++) {
      for (let i = 0; i < 8; i++) put(log, [[`k${i % 5}`, `s${s}v${i}`]], BASE_TS + s * 100 + i);
      log.roll();
    }
    put(log, [['k0', 'active']], BASE_TS + 1000);
    await log.flush();
    const oldRecs = readRecords(log);
    const oldBases = log.inactiveSegments().map((s) => s.name.replace(/\.log$/, ''));
    await log.close();
    const newDir = tempDir('samsa-crash-');
    cpSync(oldDir, newDir, { recursive: true });
    const cleaned = openLog(newDir, compactConfig({ segmentBytes: 100_000 }), { cleanShutdown: true });
    cleaned.highWatermark = cleaned.logEndOffset;
    const r = await new LogCleaner().cleanOnce(cleaned, NOW, { force: true });
    assert.equal(r.groupsInstalled, 1);
    assert.equal(cleaned.segmentCount, 2);
    const newRecs = readRecords(cleaned);
    await cleaned.close();
    assert.ok(newRecs.length < oldRecs.length);
    return { oldDir, newDir, oldRecs, newRecs, oldBases };
  }

  const first = '00000000000000000000';
  const copyNew = (newDir: string, dir: string, kind: string, suffix: string): void => {
    cpSync(join(newDir, `${first}${kind}`), join(dir, `${first}${kind}${suffix}`));
  };

  for (const cleanShutdown of [false, true]) {
    test(`every crash point reopens to the old or the new data (cleanShutdown=${cleanShutdown})`, async () => {
      const { oldDir, newDir, oldRecs, newRecs, oldBases } = await prepare();
      const stages: { name: string; expect: Rec[]; make: (dir: string) => void }[] = [
        {
          name: 'partly written .cleaned files',
          expect: oldRecs,
          make: (dir) => {
            copyNew(newDir, dir, '.log', '.cleaned');
            copyNew(newDir, dir, '.index', '.cleaned');
          },
        },
        {
          name: 'indexes renamed .swap, log still .cleaned',
          expect: oldRecs,
          make: (dir) => {
            copyNew(newDir, dir, '.index', '.swap');
            copyNew(newDir, dir, '.timeindex', '.swap');
            copyNew(newDir, dir, '.log', '.cleaned');
          },
        },
        {
          name: 'all .swap, old segments live',
          expect: newRecs,
          make: (dir) => {
            for (const k of ['.index', '.timeindex', '.log']) copyNew(newDir, dir, k, '.swap');
          },
        },
        {
          name: 'all .swap, old segments partly renamed .deleted',
          expect: newRecs,
          make: (dir) => {
            for (const k of ['.index', '.timeindex', '.log']) copyNew(newDir, dir, k, '.swap');
            for (const base of oldBases.slice(0, 3)) {
              for (const k of ['.log', '.index', '.timeindex'])
                renameSync(join(dir, base + k), join(dir, `${base + k}.deleted`));
            }
          },
        },
        {
          name: 'old segments gone, indexes live, log still .swap',
          expect: newRecs,
          make: (dir) => {
            for (const base of oldBases) {
              for (const k of ['.log', '.index', '.timeindex'])
                renameSync(join(dir, base + k), join(dir, `${base + k}.deleted`));
            }
            copyNew(newDir, dir, '.index', '');
            copyNew(newDir, dir, '.timeindex', '');
            copyNew(newDir, dir, '.log', '.swap');
          },
        },
        {
          name: 'log live, indexes still .swap',
          expect: newRecs,
          make: (dir) => {
            for (const base of oldBases) {
              for (const k of ['.log', '.index', '.timeindex'])
                renameSync(join(dir, base + k), join(dir, `${base + k}.deleted`));
            }
            copyNew(newDir, dir, '.log', '');
            copyNew(newDir, dir, '.index', '.swap');
            copyNew(newDir, dir, '.timeindex', '.swap');
          },
        },
      ];
      for (const stage of stages) {
        const dir = tempDir('samsa-crash-');
        cpSync(oldDir, dir, { recursive: true });
        stage.make(dir);
        const log = openLog(dir, compactConfig({ segmentBytes: 100_000 }), { cleanShutdown });
        assert.deepEqual(readRecords(log), stage.expect, stage.name);
        assert.equal(log.logEndOffset, oldRecs.at(-1)!.offset + 1n, stage.name);
        assert.ok(!readdirSync(dir).some((n) => /\.(cleaned|swap|deleted)$/.test(n)), stage.name);
        // The log keeps working: append, clean again, reopen.
        log.highWatermark = log.logEndOffset;
        put(log, [['k1', 'after']], BASE_TS + 5000);
        log.roll();
        const r = await new LogCleaner().cleanOnce(log, NOW, { force: true });
        assert.ok(r.cleaned, stage.name);
        const recs = readRecords(log);
        await log.close();
        const again = openLog(dir, compactConfig({ segmentBytes: 100_000 }));
        assert.deepEqual(readRecords(again), recs, stage.name);
        await again.close();
      }
    });
  }
});
