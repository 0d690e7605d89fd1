import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  crc32c,
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordBatchInput,
  readBatchHeader,
  scanRecordSet,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateBatch,
} from '../../../src/protocol/records/index.js';
import { assertProtocolError, rawBatch, rawRecord } from './helpers.js';

const bytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
const nullableBytes = fc.option(bytes, { nil: null, freq: 4 });

const recordArb = fc.record(
  {
    key: fc.oneof(nullableBytes, fc.string({ unit: 'grapheme', maxLength: 20 })),
    value: fc.oneof(nullableBytes, fc.string({ maxLength: 50 })),
    headers: fc.array(
      fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 10 }), value: fc.oneof(nullableBytes, fc.string()) }),
      { maxLength: 4 },
    ),
    timestamp: fc.bigInt({ min: 0n, max: 2n ** 45n }),
    gap: fc.integer({ min: 1, max: 1000 }),
  },
  { requiredKeys: ['gap'] },
);

const batchArb = fc.record(
  {
    baseOffset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    compression: fc.integer({ min: 0, max: 4 }),
    timestampType: fc.constantFrom<0 | 1>(0, 1),
    isTransactional: fc.boolean(),
    isControl: fc.boolean(),
    producerId: fc.bigInt({ min: -1n, max: 2n ** 62n }),
    producerEpoch: fc.integer({ min: -1, max: 32767 }),
    baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    baseTimestamp: fc.bigInt({ min: 0n, max: 2n ** 45n }),
    records: fc.array(recordArb, { maxLength: 12 }),
    useGaps: fc.boolean(),
  },
  { requiredKeys: ['records', 'useGaps'] },
);

type BatchArb = typeof batchArb extends fc.Arbitrary<infer T> ? T : never;

function toInput(b: BatchArb): RecordBatchInput {
  let delta = -1;
  const { useGaps, records, ...rest } = b;
  return {
    ...rest,
    records: records.map(({ gap, ...r }) => {
      delta += useGaps ? gap : 1;
      return { ...r, offsetDelta: useGaps ? delta : undefined };
    }),
  };
}

const asBuffer = (v: Buffer | string | null | undefined) =>
  v === undefined || v === null ? null : typeof v === 'string' ? Buffer.from(v) : v;

/** Checks a decoded batch against the input it was encoded from. */
function checkAgainstInput(input: RecordBatchInput, encoded: Buffer) {
  const [batch, ...more] = decodeRecordBatches(encoded);
  assert.equal(more.length, 0);
  assert.ok(batch);
  const n = input.records.length;
  const now = batch.baseTimestamp;
  const timestamps = input.records.map((r) => r.timestamp ?? input.baseTimestamp ?? now);
  const deltas = input.records.map((r, i) => r.offsetDelta ?? i);
  const maxTs = timestamps.reduce((a, b) => (b > a ? b : a), timestamps[0] ?? batch.baseTimestamp);
  assert.equal(batch.magic, 2);
  assert.equal(batch.baseOffset, input.baseOffset ?? 0n);
  assert.equal(batch.batchLength, encoded.length - 12);
  assert.equal(batch.partitionLeaderEpoch, input.partitionLeaderEpoch ?? -1);
  assert.equal(batch.compression, input.compression ?? 0);
  assert.equal(batch.timestampType, input.timestampType ?? 0);
  assert.equal(batch.isTransactional, input.isTransactional ?? false);
  assert.equal(batch.isControl, input.isControl ?? false);
  assert.equal(batch.hasDeleteHorizon, false);
  assert.equal(batch.producerId, input.producerId ?? -1n);
  assert.equal(batch.producerEpoch, input.producerEpoch ?? -1);
  assert.equal(batch.baseSequence, input.baseSequence ?? -1);
  assert.equal(batch.recordCount, n);
  assert.equal(batch.lastOffsetDelta, n > 0 ? deltas[n - 1] : 0);
  if (input.baseTimestamp !== undefined) assert.equal(batch.baseTimestamp, input.baseTimestamp);
  else if (n > 0 && input.records[0]!.timestamp !== undefined) assert.equal(batch.baseTimestamp, timestamps[0]);
  assert.equal(batch.maxTimestamp, maxTs);
  assert.equal(batch.crc, crc32c(encoded.subarray(21)));
  assert.equal(batch.records.length, n);
  batch.records.forEach((rec, i) => {
    const src = input.records[i]!;
    assert.equal(rec.offset, batch.baseOffset + BigInt(deltas[i]!));
    assert.equal(rec.timestamp, batch.timestampType === 1 ? batch.maxTimestamp : timestamps[i]);
    assert.deepEqual(rec.key, asBuffer(src.key));
    assert.deepEqual(rec.value, asBuffer(src.value));
    assert.deepEqual(
      rec.headers,
      (src.headers ?? []).map((h) => ({ key: h.key, value: asBuffer(h.value) })),
    );
  });
  // The header reader and the validator agree with the full decode.
  const { records: _records, ...header } = batch;
  assert.deepEqual(readBatchHeader(encoded, 0), header);
  assert.deepEqual(validateBatch(encoded), { ...header, position: 0, size: encoded.length });
}

describe('record batch v2 round trips', () => {
  test('property: encode then decode gives back every field, for every codec and flag', () => {
    fc.assert(
      fc.property(batchArb, (b) => {
        const input = toInput(b);
        checkAgainstInput(input, encodeRecordBatch(input));
      }),
      { numRuns: 400 },
    );
  });

  test('property: a record set of several batches is scanned and decoded batch by batch', () => {
    fc.assert(
      fc.property(fc.array(batchArb, { minLength: 1, maxLength: 5 }), (bs) => {
        const encoded = bs.map((b) => encodeRecordBatch(toInput(b)));
        const set = Buffer.concat(encoded);
        const scanned = scanRecordSet(set);
        const decoded = decodeRecordBatches(set);
        assert.equal(scanned.length, bs.length);
        assert.equal(decoded.length, bs.length);
        let pos = 0;
        scanned.forEach((s, i) => {
          assert.equal(s.position, pos);
          assert.equal(s.size, encoded[i]!.length);
          assert.equal(s.baseOffset, decoded[i]!.baseOffset);
          assert.equal(s.recordCount, decoded[i]!.records.length);
          pos += s.size;
        });
      }),
      { numRuns: 100 },
    );
  });

  test('defaults: offsets from 0, no producer, timestamps default to now', () => {
    const before = BigInt(Date.now());
    const buf = encodeRecordBatch({ records: [{ value: 'a' }, { value: 'b', timestamp: 5n }] });
    const after = BigInt(Date.now());
    const [b] = decodeRecordBatches(buf);
    assert.ok(b);
    assert.ok(b.baseTimestamp >= before && b.baseTimestamp <= after);
    assert.equal(b.records[0]!.timestamp, b.baseTimestamp);
    assert.equal(b.records[1]!.timestamp, 5n);
    assert.equal(b.maxTimestamp, b.baseTimestamp);
    assert.deepEqual(
      b.records.map((r) => r.offset),
      [0n, 1n],
    );
    assert.equal(b.producerId, -1n);
    assert.equal(b.producerEpoch, -1);
    assert.equal(b.baseSequence, -1);
    assert.equal(b.partitionLeaderEpoch, -1);
  });

  test('an empty batch', () => {
    const buf = encodeRecordBatch({ records: [], baseOffset: 7n });
    assert.equal(buf.length, 61);
    const [b] = decodeRecordBatches(buf);
    assert.equal(b!.recordCount, 0);
    assert.deepEqual(b!.records, []);
    assert.equal(b!.baseTimestamp, -1n);
    assert.equal(scanRecordSet(buf).length, 1);
  });

  test('timestamps before the base timestamp give negative deltas', () => {
    const buf = encodeRecordBatch({
      baseTimestamp: 10_000n,
      records: [{ timestamp: 10_000n }, { timestamp: 1n }, { timestamp: -5n }, { timestamp: 2n ** 62n }],
    });
    const [b] = decodeRecordBatches(buf);
    assert.deepEqual(
      b!.records.map((r) => r.timestamp),
      [10_000n, 1n, -5n, 2n ** 62n],
    );
    assert.equal(b!.maxTimestamp, 2n ** 62n);
  });

  test('log append time: every record reads the batch max timestamp', () => {
    const buf = encodeRecordBatch({ timestampType: 1, records: [{ timestamp: 3n }, { timestamp: 9n }] });
    const [b] = decodeRecordBatches(buf);
    assert.deepEqual(
      b!.records.map((r) => r.timestamp),
      [9n, 9n],
    );
  });

  test('uncompressed keys, values and header values are views of the input, not copies', () => {
    const buf = encodeRecordBatch({
      records: [{ key: 'key', value: 'value', headers: [{ key: 'h', value: 'hv' }] }],
    });
    const rec = decodeRecordBatches(buf)[0]!.records[0]!;
    for (const view of [rec.key!, rec.value!, rec.headers[0]!.value!]) {
      assert.equal(view.buffer, buf.buffer);
      assert.ok(view.byteOffset >= buf.byteOffset && view.byteOffset < buf.byteOffset + buf.length);
    }
  });

  test('a control batch (transaction commit marker) keeps its key and value raw', () => {
    const key = Buffer.from([0, 0, 0, 1]); // version 0, type 1 (commit)
    const value = Buffer.from([0, 0, 0, 0, 0, 5]); // version 0, coordinator epoch 5
    const buf = encodeRecordBatch({
      isControl: true,
      isTransactional: true,
      producerId: 42n,
      producerEpoch: 3,
      records: [{ key, value }],
    });
    const [b] = decodeRecordBatches(buf);
    assert.equal(b!.isControl, true);
    assert.equal(b!.isTransactional, true);
    assert.equal(b!.attributes, 0x30);
    assert.deepEqual(b!.records[0]!.key, key);
    assert.deepEqual(b!.records[0]!.value, value);
  });

  test('encode refuses offset deltas that do not increase, and unknown codecs', () => {
    assertProtocolError(
      () => encodeRecordBatch({ records: [{ offsetDelta: 2 }, { offsetDelta: 2 }] }),
      'invalid-value',
    );
    assertProtocolError(() => encodeRecordBatch({ records: [{ offsetDelta: -1 }] }), 'invalid-value');
    assertProtocolError(() => encodeRecordBatch({ records: [{ offsetDelta: 1.5 }] }), 'invalid-value');
    assertProtocolError(() => encodeRecordBatch({ compression: 6, records: [] }), 'invalid-value');
    assertProtocolError(() => encodeRecordBatch({ producerEpoch: 40000, records: [] }), 'invalid-value');
  });
});

describe('hand-built v2 batch', () => {
  // Two records: key "k" value "v1" with a header, and a null key/value at +2 offsets and +5 ms.
  const payload = Buffer.concat([
    rawRecord({ offsetDelta: 0, key: 'k', value: 'v1', headers: [['trace', 'abc']] }),
    rawRecord({ offsetDelta: 2, timestampDelta: 5n, key: null, value: null, headers: [['h', null]] }),
  ]);
  const built = rawBatch({
    baseOffset: 100n,
    partitionLeaderEpoch: 4,
    attributes: 0x10,
    lastOffsetDelta: 2,
    baseTimestamp: 1_600_000_000_000n,
    maxTimestamp: 1_600_000_000_005n,
    producerId: 77n,
    producerEpoch: 1,
    baseSequence: 10,
    recordCount: 2,
    payload,
  });

  test('decodes field by field', () => {
    const [b] = decodeRecordBatches(built);
    assert.ok(b);
    assert.equal(b.baseOffset, 100n);
    assert.equal(b.partitionLeaderEpoch, 4);
    assert.equal(b.isTransactional, true);
    assert.equal(b.lastOffsetDelta, 2);
    assert.equal(b.producerId, 77n);
    assert.equal(b.baseSequence, 10);
    assert.deepEqual(
      b.records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
      [
        [100n, 1_600_000_000_000n, 'k', 'v1'],
        [102n, 1_600_000_000_005n, null, null],
      ],
    );
    assert.deepEqual(b.records[0]!.headers, [{ key: 'trace', value: Buffer.from('abc') }]);
    assert.deepEqual(b.records[1]!.headers, [{ key: 'h', value: null }]);
  });

  test('the encoder produces exactly these bytes', () => {
    const encoded = encodeRecordBatch({
      baseOffset: 100n,
      partitionLeaderEpoch: 4,
      isTransactional: true,
      producerId: 77n,
      producerEpoch: 1,
      baseSequence: 10,
      records: [
        { key: 'k', value: 'v1', headers: [{ key: 'trace', value: 'abc' }], timestamp: 1_600_000_000_000n },
        { key: null, value: null, headers: [{ key: 'h', value: null }], timestamp: 1_600_000_000_005n, offsetDelta: 2 },
      ],
    });
    assert.deepEqual(encoded, built);
  });

  test('readBatchHeader reads the header alone and refuses short input and other magics', () => {
    const h = readBatchHeader(Buffer.concat([Buffer.alloc(3), built]), 3);
    assert.equal(h.baseOffset, 100n);
    assert.equal(h.recordCount, 2);
    assertProtocolError(() => readBatchHeader(built.subarray(0, 60)), 'truncated');
    const v1 = Buffer.from(built);
    v1[16] = 1;
    assertProtocolError(() => readBatchHeader(v1), 'corrupt-record', /magic 1/);
  });

  test('delete horizon attribute', () => {
    const b = rawBatch({ attributes: 0x40, lastOffsetDelta: 0, recordCount: 0, payload: Buffer.alloc(0) });
    assert.equal(readBatchHeader(b).hasDeleteHorizon, true);
  });
});

describe('in-place rewrites', () => {
  test('base offset and partition leader epoch are rewritten without breaking the CRC', () => {
    const a = encodeRecordBatch({ records: [{ value: 'x' }, { value: 'y' }] });
    const b = encodeRecordBatch({ compression: 3, records: [{ value: 'z' }] });
    const set = Buffer.concat([a, b]);
    const [sa, sb] = scanRecordSet(set);
    setBaseOffset(set, sa!.position, 1000n);
    setBaseOffset(set, sb!.position, 1002n);
    setPartitionLeaderEpoch(set, sa!.position, 9);
    setPartitionLeaderEpoch(set, sb!.position, 9);
    const scanned = scanRecordSet(set);
    assert.deepEqual(
      scanned.map((s) => [s.baseOffset, s.partitionLeaderEpoch]),
      [
        [1000n, 9],
        [1002n, 9],
      ],
    );
    assert.deepEqual(
      decodeRecordBatches(set).flatMap((x) => x.records.map((r) => r.offset)),
      [1000n, 1001n, 1002n],
    );
  });

  test('rewrites refuse positions without a batch header', () => {
    const a = encodeRecordBatch({ records: [] });
    assertProtocolError(() => setBaseOffset(a, 1, 0n), 'invalid-value');
    assertProtocolError(() => setPartitionLeaderEpoch(a, -1, 0), 'invalid-value');
  });
});

describe('partial trailing batch', () => {
  const a = encodeRecordBatch({ records: [{ value: 'first' }] });
  const b = encodeRecordBatch({ baseOffset: 1n, records: [{ value: 'second' }] });

  test('decode ignores it by default, at every cut', () => {
    for (let cut = 0; cut < b.length; cut++) {
      const set = Buffer.concat([a, b.subarray(0, cut)]);
      const decoded = decodeRecordBatches(set);
      assert.equal(decoded.length, 1, `cut ${cut}`);
      assert.equal(decoded[0]!.records[0]!.value!.toString(), 'first');
      if (cut > 0) assertProtocolError(() => decodeRecordBatches(set, { allowPartialTail: false }), 'corrupt-record');
    }
  });

  test('scanRecordSet rejects it', () => {
    for (let cut = 1; cut < b.length; cut++) {
      const set = Buffer.concat([a, b.subarray(0, cut)]);
      assertProtocolError(() => scanRecordSet(set), 'corrupt-record', new RegExp(`byte ${a.length}:`));
    }
  });
});
