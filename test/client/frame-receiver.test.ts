/**
 * FrameReceiver on a real loopback socket: frames cut anywhere (inside the size, inside the body, several in one
 * read, larger than its scratch buffer) come out whole and in order; a size out of bounds is reported once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameReceiver } from '../../src/client/network/frame-receiver.js';

function framed(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** Serves `pieces` one write at a time (with a pause between, so that reads end where writes do). */
async function receive(pieces: Buffer[], max = 1 << 24): Promise<{ frames: Buffer[]; badSizes: number[] }> {
  const server = net.createServer(async (socket) => {
    for (const p of pieces) {
      socket.write(p);
      await sleep(2);
    }
    socket.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const receiver = new FrameReceiver(max);
  const frames: Buffer[] = [];
  const badSizes: number[] = [];
  receiver.attach({ frame: (f) => frames.push(Buffer.from(f)), badSize: (s) => badSizes.push(s) });
  const socket = net.connect({ host: '127.0.0.1', port, onread: receiver.onread });
  await new Promise((r) => socket.on('close', r));
  server.close();
  return { frames, badSizes };
}

describe('FrameReceiver', () => {
  it('gives back frames of every size, cut at every kind of place', async () => {
    const bodies = [4, 5, 100, 70_000, 10, 300_000, 4, 65_532, 65_536, 1_000_000].map((n) => randomBytes(n));
    const stream = Buffer.concat(bodies.map(framed));
    // Cuts: inside a size (1, 3 bytes), at a frame boundary, mid-body, and large runs.
    const sizes = [1, 3, 7, 2, 50_000, 1, 1, 1, 120_000, 13];
    const pieces: Buffer[] = [];
    let at = 0;
    for (let i = 0; at < stream.length; i++) {
      const n = sizes[i % sizes.length]!;
      pieces.push(stream.subarray(at, at + n));
      at += n;
    }
    const { frames, badSizes } = await receive(pieces);
    assert.deepEqual(badSizes, []);
    assert.equal(frames.length, bodies.length);
    for (let i = 0; i < bodies.length; i++) assert.ok(frames[i]!.equals(bodies[i]!), `frame ${i}`);
  });

  it('splits many small frames that arrive in one read', async () => {
    const bodies = Array.from({ length: 500 }, (_, i) => randomBytes(4 + (i % 40)));
    const { frames } = await receive([Buffer.concat(bodies.map(framed))]);
    assert.deepEqual(
      frames.map((f) => f.toString('hex')),
      bodies.map((b) => b.toString('hex')),
    );
  });

  it('reports a size under 4 or over the limit before allocating, and reads nothing after it', async () => {
    const tooBig = Buffer.alloc(4);
    tooBig.writeInt32BE(2_000_000);
    const first = randomBytes(8);
    const { frames, badSizes } = await receive([framed(first), tooBig, randomBytes(100)], 1_000_000);
    assert.deepEqual(badSizes, [2_000_000]);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.equals(first));
    const negative = Buffer.alloc(4);
    negative.writeInt32BE(-1);
    assert.deepEqual((await receive([negative, framed(first)])).badSizes, [-1]);
  });
});
