import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  Compression,
  compress,
  decodeRecordBatches,
  encodeRecordBatch,
  scanRecordSet,
  validateBatch,
} from '../../../src/protocol/records/index.js';
import { assertProtocolError, fixCrc, i8, onlyProtocolErrors, rawBatch, rawRecord, varint, vbytes } from './helpers.js';

const sample = encodeRecordBatch({
  baseOffset: 5n,
  producerId: 1n,
  records: [
    { key: 'key-1', value: 'value-1', headers: [{ key: 'h', value: 'x' }] },
    { key: null, value: 'value-2' },
  ],
});

/** A batch whose records region is `payload` verbatim, with a correct CRC. */
const withPayload = (payload: Buffer, recordCount: number, attributes = 0) =>
  rawBatch({ lastOffsetDelta: Math.max(0, recordCount - 1), recordCount, payload, attributes });

describe('CRC-32C', () => {
  test('every flipped bit from the attributes to the end is a CRC error', () => {
    for (let i = 21; i < sample.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const c = Buffer.from(sample);
        c[i]! ^= 1 << bit;
        assertProtocolError(() => scanRecordSet(c), 'corrupt-record', /CRC-32C mismatch/);
        assertProtocolError(() => decodeRecordBatches(c), 'corrupt-record', /CRC-32C mismatch/);
      }
    }
  });

  test('a flipped bit in the stored CRC is caught too', () => {
    for (let bit = 0; bit < 32; bit++) {
      const c = Buffer.from(sample);
      c[17 + (bit >> 3)]! ^= 1 << (bit & 7);
      assertProtocolError(() => validateBatch(c), 'corrupt-record', /CRC-32C mismatch/);
    }
  });

  test('base offset and leader epoch are outside the CRC', () => {
    const c = Buffer.from(sample);
    c[3]! ^= 0xff;
    c[13]! ^= 0xff;
    assert.equal(scanRecordSet(c).length, 1);
  });

  test('verifyCrc: false skips the check in decode', () => {
    const c = Buffer.from(sample);
    c[17]! ^= 1;
    assert.equal(decodeRecordBatches(c, { verifyCrc: false })[0]!.records.length, 2);
  });
});

describe('lengths and counts', () => {
  test('truncated at every byte: scan rejects, decode sees a partial tail', () => {
    for (let cut = 1; cut < sample.length; cut++) {
      const t = sample.subarray(0, cut);
      assertProtocolError(() => scanRecordSet(t), 'corrupt-record', /partial batch|exceeds/);
      assert.deepEqual(decodeRecordBatches(t), []);
      assertProtocolError(() => decodeRecordBatches(t, { allowPartialTail: false }), 'corrupt-record');
    }
  });

  test('negative, tiny and huge batch lengths', () => {
    for (const len of [-1, -2147483648, 0, 13, 48]) {
      const c = Buffer.from(sample);
      c.writeInt32BE(len, 8);
      assertProtocolError(() => scanRecordSet(c), 'corrupt-record', /length/);
      assertProtocolError(() => decodeRecordBatches(c), 'corrupt-record', /length/);
    }
    const huge = Buffer.from(sample);
    huge.writeInt32BE(0x7fffffff, 8);
    assertProtocolError(() => scanRecordSet(huge), 'corrupt-record', /exceeds/);
    assert.deepEqual(decodeRecordBatches(huge), []); // indistinguishable from a cut-off batch
    assertProtocolError(() => decodeRecordBatches(huge, { allowPartialTail: false }), 'corrupt-record');
  });

  test('a length shorter than the content leaves garbage that is rejected', () => {
    const c = Buffer.from(sample);
    c.writeInt32BE(c.readInt32BE(8) - 1, 8);
    assertProtocolError(() => scanRecordSet(c), 'corrupt-record');
    assertProtocolError(() => decodeRecordBatches(c), 'corrupt-record');
  });

  test('unknown magic', () => {
    const c = Buffer.from(sample);
    c[16] = 3;
    assertProtocolError(() => scanRecordSet(c), 'corrupt-record', /magic 3/);
    assertProtocolError(() => decodeRecordBatches(c), 'corrupt-record', /unknown magic 3/);
  });

  test('record counts larger than the bytes, or negative', () => {
    const payload = rawRecord({ offsetDelta: 0, key: null, value: 'v' });
    const many = withPayload(payload, 1000);
    assertProtocolError(() => scanRecordSet(many), 'corrupt-record', /record count 1000 cannot fit/);
    assertProtocolError(() => decodeRecordBatches(many), 'corrupt-record', /record count 1000 cannot fit/);
    const negative = withPayload(payload, -1);
    assertProtocolError(() => scanRecordSet(negative), 'corrupt-record', /negative record count/);
    assertProtocolError(() => decodeRecordBatches(negative), 'corrupt-record', /negative record count/);
    // Fits the byte bound (2 x 7 bytes) but there is only one record.
    const two = withPayload(Buffer.concat([payload, Buffer.alloc(8)]), 2);
    assertProtocolError(() => decodeRecordBatches(two), 'corrupt-record', /record 1/);
    // Fewer records declared than present.
    const fewer = withPayload(Buffer.concat([payload, payload]), 1);
    assertProtocolError(() => decodeRecordBatches(fewer), 'corrupt-record', /follow the last/);
  });

  test('compressed batches: huge counts are refused before decompressing', () => {
    const payload = compress(Compression.gzip, rawRecord({ offsetDelta: 0, key: null, value: 'v' }));
    const b = withPayload(payload, 2_000_000_000, Compression.gzip);
    assertProtocolError(() => decodeRecordBatches(b), 'corrupt-record', /record count/);
    assert.equal(scanRecordSet(b).length, 1); // the scan does not decompress
  });

  test('unknown compression codec', () => {
    const b = withPayload(Buffer.alloc(10), 1, 5);
    assertProtocolError(() => scanRecordSet(b), 'corrupt-record', /codec 5/);
    assertProtocolError(() => decodeRecordBatches(b), 'corrupt-record', /codec 5/);
  });
});

describe('records', () => {
  /** One record built from raw field bytes: the length prefix is computed unless `length` is given. */
  const record = (fields: Buffer[], length?: number) => {
    const body = Buffer.concat(fields);
    return Buffer.concat([varint(length ?? body.length), body]);
  };
  const ok = [i8(0), varint(0), varint(0), vbytes('k'), vbytes('v'), varint(0)];

  test('the helper builds a valid record', () => {
    assert.equal(decodeRecordBatches(withPayload(record(ok), 1))[0]!.records[0]!.value!.toString(), 'v');
  });

  const cases: [string, Buffer, RegExp][] = [
    ['negative record length', record(ok, -2), /record length -2/],
    ['record length past the end', record(ok, 1000), /record length 1000/],
    ['record length too short for the fields', record(ok, 5), /record 0/],
    ['record length longer than the fields', Buffer.concat([varint(9), ...ok, Buffer.alloc(1)]), /disagrees/],
    ['varint longer than 5 bytes', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0]), /varint/],
    [
      'varlong longer than 10 bytes',
      record([i8(0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), ...ok.slice(2)]),
      /varlong/,
    ],
    ['key longer than the record', record([i8(0), varint(0), varint(0), varint(50), Buffer.from('kkk')]), /record 0/],
    ['key length -2', record([i8(0), varint(0), varint(0), varint(-2), vbytes('v'), varint(0)]), /invalid length/],
    ['header count larger than the bytes', record([...ok.slice(0, 5), varint(1000)]), /header count 1000/],
    ['negative header count', record([...ok.slice(0, 5), varint(-1)]), /header count -1/],
    ['null header key', record([...ok.slice(0, 5), varint(1), varint(-1), vbytes('x')]), /invalid length/],
  ];
  for (const [name, payload, pattern] of cases) {
    test(name, () => {
      assertProtocolError(() => decodeRecordBatches(withPayload(payload, 1)), 'corrupt-record', pattern);
      assert.equal(scanRecordSet(withPayload(payload, 1)).length, 1); // scanning does not look at records
    });
  }

  test('corrupt compressed payloads, and decompression bombs beyond maxDecompressedBytes', () => {
    for (const codec of [1, 2, 3, 4]) {
      assertProtocolError(() => decodeRecordBatches(withPayload(Buffer.from('garbage!'), 1, codec)), 'corrupt-record');
      const records = Buffer.concat(
        Array.from({ length: 2000 }, (_, i) => rawRecord({ offsetDelta: i, key: null, value: Buffer.alloc(1000) })),
      );
      const bomb = withPayload(compress(codec, records), 2000, codec);
      assertProtocolError(
        () => decodeRecordBatches(bomb, { maxDecompressedBytes: 100_000 }),
        'corrupt-record',
        /limit/,
      );
      assert.equal(decodeRecordBatches(bomb, { maxDecompressedBytes: 10_000_000 })[0]!.records.length, 2000);
    }
  });

  test('the decompression limit is shared by the batches of one call', () => {
    const records = rawRecord({ offsetDelta: 0, key: null, value: Buffer.alloc(60_000) });
    const one = withPayload(compress(Compression.zstd, records), 1, Compression.zstd);
    const set = Buffer.concat([one, one]);
    assert.equal(decodeRecordBatches(set, { maxDecompressedBytes: 130_000 }).length, 2);
    assertProtocolError(() => decodeRecordBatches(set, { maxDecompressedBytes: 100_000 }), 'corrupt-record', /limit/);
  });
});

describe('fuzz', () => {
  const valid = Buffer.concat([
    sample,
    encodeRecordBatch({ compression: Compression.lz4, records: [{ key: 'a', value: 'b' }, { value: 'c' }] }),
  ]);

  test('property: random bytes only ever throw ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (arr, verifyCrc) => {
        const buf = Buffer.from(arr);
        onlyProtocolErrors(() => scanRecordSet(buf));
        onlyProtocolErrors(() => decodeRecordBatches(buf, { verifyCrc }));
        onlyProtocolErrors(() => decodeRecordBatches(buf, { verifyCrc, allowPartialTail: false }));
      }),
      { numRuns: 3000 },
    );
  });

  test('property: random bytes after a valid-looking v2 prefix only ever throw ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 4 }), (arr, codec) => {
        const buf = withPayload(Buffer.from(arr), arr.length % 9, codec);
        onlyProtocolErrors(() => scanRecordSet(buf));
        onlyProtocolErrors(() => decodeRecordBatches(buf));
      }),
      { numRuns: 3000 },
    );
  });

  test('property: mutated valid record sets (CRC fixed up or not) only ever throw ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (flips, fix) => {
          const buf = Buffer.from(valid);
          for (const [at, x] of flips) buf[at % buf.length]! ^= x;
          if (fix) {
            try {
              fixCrc(buf, 0);
              fixCrc(buf, sample.length);
            } catch {
              // A mutated length can put the CRC out of reach: leave it.
            }
          }
          onlyProtocolErrors(() => scanRecordSet(buf));
          onlyProtocolErrors(() => decodeRecordBatches(buf));
          onlyProtocolErrors(() => decodeRecordBatches(buf, { verifyCrc: false, allowPartialTail: false }));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
