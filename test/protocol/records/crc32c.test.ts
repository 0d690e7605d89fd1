import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { crc32, crc32c, crc32cJs } from '../../../src/protocol/records/index.js';
import { xxh32 } from '../../../src/protocol/records/xxhash32.js';

const seq = (n: number, f: (i: number) => number) => Buffer.from(Array.from({ length: n }, (_, i) => f(i)));

describe('crc32c', () => {
  test('known vectors (the check value and RFC 3720 B.4)', () => {
    const cases: [Buffer, number][] = [
      [Buffer.from('123456789'), 0xe3069283],
      [Buffer.alloc(0), 0],
      [Buffer.alloc(32, 0), 0x8a9136aa],
      [Buffer.alloc(32, 0xff), 0x62a8ab43],
      [seq(32, (i) => i), 0x46dd794e],
      [seq(32, (i) => 31 - i), 0x113fdb5c],
    ];
    for (const [input, expected] of cases) {
      assert.equal(crc32c(input), expected, `crc32c of ${input.toString('hex')}`);
      assert.equal(crc32cJs(input), expected, `crc32cJs of ${input.toString('hex')}`);
    }
  });

  test('the JS and native paths agree on every size around the switch-over, and on long inputs', () => {
    const big = seq(4096, (i) => (i * 2654435761) >>> 24);
    for (let n = 0; n <= 600; n++) assert.equal(crc32c(big.subarray(0, n)), crc32cJs(big.subarray(0, n)), `n=${n}`);
    assert.equal(crc32c(big), crc32cJs(big));
  });

  test('property: equal on random input, and `initial` continues a checksum over split input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (arr, cut) => {
        const buf = Buffer.from(arr);
        const at = buf.length === 0 ? 0 : cut % (buf.length + 1);
        const whole = crc32c(buf);
        assert.equal(crc32cJs(buf), whole);
        assert.equal(crc32c(buf.subarray(at), crc32c(buf.subarray(0, at))), whole);
        assert.equal(crc32cJs(buf.subarray(at), crc32cJs(buf.subarray(0, at))), whole);
        assert.ok(whole >= 0 && whole <= 0xffffffff);
      }),
    );
  });

  test('crc32 (legacy messages) is the IEEE/zlib CRC', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
    assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  });
});

describe('xxh32 (LZ4 frame checksums)', () => {
  test('known vectors', () => {
    assert.equal(xxh32(Buffer.alloc(0)), 0x02cc5d05);
    assert.equal(xxh32(Buffer.from('a')), 0x550d7456);
    assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxh32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
    assert.equal(xxh32(Buffer.from('xxabcxx'), 2, 5), 0x32d153ff);
  });
});
