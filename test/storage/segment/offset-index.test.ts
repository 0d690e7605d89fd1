import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CorruptIndexError } from '../../../src/storage/errors.js';
import { FileCache } from '../../../src/storage/file-cache.js';
import { OffsetIndex } from '../../../src/storage/segment/offset-index.js';
import { tempDir } from './helpers.js';

const files = new FileCache({ maxOpen: 16 });

/** Strictly increasing (offset, position) pairs. */
const entriesArb = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 200 })
  .map((steps) => {
    let o = -1;
    let p = -1;
    return steps.map(([dO, dP]) => {
      o += dO;
      p += dP;
      return [o, p] as const;
    });
  });

function fresh(max = 1000): OffsetIndex {
  return OffsetIndex.empty(files.file(join(tempDir(), 'x.index'), 'create'), max);
}

describe('OffsetIndex', () => {
  test('floor/lookup agree with a linear search', () => {
    fc.assert(
      fc.property(entriesArb, fc.array(fc.integer({ min: -5, max: 250_000 }), { maxLength: 30 }), (entries, probes) => {
        const index = fresh(entries.length + 1);
        for (const [o, p] of entries) index.append(o, p);
        for (const probe of probes) {
          let expected = -1;
          entries.forEach(([o], i) => {
            if (o <= probe) expected = i;
          });
          assert.equal(index.floor(probe), expected);
          assert.equal(index.lookup(probe), expected < 0 ? 0 : entries[expected]![1]);
        }
      }),
      { numRuns: 100 },
    );
  });

  test('round-trips through its file: 8-byte big-endian entries, written behind', () => {
    const dir = tempDir();
    const path = join(dir, 'a.index');
    const index = OffsetIndex.empty(files.file(path, 'create'), 100);
    index.append(3, 100);
    index.append(9, 4200);
    assert.equal(statSync(path).size, 0, 'nothing written until writeTail');
    assert.equal(index.unwritten, 2);
    index.writeTail();
    assert.deepEqual([...readFileSync(path)], [0, 0, 0, 3, 0, 0, 0, 100, 0, 0, 0, 9, 0, 0, 0x10, 0x68]);
    const loaded = OffsetIndex.load(files.file(path), 100, 5000);
    assert.equal(loaded.entries, 2);
    assert.equal(loaded.offsetAt(1), 9);
    assert.equal(loaded.positionAt(1), 4200);
  });

  test('is full at segment.index.bytes / 8 entries', () => {
    const index = fresh(3);
    index.append(1, 10);
    index.append(2, 20);
    assert.equal(index.isFull, false);
    index.append(3, 30);
    assert.equal(index.isFull, true);
  });

  test('refuses entries that do not increase', () => {
    const index = fresh();
    index.append(5, 50);
    assert.throws(() => index.append(5, 60));
    assert.throws(() => index.append(6, 50));
  });

  test('truncation drops entries in memory and in the file', () => {
    const dir = tempDir();
    const path = join(dir, 't.index');
    const index = OffsetIndex.empty(files.file(path, 'create'), 100);
    for (let i = 1; i <= 10; i++) index.append(i * 10, i * 100);
    index.writeTail();
    index.truncateToPosition(500);
    assert.equal(index.entries, 4);
    assert.equal(statSync(path).size, 32);
    index.truncateToOffset(30);
    assert.equal(index.entries, 2);
    assert.equal(index.lastOffset, 20);
    index.append(25, 250);
    index.writeTail();
    assert.equal(statSync(path).size, 24);
  });

  describe('sanity checks on load', () => {
    const load = (bytes: number[] | Buffer, logSize = 1_000_000) => {
      const path = join(tempDir(), 'c.index');
      writeFileSync(path, Buffer.from(bytes));
      return OffsetIndex.load(files.file(path), 1000, logSize);
    };
    const entry = (o: number, p: number) => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(o);
      b.writeInt32BE(p, 4);
      return b;
    };
    test('a size that is not a multiple of 8', () => {
      assert.throws(() => load([0, 0, 0, 1, 0, 0, 0, 2, 9]), CorruptIndexError);
    });
    test('offsets or positions that do not increase', () => {
      assert.throws(() => load(Buffer.concat([entry(5, 100), entry(5, 200)])), CorruptIndexError);
      assert.throws(() => load(Buffer.concat([entry(5, 100), entry(6, 100)])), CorruptIndexError);
      assert.throws(() => load(Buffer.concat([entry(-1, 100)])), CorruptIndexError);
    });
    test('a position beyond the log', () => {
      assert.throws(() => load(Buffer.concat([entry(5, 100), entry(9, 900)]), 900), CorruptIndexError);
      assert.equal(load(Buffer.concat([entry(5, 100), entry(9, 899)]), 900).entries, 2);
    });
    test('an empty file is an empty index', () => {
      assert.equal(load([]).entries, 0);
    });
  });
});
