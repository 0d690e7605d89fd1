import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CorruptIndexError } from '../../../src/storage/errors.js';
import { FileCache } from '../../../src/storage/file-cache.js';
import { TimeIndex } from '../../../src/storage/segment/time-index.js';
import { tempDir } from './helpers.js';

const files = new FileCache({ maxOpen: 16 });

function fresh(max = 1000): TimeIndex {
  return TimeIndex.empty(files.file(join(tempDir(), 'x.timeindex'), 'create'), max);
}

describe('TimeIndex', () => {
  test('keeps only growing timestamps; floor agrees with a linear search', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -1, max: 1_000_000 }), fc.integer({ min: 0, max: 50 })), {
          maxLength: 150,
        }),
        fc.array(fc.integer({ min: -10, max: 1_100_000 }), { maxLength: 30 }),
        (appends, probes) => {
          const index = fresh();
          const model: [number, number][] = [];
          let offset = 0;
          for (const [ts, dOff] of appends) {
            offset += dOff;
            const last = model.at(-1);
            const expected = ts >= 0 && (last === undefined || ts > last[0]);
            assert.equal(index.maybeAppend(ts, offset), expected);
            if (expected) model.push([ts, offset]);
          }
          assert.equal(index.entries, model.length);
          for (const probe of probes) {
            let expected = -1;
            model.forEach(([ts], i) => {
              if (ts <= probe) expected = i;
            });
            assert.equal(index.floor(probe), expected);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  test('12-byte entries: int64 timestamp, int32 relative offset', () => {
    const path = join(tempDir(), 'a.timeindex');
    const index = TimeIndex.empty(files.file(path, 'create'), 10);
    index.maybeAppend(1_700_000_000_123, 7);
    index.writeTail();
    const b = readFileSync(path);
    assert.equal(b.length, 12);
    assert.equal(b.readBigInt64BE(0), 1_700_000_000_123n);
    assert.equal(b.readInt32BE(8), 7);
    const loaded = TimeIndex.load(files.file(path), 10);
    assert.equal(loaded.lastTimestamp, 1_700_000_000_123);
    assert.equal(loaded.lastOffset, 7);
  });

  test('full at segment.index.bytes / 12, but the entry written on roll may exceed it', () => {
    const index = fresh(2);
    assert.ok(index.maybeAppend(10, 1));
    assert.ok(index.maybeAppend(20, 2));
    assert.equal(index.isFull, true);
    assert.equal(index.maybeAppend(30, 3), false);
    assert.equal(index.maybeAppend(30, 3, true), true);
  });

  test('truncateToOffset drops entries at or above the offset', () => {
    const index = fresh();
    for (let i = 1; i <= 5; i++) index.maybeAppend(i * 100, i * 10);
    index.truncateToOffset(30);
    assert.equal(index.entries, 2);
    assert.equal(index.lastTimestamp, 200);
  });

  describe('sanity checks on load', () => {
    const entry = (ts: bigint, o: number) => {
      const b = Buffer.alloc(12);
      b.writeBigInt64BE(ts);
      b.writeInt32BE(o, 8);
      return b;
    };
    const load = (b: Buffer) => {
      const path = join(tempDir(), 'c.timeindex');
      writeFileSync(path, b);
      return TimeIndex.load(files.file(path), 1000);
    };
    test('size not a multiple of 12', () => {
      assert.throws(() => load(Buffer.alloc(13)), CorruptIndexError);
    });
    test('timestamps that do not increase, offsets that decrease', () => {
      assert.throws(() => load(Buffer.concat([entry(100n, 1), entry(100n, 2)])), CorruptIndexError);
      assert.throws(() => load(Buffer.concat([entry(100n, 5), entry(200n, 4)])), CorruptIndexError);
      assert.throws(() => load(Buffer.concat([entry(-5n, 1)])), CorruptIndexError);
      assert.throws(() => load(Buffer.concat([entry(2n ** 62n, 1)])), CorruptIndexError);
    });
  });
});
