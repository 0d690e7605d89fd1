/**
 * Leadership moves on a real ZooKeeper with three broker processes and a topic of replication factor 3:
 * - controlled shutdown: a broker stopped with SIGTERM first has the controller move its leaderships away
 *   (ControlledShutdown), so its partitions are led elsewhere before it leaves;
 * - preferred leader election (ElectLeaders): once it is back in sync, leadership returns to the first replicas;
 *   the answers for partitions that need nothing, unknown partitions and a non-controller broker are Kafka's;
 * - auto.leader.rebalance.enable: the controller does the same by itself when a broker leads too few of its
 *   preferred partitions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/admin/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { type ElectLeadersResponse, ErrorCode, type MetadataResponse } from '../../src/protocol/index.js';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { eventually } from './support/cluster.js';
import { skipWithoutZooKeeper, startZooKeeper, type ZooKeeperServer } from './support/zookeeper.js';

const skip = skipWithoutZooKeeper();
const TOPIC = 'leaders';

interface Cluster {
  zk: ZooKeeperServer;
  brokers: Map<number, BrokerProcess>;
  config: Record<string, string>;
}

async function startNode(c: Cluster, id: number, dataDir?: string, port?: number): Promise<BrokerProcess> {
  const b = await startBrokerProcess({
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(port === undefined ? {} : { port }),
    config: {
      'node.id': String(id),
      'zookeeper.connect': `${c.zk.connectString}/leadership`,
      'zookeeper.session.timeout.ms': '2000',
      'replica.lag.time.max.ms': '2000',
      'replica.fetch.wait.max.ms': '200',
      'controlled.shutdown.retry.backoff.ms': '200',
      ...c.config,
    },
  });
  c.brokers.set(id, b);
  return b;
}

async function startCluster(config: Record<string, string>): Promise<Cluster> {
  const c: Cluster = { zk: await startZooKeeper(), brokers: new Map(), config };
  await Promise.all([1, 2, 3].map((id) => startNode(c, id)));
  const admin = new Admin({ bootstrapServers: [c.brokers.get(1)!.bootstrap] });
  try {
    await admin.createTopics([{ name: TOPIC, numPartitions: 6, replicationFactor: 3 }]);
  } finally {
    await admin.close();
  }
  return c;
}

async function stopCluster(c: Cluster | undefined): Promise<void> {
  if (c === undefined) return;
  await Promise.all([...c.brokers.values()].map((b) => b.kill()));
  for (const b of c.brokers.values()) b.cleanup();
  await c.zk.close();
}

const alive = (b: BrokerProcess): boolean => b.child.exitCode === null && b.child.signalCode === null;

async function send<T>(b: BrokerProcess, apiKey: number, version: number, body: unknown): Promise<T> {
  const conn = await BrokerConnection.connect({ host: b.host, port: b.port, clientId: 'leadership-test' });
  try {
    return await conn.send<T>(apiKey, version, body);
  } finally {
    conn.close();
  }
}

function metadata(c: Cluster): Promise<MetadataResponse> {
  return send<MetadataResponse>([...c.brokers.values()].find(alive)!, 3, 12, {
    topics: null,
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
}

async function partitions(c: Cluster) {
  return (await metadata(c)).topics.find((t) => t.name === TOPIC)!.partitions;
}

const allPreferred = async (c: Cluster): Promise<void> => {
  for (const p of await partitions(c)) {
    assert.equal(p.leaderId, p.replicaNodes[0], `partition ${p.partitionIndex}`);
    assert.equal(p.isrNodes.length, 3, `ISR of partition ${p.partitionIndex}`);
  }
};

describe('leadership: controlled shutdown and preferred leader election', { skip }, () => {
  let c: Cluster | undefined;
  before(async () => {
    c = await startCluster({ 'auto.leader.rebalance.enable': 'false' });
  });
  after(() => stopCluster(c));

  it('a broker stopped with SIGTERM hands its leaderships over before it leaves', async () => {
    await eventually('full ISRs', () => allPreferred(c!));
    // A partition with one replica on the broker has nowhere to go: the broker does not wait for it.
    const admin = new Admin({ bootstrapServers: [c!.brokers.get(1)!.bootstrap] });
    try {
      await admin.createTopics([{ name: 'single-replica', assignments: [[2], [2]] }]);
    } finally {
      await admin.close();
    }
    const victim = c!.brokers.get(2)!;
    const led = (await partitions(c!)).filter((p) => p.leaderId === 2).map((p) => p.partitionIndex);
    assert.ok(led.length > 0, 'broker 2 leads partitions');
    assert.equal(await victim.stop(), 0);
    const order = victim.logs.map((l) => String(l.msg));
    const handedOver = victim.logs.find((l) => l.msg === 'controlled shutdown');
    assert.ok(handedOver !== undefined, `controlled shutdown logged: ${order.join(' | ')}`);
    assert.equal(handedOver.remaining, 0, 'nothing left to move');
    assert.equal(victim.logs.filter((l) => l.msg === 'controlled shutdown').length, 1, 'asked once');
    assert.ok(order.indexOf('controlled shutdown') < order.indexOf('broker stopped'));
    // The controller moved them while broker 2 was still registered: new leaders from the ISR, epochs bumped.
    for (const p of await partitions(c!)) {
      assert.notEqual(p.leaderId, 2);
      assert.ok(!p.isrNodes.includes(2));
      if (led.includes(p.partitionIndex)) assert.ok(p.leaderEpoch > 0);
    }
    await startNode(c!, 2, victim.dataDir, victim.port);
    await eventually('broker 2 back in every ISR', async () => {
      for (const p of await partitions(c!)) assert.equal(p.isrNodes.length, 3);
    });
  });

  it('ElectLeaders gives leadership back to the preferred replicas, with Kafka answers', async () => {
    const m = await metadata(c!);
    const controller = c!.brokers.get(m.controllerId)!;
    const other = [...c!.brokers.values()].find((b) => b !== controller && alive(b))!;
    const notController = await send<ElectLeadersResponse>(other, 43, 2, {
      electionType: 0,
      topicPartitions: null,
      timeoutMs: 10_000,
    });
    assert.equal(notController.errorCode, ErrorCode.NOT_CONTROLLER);
    const res = await send<ElectLeadersResponse>(controller, 43, 2, {
      electionType: 0,
      topicPartitions: null,
      timeoutMs: 10_000,
    });
    assert.equal(res.errorCode, ErrorCode.NONE);
    const results = res.replicaElectionResults.flatMap((t) => t.partitionResult);
    assert.ok(results.length > 0, 'some partitions were not led by their preferred replica');
    for (const r of results) assert.equal(r.errorCode, ErrorCode.NONE, JSON.stringify(r));
    await eventually('every partition led by its preferred replica', () => allPreferred(c!));
    const again = await send<ElectLeadersResponse>(controller, 43, 2, {
      electionType: 0,
      topicPartitions: [
        { topic: TOPIC, partitions: [0] },
        { topic: 'nope', partitions: [0] },
      ],
      timeoutMs: 10_000,
    });
    const byTopic = new Map(again.replicaElectionResults.map((t) => [t.topic, t.partitionResult[0]!.errorCode]));
    assert.equal(byTopic.get(TOPIC), ErrorCode.ELECTION_NOT_NEEDED);
    assert.equal(byTopic.get('nope'), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('leadership: auto.leader.rebalance.enable', { skip }, () => {
  let c: Cluster | undefined;
  before(async () => {
    c = await startCluster({
      'auto.leader.rebalance.enable': 'true',
      'leader.imbalance.check.interval.seconds': '1',
    });
  });
  after(() => stopCluster(c));

  it('the controller returns leadership to a broker that came back', async () => {
    await eventually('full ISRs', () => allPreferred(c!));
    const controllerId = (await metadata(c!)).controllerId;
    const victimId = [1, 2, 3].find((id) => id !== controllerId)!;
    const victim = c!.brokers.get(victimId)!;
    await victim.kill();
    await eventually('its partitions led elsewhere', async () => {
      for (const p of await partitions(c!)) assert.notEqual(p.leaderId, victimId);
    });
    await startNode(c!, victimId, victim.dataDir, victim.port);
    await eventually('preferred leaders again, without anyone asking', () => allPreferred(c!));
  });
});
