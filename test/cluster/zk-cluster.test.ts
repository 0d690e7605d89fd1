/**
 * Cluster mode on a real ZooKeeper (Debian's 3.8, started by the test) with three `samsa start --zookeeper` broker
 * processes: registration in Kafka's znode layout, one controller with an epoch, the same whole-cluster metadata
 * from every broker, topics created through one broker and served by all (partitions led all over the cluster,
 * written and read by kcat and our client following the leaders), configs and deletions seen everywhere, and the
 * faults: a controller killed with SIGKILL (another one is elected with a higher epoch, the dead broker's
 * partitions lose their leader, get it back when it returns, with their data), and a broker frozen with SIGSTOP for
 * longer than its session timeout (its session expires, it leaves the cluster; thawed, it opens a new session,
 * registers again and leads its partitions again).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/admin/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { Producer } from '../../src/client/producer/index.js';
import { ZkClient } from '../../src/metadata/zookeeper/zk-client.js';
import {
  decodeControllerEpoch,
  decodePartitionState,
  decodeTopic,
  Paths,
} from '../../src/metadata/zookeeper/znodes.js';
import { ErrorCode, KafkaError, type MetadataResponse } from '../../src/protocol/index.js';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { requireTool, skipUnless } from '../compat/harness.js';
import { kcatTool } from '../compat/tools.js';
import { eventually } from './support/cluster.js';
import { skipWithoutZooKeeper, startZooKeeper, type ZooKeeperServer } from './support/zookeeper.js';

const SESSION_TIMEOUT_MS = 2000;
const skip = skipWithoutZooKeeper();

let zk: ZooKeeperServer;
let zkClient: ZkClient;
const brokers = new Map<number, BrokerProcess>();

async function startNode(id: number, dataDir?: string, port?: number): Promise<BrokerProcess> {
  const b = await startBrokerProcess({
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(port === undefined ? {} : { port }),
    config: {
      'node.id': String(id),
      'zookeeper.connect': `${zk.connectString}/samsa`,
      'zookeeper.session.timeout.ms': String(SESSION_TIMEOUT_MS),
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '6',
    },
  });
  brokers.set(id, b);
  return b;
}

async function metadataFrom(b: BrokerProcess): Promise<MetadataResponse> {
  const conn = await BrokerConnection.connect({ host: b.host, port: b.port, clientId: 'cluster-test' });
  try {
    return await conn.send<MetadataResponse>(3, 12, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  } finally {
    conn.close();
  }
}

const live = () => [...brokers.values()].filter((b) => b.child.exitCode === null && b.child.signalCode === null);

describe('cluster mode on ZooKeeper', { skip }, () => {
  before(async () => {
    zk = await startZooKeeper();
    zkClient = await ZkClient.connect(`${zk.connectString}/samsa`, { createChroot: true });
    await Promise.all([1, 2, 3].map((id) => startNode(id)));
  });

  after(async () => {
    await Promise.all([...brokers.values()].map((b) => b.kill()));
    for (const b of brokers.values()) b.cleanup();
    await zkClient?.close();
    await zk?.close();
  });

  it('every broker registers in Kafka layout and describes the whole cluster with one controller', async () => {
    await eventually('three brokers and a controller seen by all', async () => {
      const views = await Promise.all(live().map(metadataFrom));
      const controllers = new Set(views.map((v) => v.controllerId));
      for (const v of views) assert.deepEqual(v.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
      assert.equal(controllers.size, 1);
      assert.ok([1, 2, 3].includes([...controllers][0]!));
      assert.equal(new Set(views.map((v) => v.clusterId)).size, 1);
    });
    assert.deepEqual((await zkClient.children(Paths.brokerIds)).sort(), ['1', '2', '3']);
    const reg = JSON.parse((await zkClient.get(Paths.broker(2)))!.data.toString('utf8'));
    assert.equal(reg.version, 5);
    assert.deepEqual(reg.endpoints, [`PLAINTEXT://${brokers.get(2)!.bootstrap}`]);
    assert.ok(decodeControllerEpoch((await zkClient.get(Paths.controllerEpoch))!.data) >= 1);
  });

  it('a topic created through one broker is served by all, its partitions led across the cluster', async () => {
    const admin = new Admin({ bootstrapServers: [brokers.get(2)!.bootstrap] });
    try {
      await admin.createTopics([{ name: 'spread', numPartitions: 6, replicationFactor: 1 }]);
      await assert.rejects(
        admin.createTopics([{ name: 'too-replicated', numPartitions: 1, replicationFactor: 4 }]),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_REPLICATION_FACTOR,
      );
    } finally {
      await admin.close();
    }
    const topic = decodeTopic('spread', (await zkClient.get(Paths.topic('spread')))!.data);
    assert.equal(topic.assignments.length, 6);
    const leaders = new Map<number, number>();
    for (let p = 0; p < 6; p++) {
      const state = decodePartitionState('spread', p, (await zkClient.get(Paths.partitionState('spread', p)))!.data);
      assert.deepEqual(state.isr, topic.assignments[p]);
      leaders.set(state.leader, (leaders.get(state.leader) ?? 0) + 1);
    }
    assert.deepEqual([...leaders.keys()].sort(), [1, 2, 3], 'each broker leads partitions');
    await eventually('every broker sees the topic and its leaders', async () => {
      for (const view of await Promise.all(live().map(metadataFrom))) {
        const t = view.topics.find((x) => x.name === 'spread');
        assert.ok(t !== undefined);
        assert.equal(t.partitions.length, 6);
        for (const p of t.partitions) assert.deepEqual([p.leaderId], topic.assignments[p.partitionIndex]);
      }
    });
  });

  it('clients write to and read from the leaders on every broker (our producer, kcat as consumer)', async () => {
    const producer = new Producer({ bootstrapServers: [brokers.get(1)!.bootstrap], lingerMs: 1 });
    const reports = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        producer.send({ topic: 'spread', key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }),
      ),
    );
    await producer.close();
    assert.equal(new Set(reports.map((r) => r.partition)).size, 6);
    if (skipUnless(kcatTool()) !== false) return;
    requireTool(kcatTool());
    const out = spawnSync(
      'kcat',
      ['-C', '-b', brokers.get(3)!.bootstrap, '-t', 'spread', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\\n'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(out.status, 0, out.stderr);
    const lines = out.stdout.trim().split('\n').sort();
    assert.deepEqual(lines, Array.from({ length: 600 }, (_, i) => `k${i}=v${i}`).sort());
  });

  it('configs changed through one broker are seen by the others; a topic deleted through one is gone everywhere', async () => {
    const a1 = new Admin({ bootstrapServers: [brokers.get(1)!.bootstrap] });
    const a3 = new Admin({ bootstrapServers: [brokers.get(3)!.bootstrap] });
    try {
      await a1.createTopics([{ name: 'doomed', numPartitions: 3, replicationFactor: 1 }]);
      await a1.alterConfigs([
        { type: 'topic', name: 'doomed', ops: [{ name: 'retention.ms', value: '12345', op: 'set' }] },
      ]);
      await eventually('the override reaches broker 3', async () => {
        const [res] = await a3.describeConfigs([{ type: 'topic', name: 'doomed' }]);
        assert.equal(res!.entries.find((c) => c.name === 'retention.ms')?.value, '12345');
      });
      await a3.deleteTopics(['doomed']);
      await eventually('no broker lists it', async () => {
        for (const view of await Promise.all(live().map(metadataFrom))) {
          assert.equal(
            view.topics.find((x) => x.name === 'doomed'),
            undefined,
          );
        }
      });
      assert.equal(await zkClient.exists(Paths.topic('doomed')), null);
      assert.equal(await zkClient.exists(Paths.topicConfig('doomed')), null);
      // The ZooKeeper way of older Kafka tools: a request under /admin/delete_topics, carried out by the controller.
      await a1.createTopics([{ name: 'by-tool', numPartitions: 2, replicationFactor: 1 }]);
      await zkClient.create(Paths.deleteTopic('by-tool'));
      await eventually('the controller deletes it and the request', async () => {
        assert.equal(await zkClient.exists(Paths.topic('by-tool')), null);
        assert.equal(await zkClient.exists(Paths.deleteTopic('by-tool')), null);
        for (const view of await Promise.all(live().map(metadataFrom))) {
          assert.equal(
            view.topics.find((x) => x.name === 'by-tool'),
            undefined,
          );
        }
      });
    } finally {
      await a1.close();
      await a3.close();
    }
  });

  it('a killed controller is replaced (higher epoch); its partitions are leaderless until it returns with their data', async () => {
    const before = await metadataFrom(brokers.get(1)!);
    const oldController = before.controllerId;
    const epochBefore = decodeControllerEpoch((await zkClient.get(Paths.controllerEpoch))!.data);
    const victim = brokers.get(oldController)!;
    const { dataDir, port } = victim;
    await victim.kill();
    const survivors = () => live().filter((b) => b !== victim);
    await eventually('a new controller, the dead broker gone, its partitions without a leader', async () => {
      for (const view of await Promise.all(survivors().map(metadataFrom))) {
        assert.notEqual(view.controllerId, oldController);
        assert.ok(view.controllerId > 0);
        assert.ok(!view.brokers.some((b) => b.nodeId === oldController));
        const t = view.topics.find((x) => x.name === 'spread')!;
        for (const p of t.partitions) {
          if (p.replicaNodes[0] === oldController) assert.equal(p.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
          else assert.equal(p.errorCode, ErrorCode.NONE);
        }
      }
    });
    assert.ok(decodeControllerEpoch((await zkClient.get(Paths.controllerEpoch))!.data) > epochBefore);
    // Back with its data: it leads its partitions again, and what was written there is still there.
    await startNode(oldController, dataDir, port);
    await eventually('the returning broker leads its partitions again', async () => {
      for (const view of await Promise.all(live().map(metadataFrom))) {
        assert.deepEqual(view.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
        for (const p of view.topics.find((x) => x.name === 'spread')!.partitions) {
          assert.equal(p.errorCode, ErrorCode.NONE);
          assert.equal(p.leaderId, p.replicaNodes[0]);
        }
      }
    });
    const admin = new Admin({ bootstrapServers: [brokers.get(oldController)!.bootstrap] });
    try {
      const offsets = await admin.fetchTopicOffsets('spread');
      const total = offsets.reduce((n, o) => n + Number(o.latest - o.earliest), 0);
      assert.equal(total, 600, 'every record still there');
    } finally {
      await admin.close();
    }
  });

  it('a broker frozen past its session timeout leaves the cluster, and comes back on its own when thawed', async () => {
    const view = await metadataFrom(brokers.get(1)!);
    const frozenId = [1, 2, 3].find((id) => id !== view.controllerId)!;
    const frozen = brokers.get(frozenId)!;
    frozen.child.kill('SIGSTOP');
    try {
      await eventually('the cluster drops the frozen broker', async () => {
        const other = live().find((b) => b !== frozen)!;
        const v = await metadataFrom(other);
        assert.ok(!v.brokers.some((b) => b.nodeId === frozenId));
      });
    } finally {
      frozen.child.kill('SIGCONT');
    }
    await eventually(
      'it registers again and leads its partitions',
      async () => {
        for (const v of await Promise.all(live().map(metadataFrom))) {
          assert.deepEqual(v.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
          for (const p of v.topics.find((x) => x.name === 'spread')!.partitions) {
            assert.equal(p.leaderId, p.replicaNodes[0]);
          }
        }
      },
      30_000,
    );
    assert.ok(frozen.logs.some((l) => l.msg === 'ZooKeeper session renewed'));
  });
});
