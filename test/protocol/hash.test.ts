import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  groupPartition,
  javaStringHashCode,
  kafkaAbs,
  murmur2,
  partitionForKey,
  toPositive,
} from '../../src/protocol/hash.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('murmur2', () => {
  it('matches the Java client test vectors', () => {
    const cases: [Uint8Array, number][] = [
      [utf8('21'), -973932308],
      [utf8('foobar'), -790332482],
      [utf8('a-little-bit-long-string'), -985981536],
      [utf8('a-little-bit-longer-string'), -1486304829],
      [utf8('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
      [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
    ];
    for (const [key, expected] of cases) assert.equal(murmur2(key), expected);
  });

  it('handles every tail length and bytes >= 0x80 like Java (computed with a JVM)', () => {
    assert.equal(murmur2(new Uint8Array(0)), 275646681);
    const high = [0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9];
    const expected = [-311467685, 1717632651, 998637092, 2136149935, 524068735, -1374838545, -166236347];
    for (let n = 1; n <= 7; n++)
      assert.equal(murmur2(new Uint8Array(high.slice(0, n))), expected[n - 1], `length ${n}`);
  });

  it('always returns a signed 32-bit integer and ignores the view offset', () => {
    const buf = new Uint8Array([9, 9, 0x66, 0x6f, 0x6f, 0x62, 0x61, 0x72, 9]);
    assert.equal(murmur2(buf.subarray(2, 8)), -790332482);
    for (let i = 0; i < 200; i++) {
      const h = murmur2(utf8(`k${i}`));
      assert.equal(h, h | 0);
    }
  });
});

describe('toPositive / partitionForKey', () => {
  it('clears only the sign bit', () => {
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(-2147483648), 0);
    assert.equal(toPositive(123), 123);
    assert.equal(toPositive(-973932308), -973932308 & 0x7fffffff);
  });

  it('maps keys to partitions like the Java default partitioner', () => {
    assert.equal(partitionForKey(utf8('key-0'), 12), 1);
    assert.equal(partitionForKey(utf8('key-1'), 12), 0);
    assert.equal(partitionForKey(utf8('key-2'), 12), 2);
    assert.equal(partitionForKey(utf8('user-42'), 12), 4);
    assert.equal(partitionForKey(utf8('été 😀'), 12), 6);
    assert.equal(partitionForKey(utf8('21'), 1), 0);
    assert.equal(partitionForKey(utf8('21'), 7), (-973932308 & 0x7fffffff) % 7);
  });

  it('rejects invalid partition counts', () => {
    for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => partitionForKey(utf8('a'), n), RangeError);
    }
  });
});

describe('javaStringHashCode / groupPartition', () => {
  it('matches String.hashCode', () => {
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(javaStringHashCode('my-group'), -1906497762);
    assert.equal(javaStringHashCode('console-consumer-12345'), 158455506);
    // UTF-16 code units, surrogate pairs included (value computed with a JVM).
    assert.equal(javaStringHashCode('été 😀'), -1803469019);
  });

  it('uses Kafka abs, which maps Integer.MIN_VALUE to 0', () => {
    assert.equal(kafkaAbs(-2147483648), 0);
    assert.equal(kafkaAbs(-5), 5);
    assert.equal(kafkaAbs(7), 7);
    assert.equal(groupPartition('polygenelubricants', 50), 0);
    assert.equal(groupPartition('GydZG_', 50), 0);
    assert.equal(groupPartition('polygenelubricants', 7), 0);
  });

  it('maps group ids to __consumer_offsets partitions', () => {
    assert.equal(groupPartition('hello', 50), 22);
    assert.equal(groupPartition('my-group', 50), 12);
    assert.equal(groupPartition('console-consumer-12345', 50), 6);
    assert.equal(groupPartition('été 😀', 50), 19);
    assert.equal(groupPartition('', 50), 0);
    assert.throws(() => groupPartition('g', 0), RangeError);
  });
});
