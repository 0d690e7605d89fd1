import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { MemoryLog } from '../../src/storage/memory-log.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from '../../src/storage/types.js';
import { CONFORMANCE_NOW, conformanceProperty } from './conformance.js';

const batch = (n: number, ts = 1000n) =>
  encodeRecordBatch({
    baseTimestamp: ts,
    records: Array.from({ length: n }, (_, i) => ({ value: `v${i}`, timestamp: ts + BigInt(i) })),
  });

describe('MemoryLog (the reference model)', () => {
  test('assigns offsets from the log end and reads whole batches', () => {
    const log = new MemoryLog();
    assert.equal(log.append(batch(3)).firstOffset, 0n);
    const r = log.append(batch(2));
    assert.deepEqual([r.firstOffset, r.lastOffset], [3n, 4n]);
    assert.equal(log.logEndOffset, 5n);
    const read = log.read(4n, { maxBytes: 1 });
    assert.equal(read.firstOffset, 3n, 'the batch holding offset 4, whole, even over maxBytes');
    assert.equal(read.records.readBigInt64BE(0), 3n);
    assert.throws(() => log.read(6n, { maxBytes: 100 }), { errorName: 'OFFSET_OUT_OF_RANGE' });
  });

  test('timestamp lookups and special timestamps', () => {
    const log = new MemoryLog();
    log.append(batch(3, 1000n));
    log.append(batch(3, 5000n));
    assert.deepEqual(log.offsetForTimestamp(1001n), { offset: 1n, timestamp: 1001n, leaderEpoch: -1 });
    assert.equal(log.offsetForTimestamp(3000n)?.offset, 3n);
    assert.equal(log.offsetForTimestamp(9999n), null);
    assert.equal(log.offsetForTimestamp(LATEST_TIMESTAMP)?.offset, 6n);
    assert.equal(log.offsetForTimestamp(EARLIEST_TIMESTAMP)?.offset, 0n);
    assert.deepEqual(log.offsetForTimestamp(MAX_TIMESTAMP), { offset: 5n, timestamp: 5002n, leaderEpoch: -1 });
  });

  test('leader epochs answer OffsetForLeaderEpoch', () => {
    const log = new MemoryLog();
    log.append(batch(2), { leaderEpoch: 1 });
    log.append(batch(2), { leaderEpoch: 3 });
    // Below the first known epoch: that epoch ends where the first known one starts (current Kafka behaviour).
    assert.deepEqual(log.endOffsetForEpoch(0), { epoch: 0, endOffset: 0n });
    assert.deepEqual(log.endOffsetForEpoch(9), { epoch: -1, endOffset: -1n });
    assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 1, endOffset: 2n });
    assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, endOffset: 4n });
  });

  test('passes the conformance suite against itself (sanity of the harness)', async () => {
    await fc.assert(
      conformanceProperty(
        async (config) => ({ log: new MemoryLog(config, 0n, { now: () => CONFORMANCE_NOW }), dispose: async () => {} }),
        {
          runs: 30,
          restarts: false,
        },
      ),
      { numRuns: 30 },
    );
  });
});
