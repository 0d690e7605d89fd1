/**
 * Replication on a real ZooKeeper with three broker processes: a topic with replication factor 3 and
 * min.insync.replicas=2 under a steady acks=all load from an idempotent producer; the leader of a partition is
 * killed with SIGKILL mid-stream, then another broker; writes resume on the new leaders, and a checker that reads
 * everything back confirms every acknowledged message is there exactly once, in order per partition, without gaps.
 * The killed brokers come back, catch up and rejoin the ISR. A consumer group's committed offsets survive the loss
 * of its coordinator's broker (__consumer_offsets is replicated; the new leader of the group's partition loads the
 * group). With two of three brokers down the ISR is too small for acks=all (NOT_ENOUGH_REPLICAS), and acks=1 still
 * works.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/admin/index.js';
import { Consumer } from '../../src/client/consumer/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { Producer } from '../../src/client/producer/index.js';
import {
  ErrorCode,
  type FindCoordinatorResponse,
  KafkaError,
  type MetadataResponse,
} from '../../src/protocol/index.js';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { eventually, failoverProducer } from './support/cluster.js';
import { skipWithoutZooKeeper, startZooKeeper, type ZooKeeperServer } from './support/zookeeper.js';

const skip = skipWithoutZooKeeper();
const TOPIC = 'replicated';
const PARTITIONS = 3;

let zk: ZooKeeperServer;
const brokers = new Map<number, BrokerProcess>();

async function startNode(id: number, dataDir?: string, port?: number): Promise<BrokerProcess> {
  const b = await startBrokerProcess({
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(port === undefined ? {} : { port }),
    config: {
      'node.id': String(id),
      'zookeeper.connect': `${zk.connectString}/replication`,
      'zookeeper.session.timeout.ms': '2000',
      'replica.lag.time.max.ms': '2000',
      'replica.fetch.wait.max.ms': '200',
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '3',
    },
  });
  brokers.set(id, b);
  return b;
}

const alive = (b: BrokerProcess): boolean => b.child.exitCode === null && b.child.signalCode === null;
const bootstraps = (): string[] => [...brokers.values()].filter(alive).map((b) => b.bootstrap);

async function metadata(): Promise<MetadataResponse> {
  const b = [...brokers.values()].find(alive)!;
  const conn = await BrokerConnection.connect({ host: b.host, port: b.port, clientId: 'replication-test' });
  try {
    return await conn.send<MetadataResponse>(3, 12, {
      topics: [{ name: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  } finally {
    conn.close();
  }
}

async function isrSizes(): Promise<number[]> {
  const m = await metadata();
  return m.topics[0]!.partitions.map((p) => p.isrNodes.length);
}

/** Reads every record of the topic (from the current leaders), by partition. */
async function readAll(expected: number): Promise<Map<number, string[]>> {
  const consumer = new Consumer({ bootstrapServers: bootstraps(), autoOffsetReset: 'earliest' });
  const out = new Map<number, string[]>();
  try {
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition, offset: 0n })));
    let seen = 0;
    const deadline = Date.now() + 30_000;
    for await (const m of consumer) {
      const list = out.get(m.partition) ?? [];
      list.push(m.value!.toString());
      out.set(m.partition, list);
      if (++seen >= expected || Date.now() > deadline) break;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe('replication and fail-over', { skip }, () => {
  before(async () => {
    zk = await startZooKeeper();
    await Promise.all([1, 2, 3].map((id) => startNode(id)));
    const admin = new Admin({ bootstrapServers: bootstraps() });
    try {
      await admin.createTopics([
        {
          name: TOPIC,
          numPartitions: PARTITIONS,
          replicationFactor: 3,
          configs: { 'min.insync.replicas': '2' },
        },
      ]);
    } finally {
      await admin.close();
    }
  });

  after(async () => {
    await Promise.all([...brokers.values()].map((b) => b.kill()));
    for (const b of brokers.values()) b.cleanup();
    await zk?.close();
  });

  it('acks=all writes survive SIGKILLs of leaders: every acknowledged message once, in order, no gaps', async (t) => {
    const producer = failoverProducer(bootstraps());
    const acked: { partition: number; offset: bigint; value: string }[] = [];
    let failed = 0;
    let next = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 20 }, () => {
          const i = next++;
          return producer
            .send({ topic: TOPIC, key: Buffer.from(`k${i % 12}`), value: Buffer.from(String(i)) })
            .then((r) => acked.push({ partition: r.partition, offset: r.offset, value: String(i) }))
            .catch(() => {
              failed++;
            });
        });
        await Promise.all(batch);
      }
    })();
    const ackedBy = async (n: number) => eventually(`${n} acknowledged`, async () => assert.ok(acked.length >= n));
    await ackedBy(500);
    await eventually('full ISRs', async () => assert.deepEqual(await isrSizes(), [3, 3, 3]));
    // Kill the leader of partition 0, then (once writes resume) the leader of partition 1.
    for (const partition of [0, 1]) {
      const m = await metadata();
      const leader = m.topics[0]!.partitions.find((p) => p.partitionIndex === partition)!.leaderId;
      const before = acked.length;
      await brokers.get(leader)!.kill();
      await eventually(`a new leader for partition ${partition}`, async () => {
        const now = (await metadata()).topics[0]!.partitions.find((p) => p.partitionIndex === partition)!;
        assert.ok(now.leaderId >= 0 && now.leaderId !== leader);
      });
      await ackedBy(before + 300);
      // Back: it truncates what it may have had beyond the new leader's log, catches up and rejoins the ISR.
      await startNode(leader, brokers.get(leader)!.dataDir, brokers.get(leader)!.port);
      await eventually('full ISRs again', async () => assert.deepEqual(await isrSizes(), [3, 3, 3]));
    }
    stop = true;
    await load;
    await producer.close();
    t.diagnostic(`${acked.length} messages acknowledged, ${failed} failed`);
    assert.equal(failed, 0, 'no send failed for good (retries within the delivery timeout)');

    const stored = await readAll(acked.length);
    const byPartition = new Map<number, typeof acked>();
    for (const a of acked) byPartition.set(a.partition, [...(byPartition.get(a.partition) ?? []), a]);
    for (const [partition, list] of byPartition) {
      const values = stored.get(partition) ?? [];
      list.sort((a, b) => (a.offset < b.offset ? -1 : 1));
      // Exactly the acknowledged records, at the offsets reported, nothing else (offsets 0..n-1: no gaps).
      assert.deepEqual(
        list.map((a) => a.offset),
        list.map((_, i) => BigInt(i)),
        `offsets of partition ${partition}`,
      );
      assert.deepEqual(
        values,
        list.map((a) => a.value),
        `partition ${partition}: every acknowledged message once, in order`,
      );
    }
  });

  it("committed offsets survive the loss of the group coordinator's broker", async () => {
    const group = 'survivors';
    const consumer = new Consumer({ bootstrapServers: bootstraps(), groupId: group, enableAutoCommit: false });
    consumer.assign([
      { topic: TOPIC, partition: 0 },
      { topic: TOPIC, partition: 1 },
    ]);
    await consumer.commit([
      { topic: TOPIC, partition: 0, offset: 42n },
      { topic: TOPIC, partition: 1, offset: 7n },
    ]);
    await consumer.close();
    const b = [...brokers.values()].find(alive)!;
    const conn = await BrokerConnection.connect({ host: b.host, port: b.port, clientId: 'replication-test' });
    const found = await conn.send<FindCoordinatorResponse>(10, 4, { key: '', keyType: 0, coordinatorKeys: [group] });
    conn.close();
    const coordinator = found.coordinators[0]!.nodeId;
    const victim = brokers.get(coordinator)!;
    await victim.kill();
    await eventually('the offsets are served by the next coordinator', async () => {
      const admin = new Admin({ bootstrapServers: bootstraps() });
      try {
        const offsets = await admin.listGroupOffsets(group);
        const byPartition = new Map(offsets.map((o) => [o.partition, o.offset]));
        assert.equal(byPartition.get(0), 42n);
        assert.equal(byPartition.get(1), 7n);
      } finally {
        await admin.close();
      }
    });
    await startNode(coordinator, victim.dataDir, victim.port);
    await eventually('full ISRs again', async () => assert.deepEqual(await isrSizes(), [3, 3, 3]));
  });

  it('with two brokers down the ISR is too small for acks=all; acks=1 still writes', async () => {
    const m = await metadata();
    const leader = m.topics[0]!.partitions.find((p) => p.partitionIndex === 2)!.leaderId;
    const others = [1, 2, 3].filter((id) => id !== leader);
    await brokers.get(others[0]!)!.kill();
    await brokers.get(others[1]!)!.kill();
    await eventually('the ISR of partition 2 shrinks to its leader', async () => {
      const p = (await metadata()).topics[0]!.partitions.find((x) => x.partitionIndex === 2)!;
      assert.deepEqual(p.isrNodes, [leader]);
    });
    const all = new Producer({ bootstrapServers: bootstraps(), acks: 'all', retries: 0 });
    await assert.rejects(
      all.send({ topic: TOPIC, partition: 2, value: Buffer.from('x') }),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_ENOUGH_REPLICAS,
    );
    await all.close();
    const one = new Producer({ bootstrapServers: bootstraps(), acks: 1 });
    const r = await one.send({ topic: TOPIC, partition: 2, value: Buffer.from('y') });
    assert.ok(r.offset >= 0n);
    await one.close();
  });
});
