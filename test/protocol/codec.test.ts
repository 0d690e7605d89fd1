import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError, Reader, readProduceRequest, Writer, writeProduceRequest } from '../../src/protocol/index.js';

const bytes = (...b: number[]) => Buffer.from(b);

describe('varints', () => {
  test('unsigned varints match the protobuf/Kafka encoding', () => {
    const cases: [number, number[]][] = [
      [0, [0]],
      [1, [1]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [300, [0xac, 0x02]],
      [16383, [0xff, 0x7f]],
      [16384, [0x80, 0x80, 0x01]],
      [0xffffffff, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ];
    for (const [value, encoded] of cases) {
      assert.deepEqual([...new Writer().uvarint(value).toBuffer()], encoded, `encode ${value}`);
      assert.equal(new Reader(Buffer.from(encoded)).uvarint(), value, `decode ${value}`);
    }
  });

  test('zig-zag varints and varlongs', () => {
    const ints: [number, number[]][] = [
      [0, [0]],
      [-1, [1]],
      [1, [2]],
      [-64, [0x7f]],
      [64, [0x80, 0x01]],
      [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
      [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ];
    for (const [value, encoded] of ints) {
      assert.deepEqual([...new Writer().varint(value).toBuffer()], encoded);
      assert.equal(new Reader(Buffer.from(encoded)).varint(), value);
    }
    const max = 2n ** 63n - 1n;
    const min = -(2n ** 63n);
    assert.deepEqual(
      [...new Writer().varlong(min).toBuffer()],
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1],
    );
    for (const v of [0n, -1n, 1n, max, min, 1234567890123n]) {
      assert.equal(new Reader(new Writer().varlong(v).toBuffer()).varlong(), v);
    }
    fc.assert(
      fc.property(fc.bigInt({ min, max }), (v) => new Reader(new Writer().varlong(v).toBuffer()).varlong() === v),
    );
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        return new Reader(new Writer().varint(v).toBuffer()).varint() === v;
      }),
    );
  });

  test('overlong and unterminated varints are refused', () => {
    assert.throws(() => new Reader(bytes(0xff, 0xff, 0xff, 0xff, 0x1f)).uvarint(), { kind: 'invalid-varint' });
    assert.throws(() => new Reader(bytes(0x80, 0x80)).uvarint(), { kind: 'truncated' });
    assert.throws(() => new Reader(bytes(...Array(10).fill(0xff), 0x01)).varlong(), { kind: 'invalid-varint' });
    assert.throws(() => new Writer().uvarint(-1), ProtocolError);
  });
});

describe('strings, bytes and uuids', () => {
  test('legacy and compact strings, with and without null', () => {
    const w = new Writer()
      .string('héllo')
      .nullableString(null)
      .compactString('')
      .compactNullableString(null)
      .compactString('日本');
    const r = new Reader(w.toBuffer());
    assert.equal(r.string(), 'héllo');
    assert.equal(r.nullableString(), null);
    assert.equal(r.compactString(), '');
    assert.equal(r.compactNullableString(), null);
    assert.equal(r.compactString(), '日本');
    assert.equal(r.remaining(), 0);
  });

  test('null is refused where the type is not nullable', () => {
    assert.throws(() => new Reader(bytes(0xff, 0xff)).string(), { kind: 'invalid-length' });
    assert.throws(() => new Reader(bytes(0)).compactString(), { kind: 'invalid-length' });
    assert.throws(() => new Reader(bytes(0xff, 0xff, 0xff, 0xff)).bytes(), { kind: 'invalid-length' });
  });

  test('bytes are views of the input, not copies', () => {
    const frame = new Writer().bytes(bytes(1, 2, 3)).toBuffer();
    const view = new Reader(frame).bytes();
    frame[4] = 9;
    assert.equal(view[0], 9);
    assert.equal(view.buffer, frame.buffer);
  });

  test('decoding a Produce request does not copy its record bytes', () => {
    const records = Buffer.alloc(100 * 1024, 1);
    for (const version of [3, 9, 11]) {
      const w = new Writer();
      writeProduceRequest(w, version, { acks: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] });
      const frame = w.toBuffer();
      const decoded = readProduceRequest(new Reader(frame), version).topicData[0]!.partitionData[0]!.records!;
      assert.ok(decoded.equals(records));
      assert.equal(decoded.buffer, frame.buffer, `v${version}: a view into the frame`);
    }
  });

  test('uuids use Kafka textual form and reject malformed input', () => {
    const raw = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const text = new Reader(raw).uuid();
    assert.equal(text.length, 22);
    assert.ok(new Writer().uuid(text).toBuffer().equals(raw));
    assert.throws(() => new Writer().uuid('not-a-uuid'), ProtocolError);
  });

  test('strings longer than int16 allows are refused', () => {
    assert.throws(() => new Writer().string('x'.repeat(40000)), ProtocolError);
  });
});

describe('Writer', () => {
  test('large blocks are linked, not copied, and chunks join to the same bytes', () => {
    const big = Buffer.alloc(64 * 1024, 7);
    const w = new Writer(16);
    const at = w.reserveInt32();
    w.int16(1).bytes(big).int8(-1);
    w.patchInt32(at, w.length - 4);
    const chunks = w.chunks();
    assert.ok(chunks.includes(big), 'the block is referenced as is');
    const joined = Buffer.concat(chunks);
    assert.equal(joined.readInt32BE(0), joined.length - 4);
    const r = new Reader(joined, 4);
    assert.equal(r.int16(), 1);
    assert.ok(r.bytes().equals(big));
    assert.equal(r.int8(), -1);
  });

  test('growth keeps earlier fields intact', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 300 }), (values) => {
        const w = new Writer(1);
        for (const v of values) w.int32(v).int8(v & 0x7f);
        const r = new Reader(w.toBuffer());
        for (const v of values) {
          assert.equal(r.int32(), v);
          assert.equal(r.int8(), v & 0x7f);
        }
      }),
    );
  });
});

describe('array counts', () => {
  test('counts beyond the remaining bytes are refused, null only when nullable', () => {
    assert.throws(() => new Reader(bytes(0, 0, 0, 5, 1, 2)).arrayLength(false), { kind: 'invalid-length' });
    assert.equal(new Reader(bytes(0xff, 0xff, 0xff, 0xff)).arrayLength(true), -1);
    assert.throws(() => new Reader(bytes(0xff, 0xff, 0xff, 0xff)).arrayLength(false), { kind: 'invalid-length' });
    assert.equal(new Reader(bytes(0)).compactArrayLength(true), -1);
    assert.throws(() => new Reader(bytes(0)).compactArrayLength(false), { kind: 'invalid-length' });
  });
});
