import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compressFrameSync } from 'lz4-napi';
import {
  Compression,
  compress,
  decodeRecordBatches,
  encodeRecordBatch,
  scanRecordSet,
} from '../../../src/protocol/records/index.js';
import { xxh32 } from '../../../src/protocol/records/xxhash32.js';
import { assertProtocolError, rawMessage } from './helpers.js';

const str = (b: Buffer | null) => (b === null ? null : b.toString());

describe('legacy message sets, uncompressed', () => {
  test('magic 0: one batch per message, no timestamps', () => {
    const set = Buffer.concat([
      rawMessage({ offset: 10n, magic: 0, key: 'k0', value: 'v0' }),
      rawMessage({ offset: 11n, magic: 0, key: null, value: 'v1' }),
      rawMessage({ offset: 12n, magic: 0, key: 'k2', value: null }),
    ]);
    const batches = decodeRecordBatches(set);
    assert.equal(batches.length, 3);
    assert.deepEqual(
      batches.map((b) => [b.magic, b.baseOffset, b.recordCount, b.lastOffsetDelta, b.compression, b.timestampType]),
      [
        [0, 10n, 1, 0, 0, 0],
        [0, 11n, 1, 0, 0, 0],
        [0, 12n, 1, 0, 0, 0],
      ],
    );
    assert.deepEqual(
      batches.map((b) => b.records.map((r) => [r.offset, r.timestamp, str(r.key), str(r.value), r.headers])),
      [[[10n, -1n, 'k0', 'v0', []]], [[11n, -1n, null, 'v1', []]], [[12n, -1n, 'k2', null, []]]],
    );
    const b = batches[0]!;
    assert.equal(b.batchLength, set.readInt32BE(8));
    assert.equal(b.producerId, -1n);
    assert.equal(b.producerEpoch, -1);
    assert.equal(b.baseSequence, -1);
    assert.equal(b.partitionLeaderEpoch, -1);
    assert.equal(b.crc, set.readUInt32BE(12));
    assert.equal(b.isTransactional, false);
    assert.equal(b.isControl, false);
  });

  test('magic 1: timestamps and their type', () => {
    const set = Buffer.concat([
      rawMessage({ offset: 0n, magic: 1, timestamp: 1234n, key: 'a', value: 'b' }),
      rawMessage({ offset: 1n, magic: 1, attributes: 0x08, timestamp: 5678n, key: null, value: 'c' }),
    ]);
    const [x, y] = decodeRecordBatches(set);
    assert.equal(x!.magic, 1);
    assert.equal(x!.timestampType, 0);
    assert.equal(x!.records[0]!.timestamp, 1234n);
    assert.equal(x!.baseTimestamp, 1234n);
    assert.equal(x!.maxTimestamp, 1234n);
    assert.equal(y!.timestampType, 1);
    assert.equal(y!.records[0]!.timestamp, 5678n);
  });

  test('keys and values are views of the input', () => {
    const set = rawMessage({ offset: 0n, magic: 0, key: 'key', value: 'value' });
    const r = decodeRecordBatches(set)[0]!.records[0]!;
    assert.equal(r.key!.buffer, set.buffer);
    assert.equal(r.value!.buffer, set.buffer);
  });

  test('v0, v1 and v2 entries mixed in one set decode in order', () => {
    const set = Buffer.concat([
      rawMessage({ offset: 0n, magic: 0, key: null, value: 'zero' }),
      rawMessage({ offset: 1n, magic: 1, timestamp: 9n, key: null, value: 'one' }),
      encodeRecordBatch({ baseOffset: 2n, records: [{ value: 'two' }] }),
    ]);
    const batches = decodeRecordBatches(set);
    assert.deepEqual(
      batches.map((b) => [b.magic, str(b.records[0]!.value)]),
      [
        [0, 'zero'],
        [1, 'one'],
        [2, 'two'],
      ],
    );
  });

  test('a partial trailing message is ignored by default', () => {
    const a = rawMessage({ offset: 0n, magic: 1, key: null, value: 'whole' });
    const b = rawMessage({ offset: 1n, magic: 1, key: null, value: 'cut short' });
    for (let cut = 1; cut < b.length; cut++) {
      const set = Buffer.concat([a, b.subarray(0, cut)]);
      assert.equal(decodeRecordBatches(set).length, 1);
      assertProtocolError(() => decodeRecordBatches(set, { allowPartialTail: false }), 'corrupt-record');
    }
  });

  test('scanRecordSet (produce validation) accepts only magic 2', () => {
    const set = rawMessage({ offset: 0n, magic: 1, key: null, value: 'old client' });
    assertProtocolError(() => scanRecordSet(set), 'corrupt-record', /magic/);
  });
});

/** A compressed wrapper message around `inner` (a message set). */
function wrapper(offset: bigint, magic: 0 | 1, codec: number, inner: Buffer, timestamp = 0n, attributes = 0) {
  return rawMessage({
    offset,
    magic,
    attributes: attributes | codec,
    timestamp,
    key: null,
    value: compress(codec, inner),
  });
}

describe('legacy compressed wrappers', () => {
  test('magic 1: inner offsets are relative, the wrapper holds the last absolute offset', () => {
    const inner = Buffer.concat([
      rawMessage({ offset: 0n, magic: 1, timestamp: 100n, key: 'a', value: '1' }),
      rawMessage({ offset: 1n, magic: 1, timestamp: 101n, key: 'b', value: '2' }),
      rawMessage({ offset: 2n, magic: 1, timestamp: 102n, key: 'c', value: '3' }),
    ]);
    for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4]) {
      const [b, ...rest] = decodeRecordBatches(wrapper(502n, 1, codec, inner, 102n));
      assert.equal(rest.length, 0);
      assert.equal(b!.magic, 1);
      assert.equal(b!.compression, codec);
      assert.equal(b!.baseOffset, 500n);
      assert.equal(b!.lastOffsetDelta, 2);
      assert.equal(b!.recordCount, 3);
      assert.equal(b!.maxTimestamp, 102n);
      assert.equal(b!.baseTimestamp, 100n);
      assert.deepEqual(
        b!.records.map((r) => [r.offset, r.timestamp, str(r.key), str(r.value)]),
        [
          [500n, 100n, 'a', '1'],
          [501n, 101n, 'b', '2'],
          [502n, 102n, 'c', '3'],
        ],
      );
    }
  });

  test('magic 1 with log append time: inner messages take the wrapper timestamp', () => {
    const inner = Buffer.concat([
      rawMessage({ offset: 0n, magic: 1, timestamp: 1n, key: null, value: 'x' }),
      rawMessage({ offset: 1n, magic: 1, timestamp: 2n, key: null, value: 'y' }),
    ]);
    const [b] = decodeRecordBatches(wrapper(1n, 1, Compression.gzip, inner, 999n, 0x08));
    assert.equal(b!.timestampType, 1);
    assert.deepEqual(
      b!.records.map((r) => [r.offset, r.timestamp]),
      [
        [0n, 999n],
        [1n, 999n],
      ],
    );
  });

  test('magic 0: inner offsets are absolute', () => {
    const inner = Buffer.concat([
      rawMessage({ offset: 40n, magic: 0, key: null, value: 'x' }),
      rawMessage({ offset: 41n, magic: 0, key: null, value: 'y' }),
    ]);
    for (const codec of [Compression.gzip, Compression.snappy]) {
      const [b] = decodeRecordBatches(wrapper(41n, 0, codec, inner));
      assert.deepEqual(
        b!.records.map((r) => [r.offset, r.timestamp, str(r.value)]),
        [
          [40n, -1n, 'x'],
          [41n, -1n, 'y'],
        ],
      );
    }
  });

  test('magic 0 lz4 with the Kafka 0.8/0.9 header checksum decodes; magic 1 does not accept it', () => {
    const inner = Buffer.concat([
      rawMessage({ offset: 0n, magic: 0, key: null, value: 'legacy lz4 one' }),
      rawMessage({ offset: 1n, magic: 0, key: null, value: 'legacy lz4 two' }),
    ]);
    const frame = Buffer.from(compressFrameSync(inner));
    frame[6] = (xxh32(frame, 0, 6) >>> 8) & 0xff; // checksum over magic + descriptor, as the old producer wrote
    const v0 = rawMessage({ offset: 1n, magic: 0, attributes: 3, key: null, value: frame });
    assert.deepEqual(
      decodeRecordBatches(v0)[0]!.records.map((r) => str(r.value)),
      ['legacy lz4 one', 'legacy lz4 two'],
    );
    const v1 = rawMessage({ offset: 1n, magic: 1, attributes: 3, key: null, value: frame });
    assertProtocolError(() => decodeRecordBatches(v1), 'corrupt-record', /header checksum/);
  });

  test('an empty inner set gives a batch with no records', () => {
    const [b] = decodeRecordBatches(wrapper(5n, 1, Compression.gzip, Buffer.alloc(0), 7n));
    assert.equal(b!.recordCount, 0);
    assert.equal(b!.baseOffset, 5n);
  });
});

describe('corrupt legacy messages', () => {
  test('CRC-32 mismatch, unless verifyCrc is off', () => {
    const m = rawMessage({ offset: 0n, magic: 1, key: 'k', value: 'v', crc: 0x12345678 });
    assertProtocolError(() => decodeRecordBatches(m), 'corrupt-record', /CRC-32 mismatch/);
    assert.equal(decodeRecordBatches(m, { verifyCrc: false })[0]!.records[0]!.value!.toString(), 'v');
  });

  test('every flipped bit after the CRC field is caught', () => {
    const m = rawMessage({ offset: 0n, magic: 1, timestamp: 5n, key: 'key', value: 'value' });
    for (let i = 16; i < m.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const c = Buffer.from(m);
        c[i]! ^= 1 << bit;
        assertProtocolError(() => decodeRecordBatches(c), 'corrupt-record');
      }
    }
  });

  test('structural errors', () => {
    const inner = rawMessage({ offset: 0n, magic: 1, key: null, value: 'x' });
    const nested = wrapper(0n, 1, Compression.gzip, wrapper(0n, 1, Compression.gzip, inner));
    assertProtocolError(() => decodeRecordBatches(nested), 'corrupt-record', /nested/);
    const nullValue = rawMessage({ offset: 0n, magic: 1, attributes: 1, key: null, value: null });
    assertProtocolError(() => decodeRecordBatches(nullValue), 'corrupt-record', /null value/);
    const zstd = wrapper(0n, 1, Compression.zstd, inner);
    assertProtocolError(() => decodeRecordBatches(zstd), 'corrupt-record', /not valid with magic 1/);
    const garbage = rawMessage({ offset: 0n, magic: 1, attributes: 1, key: null, value: 'not gzip' });
    assertProtocolError(() => decodeRecordBatches(garbage), 'corrupt-record', /gzip/);
    const truncatedInner = wrapper(0n, 1, Compression.gzip, inner.subarray(0, inner.length - 1));
    assertProtocolError(() => decodeRecordBatches(truncatedInner), 'corrupt-record', /inner message/);
    const innerV2 = wrapper(0n, 1, Compression.gzip, encodeRecordBatch({ records: [{ value: 'x' }] }));
    assertProtocolError(() => decodeRecordBatches(innerV2), 'corrupt-record', /magic 2/);
  });

  test('lengths that disagree with the message size', () => {
    const m = rawMessage({ offset: 0n, magic: 0, key: 'k', value: 'v' });
    const keyTooLong = Buffer.from(m);
    keyTooLong.writeInt32BE(100, 18);
    assertProtocolError(() => decodeRecordBatches(keyTooLong, { verifyCrc: false }), 'corrupt-record', /key length/);
    const negativeKey = Buffer.from(m);
    negativeKey.writeInt32BE(-2, 18);
    assertProtocolError(() => decodeRecordBatches(negativeKey, { verifyCrc: false }), 'corrupt-record');
    const shortValue = Buffer.from(m);
    shortValue.writeInt32BE(0, 23);
    assertProtocolError(() => decodeRecordBatches(shortValue, { verifyCrc: false }), 'corrupt-record', /disagrees/);
    const tooSmall = Buffer.from(m);
    tooSmall.writeInt32BE(10, 8);
    assertProtocolError(() => decodeRecordBatches(tooSmall), 'corrupt-record', /invalid length 10/);
    const v1TooSmall = rawMessage({ offset: 0n, magic: 0, key: null, value: null });
    v1TooSmall[16] = 1; // a v1 message needs 22 bytes, this one has 14
    assertProtocolError(() => decodeRecordBatches(v1TooSmall, { verifyCrc: false }), 'corrupt-record', /minimum 22/);
  });
});
