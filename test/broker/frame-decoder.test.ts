import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, FrameTooLargeError } from '../../src/broker/frame-decoder.js';

function frame(body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
}

const bodies = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), Buffer.alloc(300, 7)];
const stream = Buffer.concat(bodies.map(frame));

function drain(d: FrameDecoder): Buffer[] {
  const out: Buffer[] = [];
  for (let f = d.next(); f !== null; f = d.next()) out.push(Buffer.from(f));
  return out;
}

describe('FrameDecoder', () => {
  it('decodes identically when the stream is split at every byte boundary', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (const j of [i, Math.min(stream.length, i + 1), Math.min(stream.length, i + 5)]) {
        const d = new FrameDecoder(1024);
        const got: Buffer[] = [];
        for (const piece of [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]) {
          d.push(piece);
          got.push(...drain(d));
        }
        assert.deepEqual(got, bodies, `split at ${i}/${j}`);
        assert.equal(d.buffered, 0);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const d = new FrameDecoder(1024);
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      d.push(stream.subarray(i, i + 1));
      got.push(...drain(d));
    }
    assert.deepEqual(got, bodies);
  });

  it('returns a view, not a copy, when a frame lies in one chunk', () => {
    const d = new FrameDecoder(1024);
    d.push(stream);
    const f = d.next();
    assert.ok(f !== null);
    assert.equal(f.buffer, stream.buffer);
  });

  it('rejects an oversized or negative size as soon as the prefix arrives', () => {
    const d = new FrameDecoder(100);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(0x7fffffff, 0);
    d.push(prefix.subarray(0, 3));
    assert.equal(d.next(), null);
    d.push(prefix.subarray(3));
    assert.throws(
      () => d.next(),
      (e: unknown) => e instanceof FrameTooLargeError && e.size === 0x7fffffff,
    );
    const n = new FrameDecoder(100);
    n.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    assert.throws(() => n.next(), FrameTooLargeError);
    const ok = new FrameDecoder(100);
    ok.push(frame(Buffer.alloc(100)));
    assert.equal(ok.next()?.length, 100);
  });
});
