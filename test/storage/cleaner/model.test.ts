// Property test: random appends (keys, values, tombstones, null keys), rolls, restarts and cleaning passes at
// advancing times, checked after every step against a model of what compaction may and must keep.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LogCleaner } from '../../../src/storage/cleaner/index.js';
import type { SegmentLog } from '../../../src/storage/segment-log.js';
import { openLog, tempDir } from '../segment/helpers.js';
import { BASE_TS, compactConfig, type KV, put, type Rec, readRecords } from './helpers.js';

const RETENTION = 2000;

type Op =
  | { t: 'put'; recs: KV[] }
  | { t: 'roll' }
  | { t: 'clean'; dt: number; force: boolean; chunk: boolean }
  | { t: 'reopen'; clean: boolean };

const keyArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 5 }).map((k) => `k${k}`) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const valueArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 0, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 5 })
      .map((recs) => ({ t: 'put' as const, recs: recs as KV[] })),
  },
  { weight: 2, arbitrary: fc.constant({ t: 'roll' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('clean' as const),
      dt: fc.integer({ min: 0, max: 3000 }),
      force: fc.boolean(),
      chunk: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reopen' as const), clean: fc.boolean() }) },
);

describe('LogCleaner against a model', () => {
  test('latest value per key survives, tombstones follow delete.retention.ms, offsets never change', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const dir = tempDir('samsa-model-');
        const cfg = compactConfig({ segmentBytes: 700, deleteRetentionMs: RETENTION });
        let log: SegmentLog = openLog(dir, cfg);
        let cleaner = new LogCleaner({ chunkBytes: 1024 });
        const appended: Rec[] = [];
        /** Tombstone offset -> time of the first completed pass whose cleanable section held it. */
        const seenAt = new Map<bigint, number>();
        let now = BASE_TS;
        let checkpoint = 0n;
        try {
          for (const op of ops) {
            if (op.t === 'put') {
              now += 1;
              const base = log.logEndOffset;
              put(log, op.recs, now);
              for (const [i, [key, value]] of op.recs.entries()) {
                appended.push({ offset: base + BigInt(i), key, value, timestamp: BigInt(now + i) });
              }
              now += op.recs.length;
            } else if (op.t === 'roll') {
              log.roll();
            } else if (op.t === 'reopen') {
              await cleaner.stop();
              await log.close();
              log = openLog(dir, cfg, { cleanShutdown: op.clean });
              log.highWatermark = log.logEndOffset;
              cleaner = new LogCleaner({ chunkBytes: 1024 });
              assert.equal(cleaner.firstDirtyOffset(log) ?? 0n, checkpoint, 'checkpoint survives restarts');
            } else {
              now += op.dt;
              const r = await cleaner.cleanOnce(log, now, { force: op.force, pace: op.chunk });
              if (r.cleaned) {
                checkpoint = r.cleanedUpTo;
                for (const a of appended) {
                  if (a.key !== null && a.value === null && a.offset < r.cleanedUpTo && !seenAt.has(a.offset)) {
                    seenAt.set(a.offset, now);
                  }
                }
                checkAfterPass(readRecords(log), appended, r.cleanedUpTo, seenAt, now);
              }
            }
            checkAlways(log, readRecords(log), appended, checkpoint, seenAt, now);
          }
        } finally {
          await cleaner.stop();
          await log.close().catch(() => {});
        }
      }),
      { numRuns: 40 },
    );
  });
});

/** What holds after any step. */
function checkAlways(
  log: SegmentLog,
  recs: Rec[],
  appended: Rec[],
  checkpoint: bigint,
  seenAt: Map<bigint, number>,
  now: number,
): void {
  assert.equal(log.logEndOffset, BigInt(appended.length), 'the log end never moves');
  const byOffset = new Map(appended.map((r) => [r.offset, r]));
  for (let i = 0; i < recs.length; i++) {
    if (i > 0) assert.ok(recs[i]!.offset > recs[i - 1]!.offset, 'offsets increase');
    assert.deepEqual(recs[i], byOffset.get(recs[i]!.offset), 'records keep their offset and content');
  }
  const present = new Set(recs.map((r) => r.offset));
  const latest = new Map<string, Rec>();
  for (const a of appended) if (a.key !== null) latest.set(a.key, a);
  for (const a of appended) {
    if (a.key === null) assert.ok(present.has(a.offset), 'null-key records are kept');
    if (a.offset >= checkpoint) assert.ok(present.has(a.offset), 'the dirty head is untouched');
  }
  for (const l of latest.values()) {
    if (l.value !== null) {
      assert.ok(present.has(l.offset), `latest value of ${l.key} survives`);
    } else if (!present.has(l.offset)) {
      const seen = seenAt.get(l.offset);
      assert.ok(seen !== undefined && now >= seen + RETENTION, `tombstone at ${l.offset} removed too early`);
    }
  }
}

/** What a completed pass up to `upTo` guarantees. */
function checkAfterPass(recs: Rec[], appended: Rec[], upTo: bigint, seenAt: Map<bigint, number>, now: number): void {
  const present = new Set(recs.map((r) => r.offset));
  const latestBelow = new Map<string, Rec>();
  for (const a of appended) if (a.key !== null && a.offset < upTo) latestBelow.set(a.key, a);
  for (const a of appended) {
    if (a.key === null || a.offset >= upTo) continue;
    const l = latestBelow.get(a.key)!;
    if (l !== a) {
      assert.ok(!present.has(a.offset), `superseded record at ${a.offset} removed`);
    } else if (a.value === null) {
      const expired = now >= seenAt.get(a.offset)! + RETENTION;
      assert.equal(present.has(a.offset), !expired, `tombstone at ${a.offset}: removed iff its horizon passed`);
    } else {
      assert.ok(present.has(a.offset));
    }
  }
}
