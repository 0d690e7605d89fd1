// The measurements behind the choice of ZooKeeper client (see README.md beside this file): node-zookeeper-client
// (pure JavaScript, npm) and Samsa's own client (src/metadata/zookeeper), side by side against one real ZooKeeper
// 3.8 started by the cluster tests' helper, on the same scenarios: the features cluster mode needs, the faults it
// must survive, and latency/throughput of setData/getData. Not part of `npm run bench` (it needs a package that
// is not a dependency):
//
//   npm install --no-save --prefix /tmp/nzc node-zookeeper-client@1.1.3
//   npx tsc -p tsconfig.json && NZC_DIR=/tmp/nzc node bench/zookeeper/compare-clients.mjs
//
// Every wait is bounded; a scenario that does not finish in time counts as failed.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZkClient } from '../../dist/src/metadata/zookeeper/zk-client.js';
import { TcpProxy } from '../../dist/test/cluster/support/tcp-proxy.js';
import { startZooKeeper } from '../../dist/test/cluster/support/zookeeper.js';

const nzcDir = process.env.NZC_DIR;
if (!nzcDir) {
  console.error('set NZC_DIR to a directory where node-zookeeper-client is installed (see the header)');
  process.exit(2);
}
const nzc = createRequire(`${nzcDir}/`)('node-zookeeper-client');

/** Resolves with `p`, or rejects after `ms`. */
function within(ms, p, what = 'operation') {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

// ---- one adapter per client: the same small promise API over both ----

function nzcAdapter() {
  const cb = (fn) =>
    new Promise((resolve, reject) =>
      fn((err, ...r) => (err ? reject(Object.assign(err, { results: r[0] })) : resolve(r))),
    );
  const code = (e) => (typeof e?.getCode === 'function' ? e.getCode() : undefined);
  return {
    name: 'node-zookeeper-client 1.1.3',
    async connect(connect, sessionTimeoutMs) {
      const c = nzc.createClient(connect, { sessionTimeout: sessionTimeoutMs, spinDelay: 100 });
      await within(
        10_000,
        new Promise((resolve) => {
          c.once('connected', resolve);
          c.connect();
        }),
        'connect',
      );
      const expiredListeners = [];
      c.on('expired', () => {
        for (const f of expiredListeners) f();
      });
      return {
        sessionId: () => c.getSessionId().toString('hex'),
        create: (p, data, { ephemeral = false, sequential = false } = {}) => {
          const mode = (ephemeral ? 1 : 0) | (sequential ? 2 : 0);
          return cb((k) => c.create(p, Buffer.from(data ?? ''), mode, k)).then(([path]) => path);
        },
        get: (p) => cb((k) => c.getData(p, k)).then(([data, stat]) => ({ data, version: stat.version })),
        set: (p, data, version) => cb((k) => c.setData(p, Buffer.from(data), version, k)),
        exists: (p, watch) =>
          cb((k) => (watch ? c.exists(p, (e) => watch(e.getName()), k) : c.exists(p, k))).then(([s]) => s ?? null),
        children: (p, watch) => cb((k) => c.getChildren(p, (e) => watch(e.getName()), k)).then(([ch]) => ch),
        checkThenSet: (checkPath, version, setPath, data) =>
          cb((k) => c.transaction().check(checkPath, version).setData(setPath, Buffer.from(data)).commit(k)).catch(
            (e) => {
              const failedOp = (e.results ?? []).findIndex((r) => r.err !== 0 && r.err !== -2);
              throw Object.assign(new Error(String(e)), {
                failedOp: failedOp >= 0 ? failedOp : undefined,
                badVersion: code(e) === -103,
              });
            },
          ),
        isBadVersion: (e) => code(e) === -103,
        onExpired: (f) => expiredListeners.push(f),
        // node-zookeeper-client cannot open a new session on the same object: a new client is the way.
        renew: null,
        close: async () => c.close(),
      };
    },
  };
}

function samsaAdapter() {
  return {
    name: 'samsa ZkClient',
    async connect(connect, sessionTimeoutMs) {
      const c = await within(10_000, ZkClient.connect(connect, { sessionTimeoutMs }), 'connect');
      return {
        sessionId: () => c.sessionId.toString(16),
        create: (p, data, o) => c.create(p, data ?? '', o),
        get: (p) => c.get(p).then((r) => ({ data: r.data, version: r.stat.version })),
        set: (p, data, version) => c.set(p, data, version),
        exists: (p, watch) => c.exists(p, watch ? { watch: (e) => watch(e.type) } : {}),
        children: (p, watch) => c.children(p, { watch: (e) => watch(e.type) }),
        checkThenSet: (checkPath, version, setPath, data) =>
          c
            .multi([
              { op: 'check', path: checkPath, version },
              { op: 'set', path: setPath, data },
            ])
            .catch((e) => {
              throw Object.assign(new Error(String(e)), {
                failedOp: e.failedOp,
                badVersion: e.codeName === 'BAD_VERSION',
              });
            }),
        isBadVersion: (e) => e.codeName === 'BAD_VERSION',
        onExpired: (f) => c.on('expired', f),
        renew: () => c.renewSession(),
        close: () => c.close(),
      };
    },
  };
}

// ---- scenarios: each returns a short verdict ----

async function features(client, zk, base) {
  const c = await client.connect(zk.connectString, 10_000);
  const out = {};
  try {
    await c.create(base, '');
    const eph = await c.create(`${base}/e`, 'x', { ephemeral: true });
    const seq = await c.create(`${base}/s-`, 'x', { ephemeral: true, sequential: true });
    out['ephemeral + sequential create'] = eph === `${base}/e` && /s-\d{10}$/.test(seq) ? 'yes' : `no (${seq})`;

    await c.create(`${base}/v`, 'v0');
    const { version } = await c.get(`${base}/v`);
    await c.set(`${base}/v`, 'v1', version);
    const stale = await c.set(`${base}/v`, 'v2', version).then(
      () => 'accepted',
      (e) => (c.isBadVersion(e) ? 'BAD_VERSION' : String(e)),
    );
    out['setData with a stale version'] = stale;

    const fired = [];
    await c.exists(`${base}/w`, (t) => fired.push(`exists:${t}`));
    await c.children(base, (t) => fired.push(`children:${t}`));
    await c.create(`${base}/w`, '');
    await c.set(`${base}/w`, 'again', -1);
    await c.create(`${base}/w2`, '');
    await sleep(200);
    out['exists/children watches fire once'] = fired.length === 2 ? 'yes' : `no (${fired.join(',')})`;

    const failed = await c.checkThenSet(`${base}/v`, 99, `${base}/v`, 'changed').then(
      () => null,
      (e) => e,
    );
    const after = (await c.get(`${base}/v`)).data.toString();
    out['multi check+setData, check fails'] =
      failed?.badVersion && after === 'v1'
        ? `atomic, BAD_VERSION, failing op ${failed.failedOp === 0 ? 'reported (0)' : 'not reported'}`
        : `no (${failed}, data ${after})`;

    await c.create(`${base}/root`, '');
    const rooted = await client.connect(`${zk.connectString}${base}/root`, 10_000);
    await rooted.create('/inside', '');
    out.chroot = (await c.exists(`${base}/root/inside`)) !== null ? 'yes' : 'no';
    await rooted.close();
  } finally {
    await c.close();
  }
  return out;
}

async function restartWithinTimeout(client, zk, base) {
  const c = await client.connect(zk.connectString, 8_000);
  try {
    const id = c.sessionId();
    await c.create(base, '', { ephemeral: true });
    await zk.stop();
    await zk.start();
    const started = Date.now();
    await within(
      8_000,
      (async () => {
        for (;;) {
          try {
            if ((await within(1_000, c.exists(base))) !== null) return;
          } catch {
            await sleep(20);
          }
        }
      })(),
      'reconnect',
    );
    return `yes, same session ${id === c.sessionId() ? 'kept' : 'LOST'}, ephemeral kept, usable ${Date.now() - started} ms after the server was back`;
  } catch (e) {
    return `no (${e.message})`;
  } finally {
    await c.close();
  }
}

/** A fault longer than a 1 s session timeout: is expiry reported, and is the client usable after the fault ends? */
async function longFault(client, zk, { via, fault, end }) {
  const proxy = via === 'proxy' ? await TcpProxy.start(zk.host, zk.port) : undefined;
  const c = await client.connect(proxy ? proxy.address : zk.connectString, 1_000);
  let expiredAt = 0;
  c.onExpired(() => {
    expiredAt ||= Date.now();
  });
  const started = Date.now();
  try {
    await fault(proxy);
    await sleep(4_000);
    const reported = expiredAt ? `expired reported after ${expiredAt - started} ms` : 'NO expiry reported in 4 s';
    await end(proxy);
    let usable;
    try {
      if (c.renew && expiredAt) await within(5_000, c.renew(), 'renew');
      await within(5_000, c.exists('/'), 'request after the fault');
      usable = 'usable again';
    } catch (e) {
      usable = `not usable 5 s after the fault ended (${e.message})`;
    }
    return `${reported}; ${usable}`;
  } finally {
    await c.close().catch(() => {});
    await proxy?.close();
  }
}

async function throughput(client, zk, base) {
  const c = await client.connect(zk.connectString, 10_000);
  const rows = {};
  try {
    await c.create(base, 'x'.repeat(100));
    const value = 'y'.repeat(100);
    const ops = { setData: () => c.set(base, value, -1), getData: () => c.get(base) };
    for (const [name, op] of Object.entries(ops)) {
      const n = 2_000;
      let t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await op();
      const us = Number(process.hrtime.bigint() - t) / 1_000 / n;
      const m = 10_000;
      t = process.hrtime.bigint();
      let next = 0;
      const worker = async () => {
        while (next < m) {
          next++;
          await op();
        }
      };
      await Promise.all(Array.from({ length: 100 }, worker));
      const perSecond = m / (Number(process.hrtime.bigint() - t) / 1e9);
      rows[name] = { us, perSecond };
    }
  } finally {
    await c.close();
  }
  return rows;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const zk = await startZooKeeper();
try {
  const clients = [nzcAdapter(), samsaAdapter()];
  const verdicts = new Map(clients.map((c) => [c.name, {}]));
  for (const [i, client] of clients.entries()) {
    const v = verdicts.get(client.name);
    Object.assign(v, await features(client, zk, `/features-${i}`));
    v['restart within the session timeout'] = await restartWithinTimeout(client, zk, `/restart-${i}`);
    v['server down > session timeout'] = await longFault(client, zk, {
      via: 'direct',
      fault: () => zk.stop(),
      end: () => zk.start(),
    });
    v['partition (proxy drops packets) > session timeout, then healed'] = await longFault(client, zk, {
      via: 'proxy',
      fault: async (p) => p.blackhole(),
      end: async (p) => p.heal(),
    });
    v['server frozen (SIGSTOP) > session timeout'] = await longFault(client, zk, {
      via: 'direct',
      fault: async () => zk.freeze(),
      end: async () => zk.thaw(),
    });
  }
  // Throughput: three alternating rounds, medians.
  const perf = new Map(clients.map((c) => [c.name, []]));
  for (let round = 0; round < 3; round++) {
    for (const [i, client] of clients.entries())
      perf.get(client.name).push(await throughput(client, zk, `/perf-${round}-${i}`));
  }
  for (const client of clients) {
    const v = verdicts.get(client.name);
    const runs = perf.get(client.name);
    for (const op of ['setData', 'getData']) {
      v[`${op}: sequential, µs/op (median of 3)`] = median(runs.map((r) => r[op].us)).toFixed(0);
      v[`${op}: 100 in flight, ops/s (median of 3)`] = median(runs.map((r) => r[op].perSecond)).toFixed(0);
    }
  }
  const names = clients.map((c) => c.name);
  console.log(`ZooKeeper clients on Node ${process.version} against ZooKeeper ${(await zk.srvr()).split('\n')[0]}\n`);
  console.log(`| | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---').join('|')}|`);
  for (const key of Object.keys(verdicts.get(names[1]))) {
    console.log(`| ${key} | ${names.map((n) => verdicts.get(n)[key] ?? '').join(' | ')} |`);
  }
} finally {
  await zk.close();
}
// node-zookeeper-client may keep reconnecting timers alive after close(); this script is done.
process.exit(0);
