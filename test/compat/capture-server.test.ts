/**
 * The capture server itself, driven with hand-built frames: framing (split and pipelined frames, size limits),
 * ApiVersions including the UNSUPPORTED_VERSION fallback, and closing the connection on what it does not serve.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import {
  apiSpec,
  type MetadataResponse,
  Reader,
  readApiVersionsResponse,
  readMetadataResponse,
  readProduceResponse,
  readResponseHeader,
  requestHeaderVersion,
  Writer,
  writeApiVersionsRequest,
  writeFetchRequest,
  writeMetadataRequest,
  writeProduceRequest,
  writeRequestHeader,
} from '../../src/protocol/index.js';
import { API_VERSIONS, CaptureServer, DEFAULT_ADVERTISED, METADATA, PRODUCE } from './capture-server.js';

function frame(apiKey: number, version: number, correlationId: number, body: (w: Writer) => void): Buffer {
  const w = new Writer();
  writeRequestHeader(w, requestHeaderVersion(apiKey, version), {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId,
    clientId: 'capture-test',
  });
  body(w);
  const payload = w.toBuffer();
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

/** A raw client connection that collects response frames and notices when the server closes it. */
class RawClient {
  private buf = Buffer.alloc(0);
  readonly frames: Buffer[] = [];
  closed = false;
  private readonly socket: net.Socket;
  private wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const n = this.buf.readInt32BE(0);
        this.frames.push(this.buf.subarray(4, 4 + n));
        this.buf = this.buf.subarray(4 + n);
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => {});
  }

  static connect(server: CaptureServer): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(server.port, server.host, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(b: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(b, () => resolve()));
  }

  async until(done: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the capture server');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

describe('capture server', () => {
  it('answers ApiVersions with the advertised ranges from API_SPECS, header v0 even for v3', async () => {
    const server = await CaptureServer.start();
    const client = await RawClient.connect(server);
    try {
      await client.write(
        frame(API_VERSIONS, 3, 7, (w) =>
          writeApiVersionsRequest(w, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }),
        ),
      );
      await client.until(() => client.frames.length === 1);
      const r = new Reader(client.frames[0]!);
      assert.equal(readResponseHeader(r, 0).correlationId, 7);
      const body = readApiVersionsResponse(r, 3);
      assert.equal(r.remaining(), 0);
      assert.equal(body.errorCode, 0);
      assert.deepEqual(
        body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
        [...DEFAULT_ADVERTISED]
          .sort((a, b) => a - b)
          .map((key) => {
            const spec = apiSpec(key)!;
            return [key, spec.minVersion, spec.latestVersionUnstable ? spec.maxVersion - 1 : spec.maxVersion];
          }),
      );
      assert.equal(server.requests[0]!.body.clientSoftwareName, 'x');
    } finally {
      client.end();
      await server.close();
    }
  });

  it('answers a too-new ApiVersions with UNSUPPORTED_VERSION and a v0 body listing its range', async () => {
    const server = await CaptureServer.start({ apiVersionsMax: 2 });
    const client = await RawClient.connect(server);
    try {
      // A version from the future: the body layout is unknown, so put something odd in it.
      await client.write(frame(API_VERSIONS, 9, 3, (w) => w.int32(12345)));
      await client.until(() => client.frames.length === 1);
      const r = new Reader(client.frames[0]!);
      assert.equal(readResponseHeader(r, 0).correlationId, 3);
      const body = readApiVersionsResponse(r, 0);
      assert.equal(r.remaining(), 0);
      assert.equal(body.errorCode, 35);
      assert.deepEqual(body.apiKeys, [{ apiKey: API_VERSIONS, minVersion: 0, maxVersion: 2 }]);
      assert.equal(client.closed, false);
    } finally {
      client.end();
      await server.close();
    }
  });

  it('reassembles frames split at every byte and answers pipelined requests in order', async () => {
    const server = await CaptureServer.start();
    const client = await RawClient.connect(server);
    try {
      const a = frame(METADATA, 12, 1, (w) => writeMetadataRequest(w, 12, { topics: [{ name: 'one' }] }));
      const b = frame(METADATA, 1, 2, (w) => writeMetadataRequest(w, 1, { topics: null }));
      const both = Buffer.concat([a, b]);
      for (let i = 0; i < both.length; i++) {
        await client.write(both.subarray(i, i + 1));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await client.until(() => client.frames.length === 2);
      const read = (f: Buffer, version: number, headerVersion: number): [number, MetadataResponse] => {
        const r = new Reader(f);
        const id = readResponseHeader(r, headerVersion).correlationId;
        const body = readMetadataResponse(r, version);
        assert.equal(r.remaining(), 0);
        return [id, body];
      };
      const [id1, m1] = read(client.frames[0]!, 12, 1);
      const [id2, m2] = read(client.frames[1]!, 1, 0);
      assert.deepEqual([id1, id2], [1, 2]);
      assert.deepEqual(
        m1.brokers.map((b) => [b.nodeId, b.host, b.port]),
        [[0, '127.0.0.1', server.port]],
      );
      assert.deepEqual(
        m1.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => [p.partitionIndex, p.leaderId])]),
        [['one', 0, [[0, 0]]]],
      );
      // A null topic list means every topic the server has seen.
      assert.deepEqual(
        m2.topics.map((t) => t.name),
        ['one'],
      );
      assert.equal(server.requests.length, 2);
      assert.deepEqual(server.requests[0]!.frame, a.subarray(4));
    } finally {
      client.end();
      await server.close();
    }
  });

  it('answers Produce with acks=1 and stays silent for acks=0', async () => {
    const server = await CaptureServer.start();
    const client = await RawClient.connect(server);
    try {
      const produce = (id: number, acks: number) =>
        frame(PRODUCE, 9, id, (w) =>
          writeProduceRequest(w, 9, {
            acks,
            timeoutMs: 1000,
            topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.from('not a real batch') }] }],
          }),
        );
      await client.write(Buffer.concat([produce(1, 0), produce(2, 1)]));
      await client.until(() => client.frames.length === 1);
      const r = new Reader(client.frames[0]!);
      assert.equal(readResponseHeader(r, 1).correlationId, 2);
      const body = readProduceResponse(r, 9);
      assert.deepEqual(
        body.responses.map((t) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset])]),
        [['t', [[0, 0, 0n]]]],
      );
      assert.equal(server.requests.length, 2);
    } finally {
      client.end();
      await server.close();
    }
  });

  // The last column is what the recorded request says about why it was refused (null: refused before framing).
  for (const [what, bytes, why] of [
    ['an API it does not advertise', frame(19, 0, 1, (w) => w.int32(0)), /not advertised/],
    ['an advertised API it does not serve (Fetch)', frame(1, 4, 1, (w) => writeFetchRequest(w, 4, {})), /not served/],
    ['a Metadata version outside the spec', frame(METADATA, 99, 1, () => {}), /outside/],
    ['a frame larger than the limit', Buffer.from([0x7f, 0, 0, 0, 0, 0, 0, 0]), null],
    ['a frame too small for a header', Buffer.from([0, 0, 0, 2, 0, 0]), null],
    ['a body that does not decode', frame(METADATA, 1, 1, (w) => w.int32(5)), /bad body/],
  ] as const) {
    it(`closes the connection on ${what}`, async () => {
      const server = await CaptureServer.start();
      const client = await RawClient.connect(server);
      try {
        await client.write(bytes);
        await client.until(() => client.closed);
        assert.equal(client.frames.length, 0);
        if (why === null) {
          assert.equal(server.requests.length, 0);
        } else {
          assert.equal(server.requests.length, 1);
          assert.match(server.requests[0]!.rejected ?? '', why);
        }
      } finally {
        client.end();
        await server.close();
      }
    });
  }
});
