/**
 * ZooKeeper sessions under real faults, against a real ZooKeeper 3.8: server restarts (SIGTERM and SIGKILL), a
 * server down or frozen (SIGSTOP) for longer than the session timeout, a network partition (a TCP proxy that
 * drops everything without closing), a dropped connection, and a client whose event loop stalls for longer than
 * its session timeout (a long GC pause of a broker).
 *
 * How expiry is forced, and why these ways: ZooKeeper expires a session when it has heard nothing from it for the
 * session timeout. The tests use the shortest timeout the test server allows (1 s here) and make the server hear
 * nothing: by partitioning the client behind the proxy, or by stalling the client's own event loop. Stopping the
 * server does not expire sessions on the server (a restarted server restores its sessions with a fresh timeout),
 * which is exactly why the client expires the session on its own side then, and `renewSession()` closes the
 * restored session before opening a new one. Every wait is bounded; nothing asserts a duration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isZkError } from '../../src/metadata/zookeeper/errors.js';
import { ZkClient } from '../../src/metadata/zookeeper/zk-client.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { nextEvent, until, watcher } from './support/zk-waits.js';
import { skipWithoutZooKeeper, startZooKeeper, type ZooKeeperServer } from './support/zookeeper.js';

const skip = skipWithoutZooKeeper();
/** Sessions that must survive the faults of a test: long enough for a restart on a busy machine. */
const LONG_SESSION_MS = 20_000;
/** Sessions that are meant to expire: the shortest the test server allows with room for its tick. */
const SHORT_SESSION_MS = 1_000;

let zk: ZooKeeperServer;
/** A client that is not part of the fault, to look at what the server holds. */
let observer: ZkClient;

const isError = (name: Parameters<typeof isZkError>[1]) => (e: unknown) => {
  assert.ok(isZkError(e, name), `expected ${name}, got ${String(e)}`);
  return true;
};

/** Records the session events of a client, in order. */
function recordEvents(client: ZkClient): string[] {
  const seen: string[] = [];
  client.on('connected', (i) => seen.push(i.newSession ? 'connected(new)' : 'connected'));
  client.on('disconnected', () => seen.push('disconnected'));
  client.on('expired', (i) => seen.push(i.confirmedByServer ? 'expired(server)' : 'expired'));
  client.on('closed', () => seen.push('closed'));
  return seen;
}

async function connectObserver(): Promise<void> {
  await observer?.close();
  observer = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: LONG_SESSION_MS });
}

describe('ZooKeeper sessions under faults', { skip }, () => {
  before(async () => {
    zk = await startZooKeeper();
    await connectObserver();
  });

  after(async () => {
    await observer?.close();
    await zk?.close();
  });

  for (const how of ['stop', 'kill'] as const) {
    it(`a ZooKeeper restart (${how === 'stop' ? 'SIGTERM' : 'SIGKILL'}) within the session timeout keeps the session, its ephemerals and its watches`, async () => {
      const base = `/restart-${how}`;
      await observer.mkdirp(base);
      const client = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: LONG_SESSION_MS });
      try {
        const seen = recordEvents(client);
        const sessionId = client.sessionId;
        await client.create(`${base}/eph`, 'alive', { ephemeral: true });
        const w = watcher();
        assert.equal(await client.exists(`${base}/later`, { watch: w.watch }), null);

        const disconnected = nextEvent(client, 'disconnected');
        await (how === 'stop' ? zk.stop() : zk.kill());
        await disconnected;
        assert.equal(client.state, 'disconnected');
        assert.equal(client.heardWithinTimeout(), true, 'within the session timeout the session is still ours');
        // Made while disconnected: waits for the reconnect instead of failing.
        const waiting = client.get(`${base}/eph`);
        const reconnected = nextEvent(client, 'connected');
        await zk.start();
        const [info] = await reconnected;
        assert.equal(info.newSession, false);
        assert.equal(client.sessionId, sessionId);
        assert.equal((await waiting)?.data.toString(), 'alive');

        await connectObserver();
        assert.equal((await observer.exists(`${base}/eph`))?.ephemeralOwner, sessionId);
        // The watch was set again on the restarted server.
        await observer.create(`${base}/later`);
        assert.deepEqual(await w.fired, { type: 'created', path: `${base}/later` });
        assert.deepEqual(seen, ['disconnected', 'connected']);
      } finally {
        await client.close();
      }
    });
  }

  it('a watch set before a disconnect fires for a change made while the client was away', async () => {
    await observer.mkdirp('/away');
    const proxy = await TcpProxy.start(zk.host, zk.port);
    const client = await ZkClient.connect(proxy.address, { sessionTimeoutMs: LONG_SESSION_MS });
    try {
      const created = watcher();
      const changed = watcher();
      const children = watcher();
      await client.exists('/away/new', { watch: created.watch });
      await observer.create('/away/data', 'v0');
      await client.get('/away/data', { watch: changed.watch });
      await client.children('/away', { watch: children.watch });

      const disconnected = nextEvent(client, 'disconnected');
      proxy.refuse();
      await disconnected;
      await observer.create('/away/new');
      await observer.set('/away/data', 'v1');
      const reconnected = nextEvent(client, 'connected');
      proxy.heal();
      assert.equal((await reconnected)[0].newSession, false);
      // SetWatches carries the last zxid the client saw: the server fires what changed since at once.
      assert.deepEqual(await created.fired, { type: 'created', path: '/away/new' });
      assert.deepEqual(await changed.fired, { type: 'dataChanged', path: '/away/data' });
      assert.deepEqual(await children.fired, { type: 'childrenChanged', path: '/away' });
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('a connection attempt that gets no answer is given up in time to keep the session', async () => {
    // What ZooKeeper 3.8 does to a client that connects while it starts, before its database is loaded: accept,
    // then neither answer nor close. Here the proxy plays that server for the attempts made while it blackholes.
    const proxy = await TcpProxy.start(zk.host, zk.port);
    const client = await ZkClient.connect(proxy.address, { sessionTimeoutMs: LONG_SESSION_MS });
    try {
      const seen = recordEvents(client);
      const sessionId = client.sessionId;
      const disconnected = nextEvent(client, 'disconnected');
      proxy.refuse();
      await disconnected;
      proxy.blackhole();
      await until('the client made an attempt that hangs', () => proxy.connections > 0);
      const reconnected = nextEvent(client, 'connected');
      proxy.heal();
      await reconnected;
      assert.equal(client.sessionId, sessionId);
      assert.deepEqual(seen, ['disconnected', 'connected']);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('a request in flight when the connection drops fails with CONNECTION_LOSS; the session lives on', async () => {
    const proxy = await TcpProxy.start(zk.host, zk.port);
    const client = await ZkClient.connect(proxy.address, { sessionTimeoutMs: LONG_SESSION_MS });
    try {
      const sessionId = client.sessionId;
      const reconnected = nextEvent(client, 'connected');
      const inFlight = client.create('/in-flight', 'x');
      proxy.resetAll();
      await assert.rejects(inFlight, isError('CONNECTION_LOSS'));
      await reconnected;
      assert.equal(client.sessionId, sessionId);
      // CONNECTION_LOSS means "unknown": the create may or may not have happened. Either way the session works.
      await client.mkdirp('/in-flight');
      assert.ok((await client.exists('/in-flight')) !== null);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('ZooKeeper down for longer than the session timeout: the client reports expiry; renewSession() closes the old session and opens a new one', async () => {
    await observer.mkdirp('/down');
    const client = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: SHORT_SESSION_MS });
    try {
      const seen = recordEvents(client);
      const oldSession = client.sessionId;
      await client.create('/down/eph', 'old', { ephemeral: true });
      const w = watcher();
      await client.exists('/down/other', { watch: w.watch });

      const expired = nextEvent(client, 'expired');
      await zk.stop();
      const [info] = await expired;
      assert.equal(info.confirmedByServer, false);
      assert.equal(info.sessionId, oldSession);
      assert.equal(client.state, 'expired');
      assert.deepEqual(await w.fired, { type: 'sessionExpired', path: '/down/other' });
      await assert.rejects(client.get('/down/eph'), isError('SESSION_EXPIRED'));

      await zk.start();
      await connectObserver();
      // The restarted server brought the old session back with a fresh timeout, ephemeral and all.
      assert.equal((await observer.exists('/down/eph'))?.ephemeralOwner, oldSession);

      await client.renewSession();
      assert.equal(client.state, 'connected');
      assert.notEqual(client.sessionId, oldSession);
      // The old session was closed before the new one opened: its ephemeral is gone now, not a timeout later.
      assert.equal(await observer.exists('/down/eph'), null);
      await client.create('/down/eph', 'new', { ephemeral: true });
      assert.equal((await observer.exists('/down/eph'))?.ephemeralOwner, client.sessionId);
      assert.deepEqual(seen, ['disconnected', 'expired', 'connected(new)']);
    } finally {
      await client.close();
    }
  });

  it('a network partition longer than the session timeout: the server deletes the ephemerals, the client reports expiry on its own', async () => {
    await observer.mkdirp('/partition');
    const proxy = await TcpProxy.start(zk.host, zk.port);
    const client = await ZkClient.connect(proxy.address, { sessionTimeoutMs: SHORT_SESSION_MS });
    try {
      const seen = recordEvents(client);
      await client.create('/partition/eph', '', { ephemeral: true });
      const deleted = watcher();
      assert.ok((await observer.exists('/partition/eph', { watch: deleted.watch })) !== null);

      const expired = nextEvent(client, 'expired');
      proxy.blackhole();
      // Nothing comes back and nothing is closed: the client notices by its read timeout, then gives the session
      // up when the server may have expired it.
      assert.equal((await expired)[0].confirmedByServer, false);
      assert.deepEqual(await deleted.fired, { type: 'deleted', path: '/partition/eph' });
      await assert.rejects(client.exists('/'), isError('SESSION_EXPIRED'));

      proxy.heal();
      await client.renewSession();
      await client.create('/partition/eph', '', { ephemeral: true });
      assert.equal((await observer.exists('/partition/eph'))?.ephemeralOwner, client.sessionId);
      assert.deepEqual(seen, ['disconnected', 'expired', 'connected(new)']);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('a ZooKeeper frozen (SIGSTOP) for longer than the session timeout: the client reports expiry instead of waiting', async () => {
    const client = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: SHORT_SESSION_MS });
    try {
      const expired = nextEvent(client, 'expired');
      zk.freeze();
      try {
        assert.equal((await expired)[0].confirmedByServer, false);
      } finally {
        zk.thaw();
      }
      await client.renewSession();
      await client.create('/after-freeze', '', { ephemeral: true });
    } finally {
      await client.close();
    }
  });

  it('a client stalled for longer than its session timeout (a long GC pause) finds its session expired', async () => {
    const client = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: SHORT_SESSION_MS });
    try {
      await client.create('/stalled', '', { ephemeral: true });
      assert.equal(client.heardWithinTimeout(), true);
      const expired = nextEvent(client, 'expired');
      // Blocks this whole process (observer included, its session is long), as a stop-the-world pause would.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_500);
      // Known at once, before any timer or socket event of the thawed process has run.
      assert.equal(client.state, 'connected');
      assert.equal(client.heardWithinTimeout(), false);
      await expired;
      assert.equal(client.heardWithinTimeout(), false);
      await until('the server deleted the ephemeral', async () => (await observer.exists('/stalled')) === null);
      await client.renewSession();
      assert.equal(client.heardWithinTimeout(), true);
      await client.create('/stalled', '', { ephemeral: true });
    } finally {
      await client.close();
    }
  });

  it('close() while disconnected returns at once and fails the waiting requests', async () => {
    const proxy = await TcpProxy.start(zk.host, zk.port);
    const client = await ZkClient.connect(proxy.address, { sessionTimeoutMs: LONG_SESSION_MS });
    try {
      const disconnected = nextEvent(client, 'disconnected');
      proxy.refuse();
      await disconnected;
      const waiting = client.get('/');
      await client.close();
      assert.equal(client.state, 'closed');
      await assert.rejects(waiting, isError('SESSION_EXPIRED'));
    } finally {
      await proxy.close();
    }
  });
});
