/**
 * `samsa dev-cluster` run as the real binary: `up` starts a real ZooKeeper and three broker processes in a temp
 * dir on free loopback ports and returns with them running; our Admin client sees three brokers and a controller;
 * `samsa topic create` through the cluster spreads the partitions' leaders over all brokers, as `topic describe`
 * and `topics --describe` show; a second `up` is refused (exit 1); a fourth broker with a rack makes topic creation
 * fail as Kafka does (UNKNOWN_SERVER_ERROR, "Not all brokers have rack information..."), adding partitions too,
 * while automatic creation still works; `status` reports it all; `down` stops every process it started, and
 * `status` then fails. Without a cluster: the one-line refusals when ZooKeeper or java is missing, for bad numbers
 * and for a port in use.
 *
 * Whatever happens, `after` runs `down` and then SIGKILLs any pid the cluster recorded that still runs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/admin/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { freePort, portFree } from '../../src/metadata/zookeeper/local-server.js';
import { ErrorCode, KafkaError, type MetadataResponse } from '../../src/protocol/index.js';
import { eventually } from '../cluster/support/cluster.js';
import { skipWithoutZooKeeper } from '../cluster/support/zookeeper.js';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { runCli } from './run-cli.js';

const skip = skipWithoutZooKeeper();
const BROKERS = 3;

interface UpJson {
  dir: string;
  bootstrapServers: string;
  zookeeper: { pid: number; port: number; cfg: string };
  brokers: { id: number; pid: number; port: number; dataDir: string }[];
}

let dir: string;
let zkPort: number;
let basePort: number;
let cluster: UpJson | undefined;
let extra: BrokerProcess | undefined;

/** A port with the next BROKERS - 1 ports free too. */
async function freeRange(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let p = base; p < base + BROKERS && ok; p++) ok = await portFree('127.0.0.1', p);
    if (ok && base !== zkPort && (zkPort < base || zkPort >= base + BROKERS)) return base;
    if (attempt > 50) throw new Error('no free port range');
  }
}

/** Gone, or a zombie nobody has reaped yet (the processes were reparented when `up` exited). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function recordedPids(): number[] {
  const pids = new Set<number>();
  if (cluster !== undefined) {
    pids.add(cluster.zookeeper.pid);
    for (const b of cluster.brokers) pids.add(b.pid);
  }
  // up may have failed after starting some processes: its state file lists them.
  const state = join(dir, 'dev-cluster.json');
  if (existsSync(state)) {
    try {
      const s = JSON.parse(readFileSync(state, 'utf8')) as { zookeeper?: { pid: number }; brokers?: { pid: number }[] };
      if (s.zookeeper) pids.add(s.zookeeper.pid);
      for (const b of s.brokers ?? []) pids.add(b.pid);
    } catch {
      // nothing more to learn
    }
  }
  return [...pids].filter((p) => Number.isInteger(p) && p > 0);
}

async function metadataFrom(port: number, allowAutoTopicCreation = false, topics: string[] = []) {
  const conn = await BrokerConnection.connect({ host: '127.0.0.1', port, clientId: 'dev-cluster-test' });
  try {
    return await conn.send<MetadataResponse>(3, 12, {
      topics: topics.map((name) => ({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name })),
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  } finally {
    conn.close();
  }
}

const devCluster = (...args: string[]) => runCli(['dev-cluster', ...args, '--dir', dir]);

describe('samsa dev-cluster', { skip }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-dev-cluster-'));
    zkPort = await freePort('127.0.0.1');
    basePort = await freeRange();
  });

  after(async () => {
    await extra?.kill();
    extra?.cleanup();
    await devCluster('down').catch(() => undefined);
    for (const pid of recordedPids()) {
      if (!gone(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('up starts ZooKeeper and three brokers, prints the bootstrap servers and returns', async () => {
    const r = await devCluster(
      'up',
      '--brokers',
      String(BROKERS),
      '--zookeeper-port',
      String(zkPort),
      '--base-port',
      String(basePort),
      '--output',
      'json',
    );
    assert.equal(r.code, 0, r.stderr);
    cluster = JSON.parse(r.stdout) as UpJson;
    const ports = [basePort, basePort + 1, basePort + 2];
    assert.equal(cluster.bootstrapServers, ports.map((p) => `127.0.0.1:${p}`).join(','));
    assert.deepEqual(
      cluster.brokers.map((b) => [b.id, b.port, b.dataDir]),
      ports.map((p, i) => [i + 1, p, join(dir, `broker-${i + 1}`, 'data')]),
    );
    assert.equal(cluster.zookeeper.port, zkPort);
    for (const pid of recordedPids()) assert.ok(!gone(pid), `pid ${pid} runs`);
    for (const b of cluster.brokers) assert.ok(existsSync(join(dir, `broker-${b.id}`, 'broker.log')));
    assert.ok(existsSync(join(dir, 'zookeeper', 'zookeeper.log')));

    // Again while it runs: refused. And status shows it all (in parallel: each run loads the whole CLI).
    const [again, status] = await Promise.all([
      devCluster('up', '--zookeeper-port', String(zkPort), '--base-port', String(basePort)),
      devCluster('status'),
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^samsa: a dev cluster is already running in .*samsa dev-cluster down/);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /zookeeper +- +127\.0\.0\.1:\d+ +\d+ +running\n/);
    assert.equal(status.stdout.match(/^broker .* running/gm)?.length, 3);
    assert.equal(status.stdout.match(/running \(controller\)/g)?.length, 1);
  });

  it('the Admin client sees three brokers and a controller', async () => {
    const admin = new Admin({ bootstrapServers: cluster!.bootstrapServers.split(',') });
    try {
      const d = await admin.describeCluster();
      assert.deepEqual(
        d.brokers.map((b) => [b.nodeId, b.host, b.port]),
        cluster!.brokers.map((b) => [b.id, '127.0.0.1', b.port]),
      );
      assert.ok(d.controller !== null && [1, 2, 3].includes(d.controller.nodeId));
      assert.ok(d.clusterId);
    } finally {
      await admin.close();
    }
  });

  it('a topic created with samsa topic create has its partitions led by every broker', async () => {
    const bootstrap = cluster!.bootstrapServers;
    const created = await runCli(['topic', 'create', 'spread', '--partitions', '6', '--bootstrap-server', bootstrap]);
    assert.deepEqual(created, { code: 0, stdout: 'Created topic spread.\n', stderr: '' });
    // Every broker learns the topic from ZooKeeper.
    await eventually('every broker knows the topic', async () => {
      for (const b of cluster!.brokers) {
        const md = await metadataFrom(b.port, false, ['spread']);
        assert.equal(md.topics[0]!.partitions.filter((p) => p.leaderId >= 0).length, 6);
      }
    });
    const second = `127.0.0.1:${basePort + 1}`;
    const [json, table, kafka] = await Promise.all([
      runCli(['topic', 'describe', 'spread', '--output', 'json', '--bootstrap-server', second]),
      runCli(['topic', 'describe', 'spread', '--bootstrap-server', second]),
      runCli(['topics', '--describe', '--topic', 'spread', '--bootstrap-server', bootstrap]),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const [t] = JSON.parse(json.stdout) as { partitions: { leader: number; replicas: number[]; isr: number[] }[] }[];
    assert.equal(t!.partitions.length, 6);
    for (const p of t!.partitions) {
      assert.deepEqual(p.replicas, [p.leader]);
      assert.deepEqual(p.isr, [p.leader]);
    }
    assert.deepEqual([...new Set(t!.partitions.map((p) => p.leader))].sort(), [1, 2, 3]);

    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.split('\n').filter((l) => /^\d+ /.test(l));
    assert.equal(rows.length, 6);
    assert.deepEqual([...new Set(rows.map((l) => l.split(/ +/)[1]))].sort(), ['1', '2', '3']);

    assert.equal(kafka.code, 0, kafka.stderr);
    const leaders = [...kafka.stdout.matchAll(/\tPartition: \d+\tLeader: (\d+)\tReplicas: (\d+)\tIsr: (\d+)/g)];
    assert.equal(leaders.length, 6);
    assert.deepEqual([...new Set(leaders.map((m) => m[1]))].sort(), ['1', '2', '3']);
    for (const m of leaders) assert.ok(m[1] === m[2] && m[2] === m[3]);
  });

  it('a broker with a rack among brokers without: creation refused as Kafka does, auto-creation still works', async () => {
    extra = await startBrokerProcess({
      config: { 'node.id': '4', 'broker.rack': 'rack-a', 'zookeeper.connect': `127.0.0.1:${zkPort}` },
    });
    await eventually('four brokers', async () => {
      assert.equal((await metadataFrom(basePort)).brokers.length, 4);
    });
    const r = await runCli(['topic', 'create', 'racked', '--bootstrap-server', cluster!.bootstrapServers]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'samsa: UNKNOWN_SERVER_ERROR: Not all brokers have rack information for replica rack aware assignment.\n',
    );
    const admin = new Admin({ bootstrapServers: cluster!.bootstrapServers.split(',') });
    try {
      await assert.rejects(
        admin.createPartitions([{ topic: 'spread', totalCount: 8 }]),
        (e: unknown) =>
          e instanceof KafkaError &&
          e.code === ErrorCode.UNKNOWN_SERVER_ERROR &&
          /Not all brokers have rack information/.test(e.message),
      );
    } finally {
      await admin.close();
    }
    const md = await metadataFrom(basePort, true, ['auto-created']);
    assert.equal(md.topics[0]!.errorCode, 0);
    assert.ok(md.topics[0]!.partitions.length > 0);

    await extra.stop();
    await eventually('three brokers again', async () => {
      assert.equal((await metadataFrom(basePort)).brokers.length, 3);
    });
    const ok = await runCli(['topic', 'create', 'racked', '--bootstrap-server', cluster!.bootstrapServers]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('down stops the brokers and ZooKeeper; no process is left and status says so', async () => {
    const r = await devCluster('down');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter(Boolean), [
      ...cluster!.brokers.map((b) => `broker ${b.id} (pid ${b.pid}): stopped`),
      `ZooKeeper (pid ${cluster!.zookeeper.pid}): stopped`,
    ]);
    for (const pid of recordedPids()) assert.ok(gone(pid), `pid ${pid} is gone`);
    assert.ok(!existsSync(join(dir, 'dev-cluster.json')));
    // Data stays for the next up.
    assert.ok(existsSync(join(dir, 'broker-1', 'data')));
    const status = await devCluster('status');
    assert.equal(status.code, 1);
    assert.match(status.stderr, /no dev cluster in/);
  });
});

describe('samsa dev-cluster refusals', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'samsa-dev-cluster-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('says in one line what to install when ZooKeeper or java is missing (exit 1), starting nothing', async () => {
    const noZk = await runCli(['dev-cluster', 'up', '--dir', scratch], {
      env: { ZOOKEEPER_HOME: join(scratch, 'nowhere') },
    });
    assert.equal(noZk.code, 1);
    assert.equal(
      noZk.stderr,
      `samsa: cannot start ZooKeeper: ZOOKEEPER_HOME=${join(scratch, 'nowhere')} has no lib/ directory: point it at an unpacked Apache ZooKeeper binary release (apache-zookeeper-3.x-bin)\n`,
    );
    const noJava = await runCli(['dev-cluster', 'up', '--dir', scratch], {
      env: { ZOOKEEPER_CLASSPATH: '/x/*', JAVA_HOME: join(scratch, 'no-jdk') },
    });
    assert.equal(noJava.code, 1);
    assert.match(
      noJava.stderr,
      /^samsa: cannot start ZooKeeper: java is not available \(.*no-jdk\/bin\/java -version: .*\): install a Java runtime \(`apt-get install default-jre-headless`\) or set JAVA_HOME\n$/,
    );
    assert.ok(!existsSync(join(scratch, 'dev-cluster.json')));
  });

  it('refuses bad numbers (exit 2) and a port in use (exit 1)', { skip }, async () => {
    const bad = await runCli(['dev-cluster', 'up', '--dir', scratch, '--brokers', '0']);
    assert.deepEqual(bad, {
      code: 2,
      stdout: '',
      stderr: "samsa: --brokers must be a whole number from 1 to 32, got '0'\n",
    });
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['dev-cluster', 'up', '--dir', scratch, '--zookeeper-port', String(taken)]);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `samsa: port ${taken} is in use (wanted for ZooKeeper): choose another with --zookeeper-port\n`,
      );
    } finally {
      server.close();
    }
    assert.ok(!existsSync(join(scratch, 'dev-cluster.json')));
  });
});
