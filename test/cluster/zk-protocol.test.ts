/**
 * The ZooKeeper client's pieces that need no server: the jute codec and the protocol records (round trips; random
 * and truncated bytes fail with a typed error and never allocate by a length they do not hold), connect strings,
 * path rules, and a connection facing a server that misbehaves (an oversized frame, an answer out of order).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isZkError, ZkErrorCode, ZooKeeperError } from '../../src/metadata/zookeeper/errors.js';
import { JuteError, JuteReader, JuteWriter } from '../../src/metadata/zookeeper/jute.js';
import { parseConnectString, validatePath } from '../../src/metadata/zookeeper/paths.js';
import {
  OpCode,
  readConnectResponse,
  readMultiResponse,
  readReplyHeader,
  readStat,
  readWatcherEvent,
} from '../../src/metadata/zookeeper/protocol.js';
import { ZkClient } from '../../src/metadata/zookeeper/zk-client.js';

/** Runs `read` on `bytes`; anything but success or a JuteError is a bug. */
function decodesOrJuteError(bytes: Uint8Array, read: (r: JuteReader) => unknown): void {
  try {
    read(new JuteReader(Buffer.from(bytes)));
  } catch (e) {
    if (!(e instanceof JuteError)) throw e;
  }
}

function stat(w: JuteWriter, version: number): JuteWriter {
  return w.long(1n).long(2n).long(3n).long(4n).int(version).int(0).int(0).long(0x1234n).int(5).int(0).long(6n);
}

describe('jute', () => {
  it('round-trips every field type, nulls included', () => {
    const w = new JuteWriter(1);
    w.int(-5)
      .long(-(2n ** 63n))
      .boolean(true)
      .buffer(Buffer.from([1, 2]))
      .buffer(null)
      .string('zk€')
      .string(null);
    w.strings(['a', '', 'ü']);
    const r = new JuteReader(Buffer.from(w.bytes()));
    assert.equal(r.int(), -5);
    assert.equal(r.long(), -(2n ** 63n));
    assert.equal(r.boolean(), true);
    assert.deepEqual(r.buffer(), Buffer.from([1, 2]));
    assert.deepEqual(r.buffer(), Buffer.alloc(0));
    assert.equal(r.string(), 'zk€');
    assert.equal(r.string(), '');
    assert.deepEqual(r.strings(), ['a', '', 'ü']);
    assert.equal(r.remaining, 0);
  });

  it('rejects lengths and counts the frame cannot hold before allocating', () => {
    const huge = Buffer.alloc(8);
    huge.writeInt32BE(0x7fffffff, 0);
    assert.throws(() => new JuteReader(huge).buffer(), JuteError);
    assert.throws(() => new JuteReader(huge).string(), JuteError);
    assert.throws(() => new JuteReader(huge).strings(), JuteError);
    const negative = Buffer.alloc(4);
    negative.writeInt32BE(-2, 0);
    assert.throws(() => new JuteReader(negative).buffer(), JuteError);
    assert.throws(() => new JuteReader(negative).strings(), JuteError);
    assert.throws(() => new JuteReader(Buffer.alloc(3)).int(), JuteError);
  });

  it('random bytes decode or fail with JuteError, for every record the client reads', () => {
    const readers: ((r: JuteReader) => unknown)[] = [
      readConnectResponse,
      (r) => [readReplyHeader(r), readStat(r)],
      readWatcherEvent,
      (r) => readMultiResponse(r, 8),
      (r) => r.strings(),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const read of readers) decodesOrJuteError(bytes, read);
      }),
      { numRuns: 2000 },
    );
  });

  it('a multi answer truncated at any byte fails with JuteError', () => {
    const w = new JuteWriter();
    w.int(OpCode.check).boolean(false).int(0);
    w.int(OpCode.create).boolean(false).int(0).string('/a/b');
    stat(w.int(OpCode.setData).boolean(false).int(0), 3);
    w.int(OpCode.error).boolean(false).int(-101).int(-101);
    w.int(-1).boolean(true).int(-1);
    const full = Buffer.from(w.bytes());
    const results = readMultiResponse(new JuteReader(full), 4);
    assert.deepEqual(
      results.map((x) => x.type),
      [OpCode.check, OpCode.create, OpCode.setData, OpCode.error],
    );
    assert.deepEqual(results[1], { type: OpCode.create, err: 0, path: '/a/b' });
    assert.equal(results[2]!.type === OpCode.setData && results[2]!.stat.ephemeralOwner, 0x1234n);
    for (let n = 0; n < full.length; n++) {
      assert.throws(() => readMultiResponse(new JuteReader(full.subarray(0, n)), 4), JuteError, `cut at ${n}`);
    }
    // More results than ops sent is a broken answer, not a longer list.
    assert.throws(() => readMultiResponse(new JuteReader(full), 3), JuteError);
  });
});

describe('connect strings and paths', () => {
  it('parses hosts, ports, IPv6 and a chroot', () => {
    assert.deepEqual(parseConnectString('zk1:2182,zk2, [::1]:2183/samsa/a'), {
      servers: [
        { host: 'zk1', port: 2182 },
        { host: 'zk2', port: 2181 },
        { host: '::1', port: 2183 },
      ],
      chroot: '/samsa/a',
    });
    assert.deepEqual(parseConnectString('127.0.0.1:2181/'), {
      servers: [{ host: '127.0.0.1', port: 2181 }],
      chroot: '',
    });
    for (const bad of ['', '/chroot', 'zk:0', 'zk:70000', 'zk:x', 'zk/a//b']) {
      assert.throws(() => parseConnectString(bad), bad);
    }
  });

  it('accepts what ZooKeeper accepts and rejects the rest with BAD_ARGUMENTS', () => {
    for (const ok of ['/', '/a', '/a/b-c_d.e', '/zk\u00e9', '/a/..b']) validatePath(ok);
    validatePath('/queue/', true);
    for (const bad of ['', 'a', '/a/', '//', '/a//b', '/.', '/a/..', '/a\u0000', '/a\u0007', '/a\u0085', '/a\ufff5']) {
      assert.throws(
        () => validatePath(bad),
        (e: unknown) => isZkError(e, 'BAD_ARGUMENTS'),
        JSON.stringify(bad),
      );
    }
  });

  it('names error codes', () => {
    const e = new ZooKeeperError(ZkErrorCode.NODE_EXISTS, '/x');
    assert.equal(e.message, 'NODE_EXISTS: /x');
    assert.equal(new ZooKeeperError(-999).codeName, 'UNKNOWN(-999)');
  });
});

/** A server that answers the handshake with `answer` (already framed) and then does `afterwards`. */
async function misbehavingServer(
  answer: Buffer,
  afterwards: (socket: net.Socket, frame: Buffer) => void = () => {},
): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    let handshaken = false;
    s.on('data', (d: Buffer) => {
      if (!handshaken) {
        handshaken = true;
        s.write(answer);
      } else {
        afterwards(s, d);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function connectAnswer(timeoutMs: number): Buffer {
  const w = new JuteWriter();
  const at = w.reserveInt();
  w.int(0).int(timeoutMs).long(0x42n).buffer(Buffer.alloc(16)).boolean(false);
  w.patchInt(at, w.length - 4);
  return Buffer.from(w.bytes());
}

describe('a connection facing a misbehaving server', () => {
  it('refuses a frame larger than maxBufferBytes without buffering it', async () => {
    const big = Buffer.alloc(4);
    big.writeInt32BE(64 * 1024 * 1024, 0);
    const server = await misbehavingServer(big);
    try {
      await assert.rejects(
        ZkClient.connect(server.address, { sessionTimeoutMs: 2_000, connectionTimeoutMs: 1_000 }),
        (e: unknown) => isZkError(e, 'CONNECTION_LOSS'),
      );
    } finally {
      await server.close();
    }
  });

  it('drops the connection on an answer that matches no request; the request fails with CONNECTION_LOSS', async () => {
    const server = await misbehavingServer(connectAnswer(10_000), (socket) => {
      const w = new JuteWriter();
      const at = w.reserveInt();
      w.int(999_999).long(1n).int(0); // an xid nobody sent
      w.patchInt(at, w.length - 4);
      socket.write(Buffer.from(w.bytes()));
    });
    const client = await ZkClient.connect(server.address, { sessionTimeoutMs: 10_000 });
    try {
      await assert.rejects(client.get('/x'), (e: unknown) => isZkError(e, 'CONNECTION_LOSS'));
      assert.notEqual(client.state, 'connected');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('reports an expired session when the server answers the handshake with timeout 0', async () => {
    const server = await misbehavingServer(connectAnswer(0));
    try {
      await assert.rejects(
        ZkClient.connect(server.address, { sessionTimeoutMs: 10_000, connectionTimeoutMs: 2_000 }),
        (e: unknown) => isZkError(e, 'SESSION_EXPIRED'),
      );
    } finally {
      await server.close();
    }
  });
});
