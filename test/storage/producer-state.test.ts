// The producer state machine of idempotent producers (duplicates, sequence gaps, epochs, wrap-around, the 5-batch
// window, multi-batch appends, truncation, expiration, retention) through the PartitionLog interface of both
// engines, so that MemoryLog and SegmentLog are held to the same rules; snapshot parsing on its own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import type { LogConfig } from '../../src/storage/config.js';
import { logConfig } from '../../src/storage/config.js';
import { MemoryLog } from '../../src/storage/memory-log.js';
import {
  addSequence,
  CorruptSnapshotError,
  MemorySnapshotStore,
  PRODUCER_BATCHES_RETAINED,
  ProducerStateManager,
  parseSnapshot,
} from '../../src/storage/producer-state.js';
import { SegmentLog } from '../../src/storage/segment-log.js';
import type { PartitionLog } from '../../src/storage/types.js';
import { BASE_TS, idemBatch, logValues } from './producer-helpers.js';

const NOW = BASE_TS + 1000;
const INT32_MAX = 2 ** 31 - 1;

type Factory = (config?: Partial<LogConfig>) => PartitionLog;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const engines: [string, Factory][] = [
  ['MemoryLog', (config = {}) => new MemoryLog(config, 0n, { now: () => NOW })],
  [
    'SegmentLog',
    (config = {}) => {
      const dir = mkdtempSync(join(tmpdir(), 'samsa-producers-'));
      dirs.push(dir);
      return SegmentLog.open(dir, logConfig(config), { now: () => NOW });
    },
  ],
];

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof KafkaError) return err.code;
    throw err;
  }
  return ErrorCode.NONE;
}

for (const [engine, open] of engines) {
  describe(`producer state (${engine})`, () => {
    it('accepts a new producer at any sequence, then only the next one; a gap leaves the state unchanged', () => {
      const log = open();
      assert.equal(log.append(idemBatch({ pid: 1n, seq: 0, count: 3 }), { now: NOW }).firstOffset, 0n);
      // Kafka since 2.5: a producer without state may start anywhere (its earlier batches may have been deleted).
      assert.equal(log.append(idemBatch({ pid: 2n, seq: 42 }), { now: NOW }).firstOffset, 3n);
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 1n, seq: 4 }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 1n, seq: 2 }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 2n, seq: 44 }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(log.logEndOffset, 4n, 'refused batches are not appended');
      assert.equal(log.append(idemBatch({ pid: 1n, seq: 3, count: 2 })).firstOffset, 4n);
      assert.equal(log.append(idemBatch({ pid: 2n, seq: 43 })).firstOffset, 6n);
      const p1 = log.producerEntries().find((e) => e.producerId === 1n)!;
      assert.deepEqual(
        p1.batches.map((b) => [b.firstSeq, b.lastSeq, b.firstOffset, b.lastOffset]),
        [
          [0, 2, 0n, 2n],
          [3, 4, 4n, 5n],
        ],
      );
    });

    it('answers a retry of any of the last 5 batches with its original offsets and appends nothing', () => {
      const log = open();
      const offsets: bigint[] = [];
      for (let i = 0; i < 7; i++) {
        log.append(idemBatch({ pid: -1n, seq: 0, tag: 'plain' }));
        offsets.push(log.append(idemBatch({ pid: 9n, seq: i * 2, count: 2 })).firstOffset);
      }
      const end = log.logEndOffset;
      for (let i = 7 - PRODUCER_BATCHES_RETAINED; i < 7; i++) {
        const r = log.append(idemBatch({ pid: 9n, seq: i * 2, count: 2 }), { now: NOW });
        assert.equal(r.duplicate, true);
        assert.equal(r.firstOffset, offsets[i]);
        assert.equal(r.lastOffset, offsets[i]! + 1n);
        assert.equal(r.logAppendTime, -1n, 'CreateTime: as in the first answer');
      }
      assert.equal(log.logEndOffset, end);
      // Older than the window: not recognised, and not next either.
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 9n, seq: 2, count: 2 }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      // The same first sequence with another length is no duplicate.
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 9n, seq: 12, count: 1 }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(log.logEndOffset, end);
      assert.equal(log.producerEntries()[0]!.batches.length, PRODUCER_BATCHES_RETAINED);
    });

    it('a duplicate under LogAppendTime carries the time of the first append', () => {
      const log = open({ messageTimestampType: 'LogAppendTime' });
      const first = log.append(idemBatch({ pid: 3n, seq: 0 }), { now: NOW + 5 });
      assert.equal(first.logAppendTime, BigInt(NOW + 5));
      const again = log.append(idemBatch({ pid: 3n, seq: 0 }), { now: NOW + 99 });
      assert.equal(again.duplicate, true);
      assert.equal(again.logAppendTime, BigInt(NOW + 5));
    });

    it('fences older epochs and starts a newer epoch at sequence 0', () => {
      const log = open();
      log.append(idemBatch({ pid: 5n, epoch: 2, seq: 0, count: 2 }));
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 5n, epoch: 1, seq: 2 }))),
        ErrorCode.INVALID_PRODUCER_EPOCH,
      );
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 5n, epoch: 3, seq: 2 }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(log.logEndOffset, 2n);
      assert.equal(log.append(idemBatch({ pid: 5n, epoch: 3, seq: 0 })).firstOffset, 2n);
      // The old epoch's batches are no longer duplicates: a retry from before the bump is fenced.
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 5n, epoch: 2, seq: 0, count: 2 }))),
        ErrorCode.INVALID_PRODUCER_EPOCH,
      );
      const entry = log.producerEntries()[0]!;
      assert.equal(entry.epoch, 3);
      assert.equal(entry.batches.length, 1, 'a new epoch starts an empty batch cache');
    });

    it('wraps sequence numbers from 2^31-1 to 0', () => {
      const log = open();
      log.append(idemBatch({ pid: 7n, seq: INT32_MAX - 2, count: 3 }));
      log.append(idemBatch({ pid: 7n, seq: 0, count: 2 }));
      // A batch spanning the wrap: first 2^31-2 ... last 1.
      log.append(idemBatch({ pid: 8n, seq: INT32_MAX - 1, count: 4 }));
      assert.equal(log.append(idemBatch({ pid: 8n, seq: 2 })).firstOffset, 9n);
      assert.equal(log.append(idemBatch({ pid: 8n, seq: INT32_MAX - 1, count: 4 })).duplicate, true);
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 7n, seq: INT32_MAX }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(log.append(idemBatch({ pid: 7n, seq: 2 })).firstOffset, 10n);
      assert.equal(addSequence(INT32_MAX - 1, 3), 1);
      assert.equal(addSequence(5, 3), 8);
    });

    it('checks the batches of one append in order and refuses all of them when one is refused', () => {
      const log = open();
      const ok = Buffer.concat([idemBatch({ pid: 4n, seq: 0, count: 2 }), idemBatch({ pid: 4n, seq: 2 })]);
      assert.equal(log.append(ok).lastOffset, 2n);
      const bad = Buffer.concat([idemBatch({ pid: 4n, seq: 3 }), idemBatch({ pid: 4n, seq: 5 })]);
      assert.equal(
        codeOf(() => log.append(bad)),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      assert.equal(log.logEndOffset, 3n);
      assert.equal(
        log.producerEntries()[0]!.batches.at(-1)!.lastSeq,
        2,
        'the first batch of the refused append left no trace',
      );
      assert.equal(log.append(idemBatch({ pid: 4n, seq: 3 })).firstOffset, 3n);
    });

    it('lets batches without a producer id through untouched, whatever their sequence fields', () => {
      const log = open();
      for (let i = 0; i < 3; i++) assert.equal(log.append(idemBatch({ pid: -1n, seq: 0 })).duplicate, undefined);
      assert.equal(log.logEndOffset, 3n);
      assert.deepEqual(log.producerEntries(), []);
    });

    it('rebuilds the state to match the log after a truncation', () => {
      const log = open({ segmentBytes: 400 });
      for (let i = 0; i < 12; i++) log.append(idemBatch({ pid: 6n, seq: i }));
      log.truncateTo(9n);
      const entry = log.producerEntries()[0]!;
      assert.deepEqual(
        entry.batches.map((b) => [b.firstSeq, b.firstOffset]),
        [4, 5, 6, 7, 8].map((s) => [s, BigInt(s)]),
      );
      // The batches cut away are new again, not duplicates.
      const r = log.append(idemBatch({ pid: 6n, seq: 9 }));
      assert.equal(r.duplicate, undefined);
      assert.equal(r.firstOffset, 9n);
      log.truncateTo(0n);
      assert.deepEqual(log.producerEntries(), []);
      log.truncateFullyAndStartAt(50n);
      assert.equal(log.append(idemBatch({ pid: 6n, seq: 77 })).firstOffset, 50n, 'state forgotten');
    });

    it('keeps producer state through retention and DeleteRecords', () => {
      const log = open({ segmentBytes: 300, retentionBytes: 0 });
      for (let i = 0; i < 10; i++) log.append(idemBatch({ pid: 11n, seq: i }));
      log.highWatermark = log.logEndOffset;
      assert.ok(log.applyRetention(NOW) > 0);
      log.deleteRecordsBefore(log.logEndOffset);
      assert.equal(log.append(idemBatch({ pid: 11n, seq: 9 })).duplicate, true);
      assert.equal(
        codeOf(() => log.append(idemBatch({ pid: 11n, seq: 11 }))),
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      // And after a truncation to the log start, rebuilt from the snapshot of the oldest remaining segment.
      log.append(idemBatch({ pid: 11n, seq: 10 }));
      log.truncateTo(log.logStartOffset);
      assert.equal(log.append(idemBatch({ pid: 11n, seq: 9 })).duplicate, true);
    });

    it('drops producers idle for producer.id.expiration.ms, measured from their last batch timestamp', () => {
      const log = open();
      log.append(idemBatch({ pid: 1n, seq: 0, ts: BASE_TS }));
      log.append(idemBatch({ pid: 2n, seq: 0, ts: BASE_TS + 50_000_000 }));
      assert.equal(log.removeExpiredProducers(BASE_TS + 86_400_000 - 1), 0);
      assert.equal(log.removeExpiredProducers(BASE_TS + 86_400_000), 1);
      assert.deepEqual(
        log.producerEntries().map((e) => e.producerId),
        [2n],
      );
      // Unknown again: any sequence is accepted.
      assert.equal(log.append(idemBatch({ pid: 1n, seq: 5 })).duplicate, undefined);
    });

    it('keeps the same state through rolls (snapshots at every roll)', () => {
      const log = open({ segmentBytes: 250 });
      for (let i = 0; i < 20; i++) log.append(idemBatch({ pid: BigInt(i % 3), seq: Math.floor(i / 3) }));
      assert.ok(log.segmentCount > 3);
      const values = logValues(log).map((v) => v.value);
      assert.equal(values.length, 20);
      const end = log.logEndOffset;
      // Each producer's last 5 batches are recognised, across the segments they were written to.
      for (let i = 5; i < 20; i++) {
        const r = log.append(idemBatch({ pid: BigInt(i % 3), seq: Math.floor(i / 3) }));
        assert.equal(r.duplicate, true);
        assert.equal(r.firstOffset, BigInt(i));
      }
      assert.equal(log.logEndOffset, end);
    });
  });
}

describe('producer snapshots', () => {
  function managerWithState(): { store: MemorySnapshotStore; m: ProducerStateManager } {
    const store = new MemorySnapshotStore();
    const m = new ProducerStateManager(store);
    const log = new MemoryLog();
    for (let i = 0; i < 7; i++) {
      const b = idemBatch({ pid: BigInt(i % 2), seq: Math.floor(i / 2), ts: BASE_TS + i });
      log.append(b, { now: NOW });
    }
    const r = log.read(0n, { maxBytes: 1 << 20 });
    for (let at = 0; at < r.records.length; at += 12 + r.records.readInt32BE(at + 8)) m.applyStored(r.records, at);
    return { store, m };
  }

  it('round-trips the whole state and refuses damaged, foreign or misnamed data', () => {
    const { store, m } = managerWithState();
    assert.equal(m.takeSnapshot(7n), true);
    assert.equal(m.takeSnapshot(7n), false, 'unchanged state: no new snapshot');
    const data = store.read(7n)!;
    const entries = parseSnapshot(data, 7n);
    assert.deepEqual(entries, [...m.entries()]);
    const flipped = Buffer.from(data);
    flipped[flipped.length - 3]! ^= 1;
    assert.throws(() => parseSnapshot(flipped, 7n), CorruptSnapshotError);
    assert.throws(() => parseSnapshot(data, 8n), /named for 8/);
    assert.throws(() => parseSnapshot(data.subarray(0, 20), 7n), CorruptSnapshotError);
    const kafka = Buffer.alloc(40);
    kafka.writeInt16BE(1, 0);
    assert.throws(() => parseSnapshot(kafka, 7n), /not a samsa producer snapshot/);
  });

  it('reload falls back past an unusable snapshot and drops those above the log end', () => {
    const { store, m } = managerWithState();
    m.takeSnapshot(7n);
    store.write(5n, Buffer.from('garbage'));
    store.write(9n, store.read(7n)!);
    const fresh = new ProducerStateManager(store);
    assert.equal(fresh.reload(8n), 7n);
    assert.deepEqual([...fresh.entries()], [...m.entries()]);
    assert.deepEqual(store.offsets(), [5n, 7n]);
    store.write(7n, Buffer.from('damaged too'));
    assert.equal(fresh.reload(8n), null);
    assert.deepEqual(store.offsets(), [], 'unusable snapshots are removed');
    assert.equal(fresh.size, 0);
  });
});
