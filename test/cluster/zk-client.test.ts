/**
 * The ZooKeeper client against a real ZooKeeper 3.8 (Debian's, started by the test): znodes with versions and
 * compare-and-set, ephemeral and sequential znodes, one-shot watches, atomic multi, chroot, mkdirp, pipelining,
 * closing. The session faults (restarts, partitions, expiry) are in zk-session.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isZkError, ZkErrorCode, ZooKeeperError } from '../../src/metadata/zookeeper/errors.js';
import { ANY_VERSION, ZkClient } from '../../src/metadata/zookeeper/zk-client.js';
import { nextEvent, watcher } from './support/zk-waits.js';
import { skipWithoutZooKeeper, startZooKeeper, type ZooKeeperServer } from './support/zookeeper.js';

const skip = skipWithoutZooKeeper();
let zk: ZooKeeperServer;
let client: ZkClient;
/** A second session, to watch what the first one does. */
let observer: ZkClient;

const rejectsWith = (name: Parameters<typeof isZkError>[1]) => (e: unknown) => {
  assert.ok(isZkError(e, name), `expected ${name}, got ${String(e)}`);
  return true;
};

describe('ZooKeeper client', { skip }, () => {
  before(async () => {
    zk = await startZooKeeper();
    client = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 10_000 });
    observer = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 10_000 });
  });

  after(async () => {
    await client?.close();
    await observer?.close();
    await zk?.close();
  });

  it('opens a session with the negotiated timeout', () => {
    assert.equal(client.state, 'connected');
    assert.notEqual(client.sessionId, 0n);
    assert.notEqual(client.sessionId, observer.sessionId);
    assert.equal(client.sessionTimeoutMs, 10_000);
    assert.equal(client.server, zk.connectString);
  });

  it('creates, reads, updates by compare-and-set and deletes znodes with versions', async () => {
    assert.equal(await client.create('/crud', 'v0'), '/crud');
    const first = await client.get('/crud');
    assert.ok(first !== null);
    assert.equal(first.data.toString(), 'v0');
    assert.equal(first.stat.version, 0);
    assert.equal(first.stat.ephemeralOwner, 0n);
    assert.equal(first.stat.dataLength, 2);
    assert.ok(first.stat.czxid > 0n && first.stat.mzxid === first.stat.czxid);

    const s1 = await client.set('/crud', Buffer.from([1, 2, 3]), first.stat.version);
    assert.equal(s1.version, 1);
    assert.ok(s1.mzxid > first.stat.mzxid);
    // A writer that read version 0 lost the race: compare-and-set fails and changes nothing.
    await assert.rejects(client.set('/crud', 'stale', first.stat.version), rejectsWith('BAD_VERSION'));
    assert.deepEqual((await client.get('/crud'))!.data, Buffer.from([1, 2, 3]));
    const s2 = await client.set('/crud', 'any', ANY_VERSION);
    assert.equal(s2.version, 2);

    await assert.rejects(client.create('/crud', 'again'), rejectsWith('NODE_EXISTS'));
    await assert.rejects(client.create('/no/parent', ''), rejectsWith('NO_NODE'));
    await client.create('/crud/child');
    await assert.rejects(client.delete('/crud', 2), rejectsWith('NOT_EMPTY'));
    await client.delete('/crud/child');
    await assert.rejects(client.delete('/crud', 1), rejectsWith('BAD_VERSION'));
    await client.delete('/crud', 2);
    assert.equal(await client.get('/crud'), null);
    assert.equal(await client.exists('/crud'), null);
    await assert.rejects(client.delete('/crud'), rejectsWith('NO_NODE'));
    await assert.rejects(client.set('/crud', 'x'), rejectsWith('NO_NODE'));
    await assert.rejects(client.children('/crud'), rejectsWith('NO_NODE'));
  });

  it('errors carry the code, its name and the path', async () => {
    const e = await client.delete('/missing').then(
      () => assert.fail('deleted a missing znode'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof ZooKeeperError);
    assert.equal(e.code, ZkErrorCode.NO_NODE);
    assert.equal(e.codeName, 'NO_NODE');
    assert.equal(e.path, '/missing');
    assert.ok(e.is('NO_NODE'));
  });

  it('keeps empty, binary and 1 MB data intact', async () => {
    await client.create('/data-empty');
    assert.equal((await client.get('/data-empty'))!.data.length, 0);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await client.create('/data-binary', binary);
    assert.deepEqual((await client.get('/data-binary'))!.data, binary);
    // ZooKeeper's jute.maxbuffer is 1 MiB minus one byte by default for a whole request.
    const big = Buffer.alloc(1000 * 1000, 7);
    await client.create('/data-big', big);
    const read = await client.get('/data-big');
    assert.equal(read!.stat.dataLength, big.length);
    assert.ok(read!.data.equals(big));
  });

  it('creates sequential znodes with increasing 10-digit counters', async () => {
    await client.create('/seq');
    const paths = [];
    for (let i = 0; i < 3; i++) paths.push(await client.create('/seq/item-', `${i}`, { sequential: true }));
    assert.deepEqual(paths, ['/seq/item-0000000000', '/seq/item-0000000001', '/seq/item-0000000002']);
    assert.deepEqual(await client.children('/seq'), ['item-0000000000', 'item-0000000001', 'item-0000000002']);
    // A trailing slash names the znode by the counter alone.
    assert.equal(await client.create('/seq/', '', { sequential: true }), '/seq/0000000003');
  });

  it('ephemeral znodes belong to the session and go when it closes', async () => {
    const other = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 10_000 });
    await other.create('/eph', 'mine', { ephemeral: true });
    const seq = await other.create('/eph-seq-', '', { ephemeral: true, sequential: true });
    const stat = await observer.exists('/eph');
    assert.equal(stat?.ephemeralOwner, other.sessionId);
    await assert.rejects(other.create('/eph/child'), rejectsWith('NO_CHILDREN_FOR_EPHEMERALS'));

    const gone = watcher();
    assert.ok((await observer.exists('/eph', { watch: gone.watch })) !== null);
    await other.close();
    assert.equal(other.state, 'closed');
    // close() ends the session on the server: the znodes are gone now, not a session timeout later.
    assert.deepEqual(await gone.fired, { type: 'deleted', path: '/eph' });
    assert.equal(await observer.exists('/eph'), null);
    assert.equal(await observer.exists(seq), null);
  });

  it('data watches fire once, on change and on deletion', async () => {
    await client.create('/wd', 'a');
    const w = watcher();
    await observer.get('/wd', { watch: w.watch });
    await client.set('/wd', 'b');
    assert.deepEqual(await w.fired, { type: 'dataChanged', path: '/wd' });
    await client.set('/wd', 'c');
    await client.delete('/wd');
    await observer.sync('/');
    assert.deepEqual(w.events, [{ type: 'dataChanged', path: '/wd' }], 'one-shot: later changes do not fire it');

    await client.create('/wd2');
    const d = watcher();
    await observer.get('/wd2', { watch: d.watch });
    await client.delete('/wd2');
    assert.deepEqual(await d.fired, { type: 'deleted', path: '/wd2' });
  });

  it('exists watches fire on creation of a missing znode, and on change of an existing one', async () => {
    const created = watcher();
    assert.equal(await observer.exists('/we', { watch: created.watch }), null);
    await client.create('/we', '1');
    assert.deepEqual(await created.fired, { type: 'created', path: '/we' });

    const changed = watcher();
    assert.ok((await observer.exists('/we', { watch: changed.watch })) !== null);
    await client.set('/we', '2');
    assert.deepEqual(await changed.fired, { type: 'dataChanged', path: '/we' });
  });

  it('get sets no watch on a missing znode', async () => {
    const w = watcher();
    assert.equal(await observer.get('/wg', { watch: w.watch }), null);
    await client.create('/wg');
    await client.set('/wg', 'x');
    await observer.sync('/');
    assert.deepEqual(w.events, []);
  });

  it('children watches fire once on a child added or removed, and on deletion of the parent', async () => {
    await client.create('/wc');
    const w = watcher();
    assert.deepEqual(await observer.children('/wc', { watch: w.watch }), []);
    await client.create('/wc/a');
    assert.deepEqual(await w.fired, { type: 'childrenChanged', path: '/wc' });
    await client.create('/wc/b');
    await observer.sync('/');
    assert.equal(w.events.length, 1);
    // Data changes of the parent are not child events.
    const w2 = watcher();
    assert.deepEqual(await observer.children('/wc', { watch: w2.watch }), ['a', 'b']);
    await client.set('/wc', 'data');
    await client.delete('/wc/a');
    assert.deepEqual(await w2.fired, { type: 'childrenChanged', path: '/wc' });
    assert.deepEqual(w2.events, [{ type: 'childrenChanged', path: '/wc' }]);
  });

  it('one callback watching a znode in several ways is called once per event', async () => {
    await client.create('/wm');
    const w = watcher();
    await observer.get('/wm', { watch: w.watch });
    await observer.exists('/wm', { watch: w.watch });
    await observer.children('/wm', { watch: w.watch });
    await client.delete('/wm');
    await w.fired;
    await observer.sync('/');
    assert.deepEqual(w.events, [{ type: 'deleted', path: '/wm' }]);
  });

  it('multi applies every op, in order, with their results', async () => {
    await client.create('/m', 'v0');
    const results = await client.multi([
      { op: 'check', path: '/m', version: 0 },
      { op: 'set', path: '/m', data: 'v1', version: 0 },
      { op: 'create', path: '/m/a', data: 'x' },
      { op: 'create', path: '/m/s-', sequential: true, ephemeral: true },
      { op: 'delete', path: '/m/a' },
    ]);
    assert.equal(results.length, 5);
    assert.deepEqual(results[0], { op: 'check' });
    assert.equal(results[1]!.op, 'set');
    assert.equal(results[1]!.op === 'set' && results[1]!.stat.version, 1);
    assert.deepEqual(results[2], { op: 'create', path: '/m/a' });
    assert.deepEqual(results[3], { op: 'create', path: '/m/s-0000000001' });
    assert.deepEqual(results[4], { op: 'delete' });
    assert.deepEqual(await client.children('/m'), ['s-0000000001']);
    assert.equal((await client.get('/m'))!.data.toString(), 'v1');
    assert.deepEqual(await client.multi([]), []);
  });

  it('multi is atomic: a failing check leaves nothing changed and names the op that failed', async () => {
    await client.create('/atomic', 'v0');
    const before = (await client.get('/atomic'))!.stat;
    const e = await client
      .multi([
        { op: 'create', path: '/atomic/new' },
        { op: 'set', path: '/atomic', data: 'changed' },
        { op: 'check', path: '/atomic', version: 7 },
        { op: 'delete', path: '/atomic/new' },
      ])
      .then(
        () => assert.fail('the multi succeeded'),
        (x: unknown) => x,
      );
    assert.ok(e instanceof ZooKeeperError);
    assert.equal(e.codeName, 'BAD_VERSION');
    assert.equal(e.failedOp, 2);
    assert.equal(e.path, '/atomic');
    const after = (await client.get('/atomic'))!;
    assert.equal(after.data.toString(), 'v0');
    assert.equal(after.stat.version, before.version);
    assert.equal(await client.exists('/atomic/new'), null);

    // Other failures are reported the same way, whichever op it is.
    await assert.rejects(
      client.multi([
        { op: 'create', path: '/atomic/x' },
        { op: 'create', path: '/atomic', data: 'dup' },
      ]),
      (x: unknown) => x instanceof ZooKeeperError && x.codeName === 'NODE_EXISTS' && x.failedOp === 1,
    );
    await assert.rejects(
      client.multi([{ op: 'check', path: '/atomic/none', version: 0 }]),
      (x: unknown) => x instanceof ZooKeeperError && x.codeName === 'NO_NODE' && x.failedOp === 0,
    );
    assert.equal(await client.exists('/atomic/x'), null);
  });

  it('multi as a fenced write: the check on another znode guards the update', async () => {
    // The controller pattern: write a partition state only while the epoch znode is at the version we hold.
    await client.mkdirp('/fence/state', 'leader=1');
    await client.create('/fence/epoch', '1');
    const epoch = (await client.get('/fence/epoch'))!.stat.version;
    await client.multi([
      { op: 'check', path: '/fence/epoch', version: epoch },
      { op: 'set', path: '/fence/state', data: 'leader=2' },
    ]);
    await observer.set('/fence/epoch', '2'); // another controller took over
    await assert.rejects(
      client.multi([
        { op: 'check', path: '/fence/epoch', version: epoch },
        { op: 'set', path: '/fence/state', data: 'leader=3' },
      ]),
      (x: unknown) => x instanceof ZooKeeperError && x.codeName === 'BAD_VERSION' && x.failedOp === 0,
    );
    assert.equal((await client.get('/fence/state'))!.data.toString(), 'leader=2');
  });

  it('mkdirp creates missing ancestors and accepts existing ones', async () => {
    await client.mkdirp('/deep/a/b/c', 'leaf');
    assert.equal((await client.get('/deep/a/b/c'))!.data.toString(), 'leaf');
    assert.equal((await client.get('/deep/a'))!.data.length, 0);
    await client.mkdirp('/deep/a/b/c');
    await client.mkdirp('/deep/a/b/d');
    assert.deepEqual(await client.children('/deep/a/b'), ['c', 'd']);
    await client.mkdirp('/');
  });

  it('a chroot makes every path relative to it, watch events and created names too', async () => {
    await client.mkdirp('/tenants/a');
    const rooted = await ZkClient.connect(`${zk.connectString}/tenants/a`, { sessionTimeoutMs: 10_000 });
    try {
      assert.equal(rooted.chroot, '/tenants/a');
      assert.deepEqual(await rooted.children('/'), []);
      assert.equal(await rooted.create('/brokers'), '/brokers');
      assert.equal(await rooted.create('/brokers/id-', '', { sequential: true }), '/brokers/id-0000000000');
      assert.ok((await client.exists('/tenants/a/brokers/id-0000000000')) !== null);
      const w = watcher();
      await rooted.children('/brokers', { watch: w.watch });
      await client.create('/tenants/a/brokers/7');
      assert.deepEqual(await w.fired, { type: 'childrenChanged', path: '/brokers' });
      const results = await rooted.multi([{ op: 'create', path: '/brokers/8' }]);
      assert.deepEqual(results, [{ op: 'create', path: '/brokers/8' }]);
      await assert.rejects(rooted.get('/../escape'), rejectsWith('BAD_ARGUMENTS'));
      assert.equal((await rooted.exists('/'))?.numChildren, 1);
    } finally {
      await rooted.close();
    }
  });

  it('a missing chroot fails the connect, or is created on request', async () => {
    await assert.rejects(
      ZkClient.connect(`${zk.connectString}/absent/root`, { sessionTimeoutMs: 10_000 }),
      rejectsWith('NO_NODE'),
    );
    const made = await ZkClient.connect(`${zk.connectString}/made/root`, {
      sessionTimeoutMs: 10_000,
      createChroot: true,
    });
    await made.create('/x', 'y');
    await made.close();
    assert.equal((await client.get('/made/root/x'))!.data.toString(), 'y');
  });

  it('rejects invalid paths before sending them', async () => {
    for (const bad of ['', 'relative', '/trailing/', '/double//slash', '/dot/./x', '/nul\u0000']) {
      await assert.rejects(client.get(bad), rejectsWith('BAD_ARGUMENTS'), bad);
    }
    await assert.rejects(client.multi([{ op: 'delete', path: 'x' }]), rejectsWith('BAD_ARGUMENTS'));
    assert.equal(client.state, 'connected');
  });

  it('pipelines many requests, answered in order', async () => {
    await client.create('/pipe', '0');
    const sets = Array.from({ length: 500 }, (_, i) => client.set('/pipe', `${i + 1}`));
    const stats = await Promise.all(sets);
    assert.deepEqual(
      stats.map((s) => s.version),
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
    const reads = await Promise.all(Array.from({ length: 200 }, () => client.get('/pipe')));
    assert.ok(reads.every((r) => r!.data.toString() === '500'));
  });

  it('close ends the session once; later requests fail with SESSION_EXPIRED', async () => {
    const c = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 10_000 });
    const closed = nextEvent(c, 'closed');
    const inFlight = c.create('/closing', 'x');
    await Promise.all([c.close(), c.close()]);
    await closed;
    assert.equal(await inFlight, '/closing', 'a request sent before close() is answered');
    assert.equal(c.state, 'closed');
    await assert.rejects(c.get('/closing'), rejectsWith('SESSION_EXPIRED'));
    await c.close();
  });

  it('`await using` closes the client', async () => {
    let sessionId = 0n;
    {
      await using c = await ZkClient.connect(zk.connectString, { sessionTimeoutMs: 10_000 });
      sessionId = c.sessionId;
      await c.create('/disposed', '', { ephemeral: true });
    }
    assert.notEqual(sessionId, 0n);
    assert.equal(await client.exists('/disposed'), null);
  });

  it('connect fails with CONNECTION_LOSS, bounded, when nothing listens', async () => {
    await assert.rejects(
      ZkClient.connect('127.0.0.1:1', { sessionTimeoutMs: 2_000, connectionTimeoutMs: 500 }),
      rejectsWith('CONNECTION_LOSS'),
    );
  });
});
