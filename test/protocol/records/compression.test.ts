import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compressFrameSync } from 'lz4-napi';
import { compressSync as snappyRaw, uncompressSync as snappyRawDecode } from 'snappy';
import { Compression, compress, decompress } from '../../../src/protocol/records/index.js';
import { lz4DecompressJs } from '../../../src/protocol/records/lz4.js';
import { xxh32 } from '../../../src/protocol/records/xxhash32.js';
import { assertProtocolError, i32, onlyProtocolErrors } from './helpers.js';

const CODECS = [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd];
const MiB = 1024 * 1024;

/** Random data with some repetition, so compressors find matches. */
const compressible = fc
  .array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 40 })), { maxLength: 40 })
  .map((parts) => Buffer.concat(parts.map(([p, n]) => Buffer.concat(Array(n).fill(Buffer.from(p))))));

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);

describe('compression round trips', () => {
  test('property: decompress(compress(x)) === x for every codec', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODECS), fc.oneof(compressible, fc.uint8Array({ maxLength: 3000 })), (c, d) => {
        const data = Buffer.from(d);
        assert.deepEqual(decompress(c, compress(c, data)), data);
      }),
      { numRuns: 300 },
    );
  });

  test('inputs larger than one snappy chunk, lz4 block and zstd block', () => {
    const data = Buffer.from(Array.from({ length: 600_000 }, (_, i) => (i * 7919) % 251));
    for (const c of CODECS) assert.ok(decompress(c, compress(c, data)).equals(data), `codec ${c}`);
  });

  test('none passes the buffer through', () => {
    const b = Buffer.from('abc');
    assert.equal(compress(Compression.none, b), b);
    assert.equal(decompress(Compression.none, b), b);
  });

  test('unknown codecs are a ProtocolError', () => {
    assertProtocolError(() => compress(5, Buffer.alloc(1)), 'corrupt-record', /codec 5/);
    assertProtocolError(() => decompress(7, Buffer.alloc(1)), 'corrupt-record', /codec 7/);
  });

  test('gzip and zstd honour a level', () => {
    const data = Buffer.from('abcdefgh'.repeat(1000));
    for (const c of [Compression.gzip, Compression.zstd]) {
      assert.ok(decompress(c, compress(c, data, { level: 1 })).equals(data));
    }
  });
});

describe('snappy framing', () => {
  test('compress writes the xerial framing with 32 KiB chunks', () => {
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 13));
    const out = compress(Compression.snappy, data);
    assert.deepEqual(out.subarray(0, 16), XERIAL_HEADER);
    const chunks: Buffer[] = [];
    let pos = 16;
    while (pos < out.length) {
      const len = out.readInt32BE(pos);
      chunks.push(snappyRawDecode(out.subarray(pos + 4, pos + 4 + len)) as Buffer);
      pos += 4 + len;
    }
    assert.deepEqual(
      chunks.map((c) => c.length),
      [32768, 32768, 70_000 - 65536],
    );
    assert.ok(Buffer.concat(chunks).equals(data));
  });

  test('empty input still gets one chunk after the header', () => {
    const out = compress(Compression.snappy, Buffer.alloc(0));
    assert.ok(out.length > 20);
    assert.equal(decompress(Compression.snappy, out).length, 0);
  });

  test('decodes a hand-built xerial frame', () => {
    // Raw snappy blocks written by hand: [uncompressed length varint][elements].
    // "hello": one literal of 5 bytes (tag (5-1)<<2).
    const block1 = Buffer.from([0x05, 0x10, ...Buffer.from('hello')]);
    // "abcabcabcabc": literal "abc", then a copy with a 1-byte offset: length 9 (tag (9-4)<<2 | 1), offset 3.
    const block2 = Buffer.from([0x0c, 0x08, ...Buffer.from('abc'), 0x15, 0x03]);
    const frame = Buffer.concat([XERIAL_HEADER, i32(block1.length), block1, i32(block2.length), block2]);
    assert.equal(decompress(Compression.snappy, frame).toString(), 'helloabcabcabcabc');
    // The same blocks without framing are raw snappy.
    assert.equal(decompress(Compression.snappy, block2).toString(), 'abcabcabcabc');
  });

  test('raw snappy, as librdkafka writes it, is read too', () => {
    const data = Buffer.from('librdkafka writes raw blocks '.repeat(100));
    assert.ok(decompress(Compression.snappy, snappyRaw(data)).equals(data));
  });

  test('malformed xerial chunks are a ProtocolError', () => {
    const block = Buffer.from([0x05, 0x10, ...Buffer.from('hello')]);
    const cases = [
      Buffer.concat([XERIAL_HEADER, i32(-1), block]),
      Buffer.concat([XERIAL_HEADER, i32(100), block]),
      Buffer.concat([XERIAL_HEADER, i32(block.length), block, Buffer.from([0, 0])]),
      Buffer.concat([XERIAL_HEADER, i32(block.length), Buffer.from([0x09]), block.subarray(1)]),
    ];
    for (const c of cases) assertProtocolError(() => decompress(Compression.snappy, c), 'corrupt-record');
  });
});

/** A hand-built LZ4 frame: FLG (version 01, independent blocks), BD (64 KiB), header checksum, blocks, end mark. */
function lz4Frame(blocks: Buffer[], flg = 0x60, extra: Buffer = Buffer.alloc(0)): Buffer {
  const descriptor = Buffer.concat([Buffer.from([flg, 0x40]), extra]);
  const hc = (xxh32(descriptor) >>> 8) & 0xff;
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([hc])];
  for (const b of blocks) {
    const size = Buffer.alloc(4);
    size.writeUInt32LE(b.length);
    parts.push(size, b);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

describe('lz4 frames', () => {
  // "hello " as literals, then a match of 11 bytes at offset 6, then 5 final literals "!!!!!".
  const block = Buffer.from([0x67, ...Buffer.from('hello '), 0x06, 0x00, 0x50, ...Buffer.from('!!!!!')]);
  const text = 'hello hello hello!!!!!';

  test('decodes a hand-built frame, natively and with the JS decoder', () => {
    const frame = lz4Frame([block]);
    assert.equal(decompress(Compression.lz4, frame).toString(), text);
    assert.equal(lz4DecompressJs(frame, 1000).toString(), text);
  });

  test('an uncompressed block (high bit of its size) and several frames in a row', () => {
    const raw = Buffer.from('plain');
    const size = Buffer.alloc(4);
    size.writeUInt32LE((0x80000000 | raw.length) >>> 0);
    const frame = Buffer.concat([lz4Frame([]).subarray(0, 7), size, raw, Buffer.alloc(4)]);
    assert.equal(decompress(Compression.lz4, frame).toString(), 'plain');
    assert.equal(decompress(Compression.lz4, Buffer.concat([frame, lz4Frame([block])])).toString(), `plain${text}`);
  });

  test('property: the JS decoder agrees with the native one', () => {
    fc.assert(
      fc.property(compressible, fc.boolean(), (data, checksums) => {
        const frame = compressFrameSync(data, { contentChecksum: checksums, blockChecksums: checksums });
        assert.ok(lz4DecompressJs(frame, data.length).equals(data));
        assert.ok(decompress(Compression.lz4, frame).equals(data));
      }),
      { numRuns: 200 },
    );
  });

  test('checksums are verified by the JS decoder', () => {
    const data = Buffer.from('checksum me '.repeat(500));
    const frame = compressFrameSync(data, { contentChecksum: true, blockChecksums: true });
    const badContent = Buffer.from(frame);
    badContent[badContent.length - 1]! ^= 1;
    assertProtocolError(() => lz4DecompressJs(badContent, MiB), 'corrupt-record', /content checksum/);
    assertProtocolError(() => decompress(Compression.lz4, badContent), 'corrupt-record');
    const badBlock = Buffer.from(frame);
    badBlock[badBlock.length - 9]! ^= 1; // the last block's checksum, before the end mark and content checksum
    assertProtocolError(() => lz4DecompressJs(badBlock, MiB), 'corrupt-record', /checksum/);
  });

  test('the Kafka 0.8/0.9 header checksum (over the magic too) is accepted only for legacy data', () => {
    const data = Buffer.from('legacy lz4 payload '.repeat(50));
    const frame = Buffer.from(compressFrameSync(data));
    const broken = (xxh32(frame, 0, 6) >>> 8) & 0xff;
    assert.notEqual(broken, frame[6]);
    frame[6] = broken;
    assertProtocolError(() => decompress(Compression.lz4, frame), 'corrupt-record', /header checksum/);
    assert.ok(decompress(Compression.lz4, frame, { legacyLz4: true }).equals(data));
  });

  test('malformed frames are a ProtocolError', () => {
    const good = lz4Frame([block]);
    const cases: Buffer[] = [
      Buffer.alloc(0),
      good.subarray(0, 5),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([1, 2])]),
      lz4Frame([block], 0xa0), // version 10
      lz4Frame([Buffer.from([0x67, ...Buffer.from('hello '), 0x07, 0x00, 0x50, ...Buffer.from('!!!!!')])]), // offset 7
      lz4Frame([Buffer.from([0x67, ...Buffer.from('hello '), 0x00, 0x00])]), // offset 0
      lz4Frame([Buffer.from([0xf0, 0xff, 0xff])]), // literal length runs off the block
    ];
    const badHc = Buffer.from(good);
    badHc[6]! ^= 0xff;
    cases.push(badHc);
    for (const c of cases) {
      assertProtocolError(() => decompress(Compression.lz4, c), 'corrupt-record');
      onlyProtocolErrors(() => lz4DecompressJs(c, MiB));
    }
  });
});

describe('zstd frames', () => {
  // Frame header: magic, descriptor 0x00 (no content size, not single segment, no checksum), window 2^17.
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);
  const rawBlock = (s: string, last: boolean) => {
    const h = (last ? 1 : 0) | (Buffer.byteLength(s) << 3);
    return Buffer.concat([Buffer.from([h & 0xff, (h >>> 8) & 0xff, h >>> 16]), Buffer.from(s)]);
  };
  const rleBlock = (byte: number, size: number, last: boolean) => {
    const h = (last ? 1 : 0) | (1 << 1) | (size << 3);
    return Buffer.from([h & 0xff, (h >>> 8) & 0xff, h >>> 16, byte]);
  };

  test('a hand-built frame without a content size (as stream compressors write)', () => {
    const frame = Buffer.concat([header, rawBlock('hello ', false), rleBlock(0x21, 3, true)]);
    assert.equal(decompress(Compression.zstd, frame).toString(), 'hello !!!');
  });

  test('several frames, and skippable frames, in a row', () => {
    const a = compress(Compression.zstd, Buffer.from('first '));
    const b = Buffer.concat([header, rawBlock('second', true)]);
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    assert.equal(decompress(Compression.zstd, Buffer.concat([a, skippable, b])).toString(), 'first second');
  });

  test('malformed frames are a ProtocolError', () => {
    const good = Buffer.concat([header, rawBlock('hello', true)]);
    const corruptCompressed = Buffer.from(compress(Compression.zstd, Buffer.from('some text '.repeat(100))));
    corruptCompressed[corruptCompressed.length - 3]! ^= 0x55;
    const cases = [
      Buffer.alloc(0),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([1])]),
      Buffer.from([0x28, 0xb5, 0x2f, 0xfe, 0, 0, 0, 0]),
      Buffer.concat([header, Buffer.from([0x07, 0, 0])]), // reserved block type
      corruptCompressed,
    ];
    for (const c of cases) assertProtocolError(() => decompress(Compression.zstd, c), 'corrupt-record');
  });
});

describe('decompression bombs', () => {
  const zeros = Buffer.alloc(8 * MiB);

  test('each codec refuses output over maxBytes', () => {
    for (const c of CODECS) {
      const packed = compress(c, zeros);
      // Snappy tops out near 21:1, the others go far beyond; either way the input is well under the limit.
      assert.ok(packed.length < MiB / 2, `codec ${c} compresses zeros well`);
      assertProtocolError(() => decompress(c, packed, { maxBytes: MiB }), 'corrupt-record', /limit/);
      assert.equal(decompress(c, packed, { maxBytes: 8 * MiB }).length, 8 * MiB);
    }
  });

  test('gzip made by zlib directly', () => {
    assertProtocolError(() => decompress(Compression.gzip, gzipSync(zeros), { maxBytes: 1000 }), 'corrupt-record');
  });

  test('declared sizes over the limit are refused before decoding', () => {
    // Raw snappy claiming 4 GiB in its length preamble.
    const snappyLie = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    assertProtocolError(() => decompress(Compression.snappy, snappyLie), 'corrupt-record', /limit/);
    // LZ4 frame declaring a content size of 2^40.
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(2n ** 40n);
    assertProtocolError(() => decompress(Compression.lz4, lz4Frame([], 0x68, size)), 'corrupt-record', /limit/);
    // zstd frame declaring 2^32 bytes (4-byte content size field).
    const zstdLie = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00]);
    assertProtocolError(() => decompress(Compression.zstd, zstdLie), 'corrupt-record', /limit/);
  });

  test('zstd RLE blocks without a declared size stop at the limit', () => {
    const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);
    const blocks: Buffer[] = [];
    for (let i = 0; i < 64; i++) {
      const h = (i === 63 ? 1 : 0) | (1 << 1) | ((128 * 1024) << 3);
      blocks.push(Buffer.from([h & 0xff, (h >>> 8) & 0xff, h >>> 16, 0x41]));
    }
    const bomb = Buffer.concat([header, ...blocks]);
    assertProtocolError(() => decompress(Compression.zstd, bomb, { maxBytes: MiB }), 'corrupt-record', /limit/);
    const out = decompress(Compression.zstd, bomb, { maxBytes: 8 * MiB });
    assert.equal(out.length, 8 * MiB);
    assert.equal(out[8 * MiB - 1], 0x41);
  });

  test('lz4 with many blocks goes through the bounded decoder', () => {
    const frame = compressFrameSync(zeros);
    assertProtocolError(() => lz4DecompressJs(frame, MiB), 'corrupt-record', /limit/);
  });
});

describe('hostile input', () => {
  test('property: random bytes into every decompressor only ever throw ProtocolError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CODECS), fc.uint8Array({ maxLength: 300 }), (c, arr) => {
        onlyProtocolErrors(() => decompress(c, Buffer.from(arr), { maxBytes: MiB }));
        onlyProtocolErrors(() => decompress(c, Buffer.from(arr), { maxBytes: MiB, legacyLz4: true }));
      }),
      { numRuns: 1000 },
    );
  });

  test('property: mutated valid compressed data only ever throws ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CODECS),
        compressible,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (c, data, flips) => {
          const packed = Buffer.from(compress(c, data));
          for (const [at, x] of flips) packed[at % packed.length]! ^= x;
          onlyProtocolErrors(() => decompress(c, packed, { maxBytes: MiB }));
          if (c === Compression.lz4) onlyProtocolErrors(() => lz4DecompressJs(packed, MiB, true));
        },
      ),
      { numRuns: 500 },
    );
  });
});
