/**
 * Online partition reassignment (KIP-455, issue 8) on a real ZooKeeper with four broker processes, each partition
 * placed by hand with replication factor 2:
 * - bad requests get Kafka's codes (NOT_CONTROLLER away from the controller, UNKNOWN_TOPIC_OR_PARTITION,
 *   INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS); the same replicas in another order take effect at
 *   once and the leader stays;
 * - a reassignment written to /admin/reassign_partitions (older tools) is carried out and the znode removed; a
 *   request through the API for the same partition supersedes it (the entry goes, the API's target wins);
 * - cancelling a reassignment in progress restores the original replicas, the replica that had been added deletes
 *   its copy, and adding partitions meanwhile is refused (REASSIGNMENT_IN_PROGRESS); `samsa topic reassignments`
 *   lists it and `samsa topic reassign --cancel` cancels it;
 * - a partition moves from two brokers to the two others while a producer writes with acks=all:
 *   ListPartitionReassignments shows the move while it runs (one of the new replicas is kept frozen until the other
 *   has caught up, so it cannot finish early) and nothing after; the leader moves to the first target; the original
 *   replicas delete their copies; with them killed, each new replica in turn serves every acknowledged message,
 *   exactly once and in order.
 * - the controller is killed while a move runs: the next controller completes it once the targets are in sync; the
 *   killed broker, an original replica, deletes its stray copy when it starts again.
 * The frozen broker is never the controller (it would answer nothing), so the roles are chosen per test.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/admin/index.js';
import { Consumer } from '../../src/client/consumer/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { Producer } from '../../src/client/producer/index.js';
import { ZkClient } from '../../src/metadata/zookeeper/zk-client.js';
import { encodeReassignment, Paths } from '../../src/metadata/zookeeper/znodes.js';
import {
  type AlterPartitionReassignmentsResponse,
  ErrorCode,
  KafkaError,
  type ListPartitionReassignmentsResponse,
} from '../../src/protocol/index.js';
import { type CliResult, runCli } from '../cli/run-cli.js';
import { Cluster, eventually, failoverProducer } from './support/cluster.js';
import { skipWithoutZooKeeper } from './support/zookeeper.js';

const skip = skipWithoutZooKeeper();
const WAIT_MS = 30_000;

async function send<T>(c: Cluster, id: number, apiKey: number, body: unknown): Promise<T> {
  const b = c.broker(id);
  const conn = await BrokerConnection.connect({ host: b.host, port: b.port, clientId: 'reassignment-test' });
  try {
    return await conn.send<T>(apiKey, 0, body);
  } finally {
    conn.close();
  }
}

const hasCopy = (c: Cluster, id: number, topic: string): boolean =>
  existsSync(c.broker(id).dataDir) && readdirSync(c.broker(id).dataDir).some((d) => d.startsWith(`${topic}-0`));

/**
 * Brokers for a move: `origin` (the partition's replicas, the first its leader) and the targets `to` and `frozen`,
 * `frozen` never the controller (a frozen controller would answer nothing).
 */
async function roles(c: Cluster): Promise<{ origin: number[]; to: number; frozen: number }> {
  const controller = (await c.metadata()).controllerId;
  const others = c.ids.filter((id) => id !== controller);
  const frozen = others.at(-1)!;
  const to = others.at(-2)!;
  return { origin: c.ids.filter((id) => id !== frozen && id !== to), to, frozen };
}

async function createTopic(topic: string, replicas: number[]): Promise<void> {
  await admin!.createTopics([{ name: topic, assignments: [replicas], configs: { 'min.insync.replicas': '2' } }]);
}

let admin: Admin | undefined;

const samsa = (c: Cluster, ...args: string[]): Promise<CliResult> =>
  runCli([...args, '--bootstrap-server', c.bootstraps().join(',')]);

/** Writes `n` messages `${prefix}${i}` with acks=all, one at a time. */
async function write(c: Cluster, topic: string, prefix: string, n: number): Promise<void> {
  const producer = new Producer({ bootstrapServers: c.bootstraps(), acks: 'all', lingerMs: 0 });
  try {
    for (let i = 0; i < n; i++) await producer.send({ topic, partition: 0, value: Buffer.from(`${prefix}${i}`) });
  } finally {
    await producer.close();
  }
}

/** Every record of partition 0 of `topic`, read from its leader through brokers `ids`. */
async function readAll(c: Cluster, topic: string, expected: number, ids = c.serving): Promise<string[]> {
  const consumer = new Consumer({ bootstrapServers: c.bootstraps(ids), autoOffsetReset: 'earliest' });
  const out: string[] = [];
  try {
    consumer.assign([{ topic, partition: 0, offset: 0n }]);
    const deadline = Date.now() + WAIT_MS;
    for await (const m of consumer) {
      out.push(m.value!.toString());
      if (out.length >= expected || Date.now() > deadline) break;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe('partition reassignment', { skip }, () => {
  let cluster: Cluster | undefined;
  let zk: ZkClient | undefined;

  before(async () => {
    cluster = await Cluster.start({
      size: 4,
      chroot: '/reassignment',
      config: {
        'zookeeper.session.timeout.ms': '4000',
        'replica.lag.time.max.ms': '4000',
        // Small fetches, so that a new replica takes many round trips to copy the log.
        'replica.fetch.max.bytes': '8192',
      },
    });
    admin = new Admin({ bootstrapServers: cluster.bootstraps() });
    zk = await ZkClient.connect(cluster.zookeeperConnect);
    await createTopic('checked', [1, 2]);
    await createTopic('zk-moved', [1, 2]);
  });

  after(async () => {
    await admin?.close();
    await zk?.close();
    await cluster?.close();
  });

  it("bad requests get Kafka's codes; a new order of the same replicas takes effect at once", async () => {
    const c = cluster!;
    const before = (await c.waitFullIsr('checked', WAIT_MS))[0]!;
    const controller = (await c.metadata()).controllerId;
    const other = c.ids.find((id) => id !== controller)!;
    const alter = (id: number, topics: unknown[]) =>
      send<AlterPartitionReassignmentsResponse>(c, id, 45, { timeoutMs: 10_000, topics });
    const elsewhere = await alter(other, [{ name: 'checked', partitions: [{ partitionIndex: 0, replicas: [3, 4] }] }]);
    assert.equal(elsewhere.errorCode, ErrorCode.NOT_CONTROLLER);
    assert.deepEqual(elsewhere.responses, []);
    const listElsewhere = await send<ListPartitionReassignmentsResponse>(c, other, 46, {
      timeoutMs: 10_000,
      topics: null,
    });
    assert.equal(listElsewhere.errorCode, ErrorCode.NOT_CONTROLLER);

    const res = await alter(controller, [
      {
        name: 'checked',
        partitions: [
          { partitionIndex: 0, replicas: [] },
          { partitionIndex: 0, replicas: [3, 3] },
          { partitionIndex: 0, replicas: [1, 99] },
          { partitionIndex: 0, replicas: [-1, 2] },
          { partitionIndex: 0, replicas: null },
          { partitionIndex: 5, replicas: [1, 2] },
        ],
      },
      { name: 'nope', partitions: [{ partitionIndex: 0, replicas: [1, 2] }] },
    ]);
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      res.responses.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode])),
      [
        ['checked', 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['checked', 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['checked', 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['checked', 0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        ['checked', 0, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS],
        ['checked', 5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        ['nope', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
    assert.match(res.responses[0]!.partitions[2]!.errorMessage ?? '', /not alive: \[99\]/);
    assert.deepEqual(await admin!.listPartitionReassignments(), []);

    // Nothing to add or remove: done at once, and the leader (still a replica) keeps its epoch.
    await admin!.alterPartitionReassignments([{ topic: 'checked', partition: 0, replicas: [2, 1] }]);
    await eventually('replicas [2,1] everywhere', async () => {
      for (const id of c.ids) assert.deepEqual((await c.partitions('checked', id))[0]!.replicaNodes, [2, 1]);
    });
    const after = (await c.partitions('checked'))[0]!;
    assert.equal(after.leaderId, before.leaderId);
    assert.equal(after.leaderEpoch, before.leaderEpoch);
    assert.deepEqual(await admin!.listPartitionReassignments(), []);
  });

  it('a reassignment written to /admin/reassign_partitions is carried out and the znode removed', async () => {
    const c = cluster!;
    await c.waitFullIsr('zk-moved', WAIT_MS);
    await write(c, 'zk-moved', 'zk-', 50);
    await zk!.create(
      Paths.reassignPartitions,
      encodeReassignment([
        { topic: 'zk-moved', partition: 0, replicas: [2, 3] },
        { topic: 'nope', partition: 0, replicas: [1] },
      ]),
    );
    await eventually(
      'moved to [2,3], the request removed',
      async () => {
        const p = (await c.partitions('zk-moved'))[0]!;
        assert.deepEqual(p.replicaNodes, [2, 3]);
        assert.deepEqual([...p.isrNodes].sort(), [2, 3]);
        assert.equal(await zk!.exists(Paths.reassignPartitions), null);
      },
      WAIT_MS,
    );
    await eventually('broker 1 deleted its copy', async () => assert.ok(!hasCopy(c, 1, 'zk-moved')));
    assert.ok(hasCopy(c, 3, 'zk-moved'));
    const values = await readAll(c, 'zk-moved', 50);
    assert.deepEqual(
      values,
      Array.from({ length: 50 }, (_, i) => `zk-${i}`),
    );
  });

  it('a request through the API supersedes a /admin/reassign_partitions entry for the same partition', async () => {
    const c = cluster!;
    const { origin, to, frozen } = await roles(c);
    await createTopic('superseded', origin);
    await c.waitFullIsr('superseded', WAIT_MS);
    c.freeze(frozen);
    try {
      await zk!.create(
        Paths.reassignPartitions,
        encodeReassignment([{ topic: 'superseded', partition: 0, replicas: [to, frozen] }]),
      );
      await eventually('the ZooKeeper request started', async () => {
        const [r] = await admin!.listPartitionReassignments();
        assert.deepEqual(r?.addingReplicas, [to, frozen]);
      });
      const target = [origin[1]!, to];
      await admin!.alterPartitionReassignments([{ topic: 'superseded', partition: 0, replicas: target }]);
      assert.equal(await zk!.exists(Paths.reassignPartitions), null, 'the superseded request is gone');
      await eventually('moved to the API target', async () => {
        const p = (await c.partitions('superseded'))[0]!;
        assert.deepEqual(p.replicaNodes, target);
        assert.deepEqual([...p.isrNodes].sort(), [...target].sort());
        assert.deepEqual(await admin!.listPartitionReassignments(), []);
      });
    } finally {
      c.thaw(frozen);
    }
    await eventually(`broker ${origin[0]} deleted its copy`, async () =>
      assert.ok(!hasCopy(c, origin[0]!, 'superseded')),
    );
    assert.ok(!hasCopy(c, frozen, 'superseded'));
  });

  it('cancelling restores the original replicas; the replica added meanwhile deletes its copy', async () => {
    const c = cluster!;
    const { origin, to, frozen } = await roles(c);
    await createTopic('cancelled', origin);
    await c.waitFullIsr('cancelled', WAIT_MS);
    await write(c, 'cancelled', 'c-', 200);
    // One target frozen: the move cannot complete, whatever the other one does.
    c.freeze(frozen);
    try {
      await admin!.alterPartitionReassignments([{ topic: 'cancelled', partition: 0, replicas: [to, frozen] }]);
      assert.deepEqual(await admin!.listPartitionReassignments([{ topic: 'cancelled', partition: 0 }]), [
        {
          topic: 'cancelled',
          partition: 0,
          replicas: [to, frozen, ...origin],
          addingReplicas: [to, frozen],
          removingReplicas: origin,
        },
      ]);
      await eventually(`broker ${to} caught up`, async () => {
        assert.ok((await c.partitions('cancelled'))[0]!.isrNodes.includes(to));
      });
      assert.ok(hasCopy(c, to, 'cancelled'));
      await assert.rejects(
        admin!.createPartitions([{ topic: 'cancelled', totalCount: 2 }]),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.REASSIGNMENT_IN_PROGRESS,
      );

      // Through the CLI: the listing, then the cancellation.
      const listed = await samsa(c, 'topic', 'reassignments', 'cancelled', '--output', 'json');
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout), await admin!.listPartitionReassignments());
      const table = await samsa(c, 'topic', 'reassignments');
      assert.match(table.stdout, /TOPIC\s+PARTITION\s+REPLICAS\s+ADDING\s+REMOVING\n/);
      assert.match(table.stdout, new RegExp(`cancelled\\s+0\\s+${[to, frozen, ...origin].join(',')}\\s`));
      assert.deepEqual(await samsa(c, 'topic', 'reassign', 'cancelled', '--cancel'), {
        code: 0,
        stdout: 'Cancelled the reassignment of cancelled-0.\n',
        stderr: '',
      });
      assert.deepEqual(await admin!.listPartitionReassignments(), []);
      const p = (await c.partitions('cancelled'))[0]!;
      assert.deepEqual(p.replicaNodes, origin);
      assert.ok(
        p.isrNodes.every((r) => origin.includes(r)),
        `ISR ${p.isrNodes}`,
      );
      assert.equal(p.leaderId, origin[0]);
      await eventually(`broker ${to} deleted its copy`, async () => assert.ok(!hasCopy(c, to, 'cancelled')));
      await assert.rejects(
        admin!.alterPartitionReassignments([{ topic: 'cancelled', partition: 0, replicas: null }]),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
      );
      const again = await samsa(c, 'topic', 'reassign', 'cancelled', '--cancel');
      assert.equal(again.code, 1);
      assert.match(again.stderr, /cancelled-0: .*NO_REASSIGNMENT_IN_PROGRESS/);
    } finally {
      c.thaw(frozen);
    }
    await c.waitFullIsr('cancelled', WAIT_MS);
    assert.ok(!hasCopy(c, frozen, 'cancelled'));
    assert.deepEqual(
      await readAll(c, 'cancelled', 200),
      Array.from({ length: 200 }, (_, i) => `c-${i}`),
    );
  });

  it("the controller dies mid-move: its successor completes it, and the dead replica's copy goes when it is back", async () => {
    const c = cluster!;
    const { origin, to, frozen } = await roles(c);
    const controller = (await c.metadata()).controllerId;
    assert.ok(origin.includes(controller));
    await createTopic('failover', origin);
    await c.waitFullIsr('failover', WAIT_MS);
    await write(c, 'failover', 'f-', 200);
    c.freeze(frozen);
    try {
      await admin!.alterPartitionReassignments([{ topic: 'failover', partition: 0, replicas: [to, frozen] }]);
      await eventually(`broker ${to} in sync`, async () => {
        assert.ok((await c.partitions('failover'))[0]!.isrNodes.includes(to));
      });
      await c.kill(controller);
      await eventually(
        'another controller',
        async () => {
          const now = (await c.metadata()).controllerId;
          assert.ok(now >= 0 && now !== controller, `controller ${now}`);
        },
        WAIT_MS,
      );
    } finally {
      c.thaw(frozen);
    }
    await eventually(
      'the move completed',
      async () => {
        const p = (await c.partitions('failover'))[0]!;
        assert.deepEqual(p.replicaNodes, [to, frozen]);
        assert.deepEqual([...p.isrNodes].sort(), [to, frozen].sort());
        assert.deepEqual(await admin!.listPartitionReassignments(), []);
      },
      WAIT_MS,
    );
    const survivor = origin.find((id) => id !== controller)!;
    await eventually(`broker ${survivor} deleted its copy`, async () => assert.ok(!hasCopy(c, survivor, 'failover')));
    assert.ok(hasCopy(c, controller, 'failover'), 'the killed broker still has its copy');
    await c.startNode(controller);
    await eventually(`restarted broker ${controller} deleted its copy`, async () =>
      assert.ok(!hasCopy(c, controller, 'failover')),
    );
    assert.deepEqual(
      await readAll(c, 'failover', 200),
      Array.from({ length: 200 }, (_, i) => `f-${i}`),
    );
  });

  it('moves a partition to two other brokers under acks=all writes without losing any', {
    timeout: 120_000,
  }, async (t) => {
    const c = cluster!;
    const { origin, to, frozen } = await roles(c);
    await createTopic('moving', origin);
    const before = (await c.waitFullIsr('moving', WAIT_MS))[0]!;
    assert.deepEqual(before.replicaNodes, origin);
    const producer = failoverProducer(c.bootstraps());
    const pad = 'x'.repeat(200);
    const acked: { offset: bigint; value: string }[] = [];
    let failed = 0;
    let next = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 20 }, () => {
          const value = `${next++}:${pad}`;
          return producer
            .send({ topic: 'moving', partition: 0, value: Buffer.from(value) })
            .then((r) => acked.push({ offset: r.offset, value }))
            .catch(() => {
              failed++;
            });
        });
        await Promise.all(batch);
      }
    })();
    let startedAt = 0;
    let thawedAt = 0;
    let ackedAtStart = 0;
    const ackedBy = (n: number) => eventually(`${n} acknowledged`, async () => assert.ok(acked.length >= n), WAIT_MS);
    try {
      await ackedBy(3000);
      c.freeze(frozen);
      try {
        startedAt = Date.now();
        ackedAtStart = acked.length;
        await admin!.alterPartitionReassignments([{ topic: 'moving', partition: 0, replicas: [to, frozen] }]);
        const running = [
          {
            topic: 'moving',
            partition: 0,
            replicas: [to, frozen, ...origin],
            addingReplicas: [to, frozen],
            removingReplicas: origin,
          },
        ];
        assert.deepEqual(await admin!.listPartitionReassignments(), running);
        assert.deepEqual((await c.partitions('moving'))[0]!.replicaNodes, [to, frozen, ...origin]);
        // One target copies the log and joins the ISR; the move still runs (the frozen one is not in sync).
        await eventually(`broker ${to} in sync`, async () => {
          assert.ok((await c.partitions('moving'))[0]!.isrNodes.includes(to));
        });
        assert.deepEqual(await admin!.listPartitionReassignments([{ topic: 'moving', partition: 0 }]), running);
      } finally {
        c.thaw(frozen);
        thawedAt = Date.now();
      }
      const moved = await eventually(
        'the move completed',
        async () => {
          assert.deepEqual(await admin!.listPartitionReassignments(), []);
          const p = (await c.partitions('moving'))[0]!;
          assert.deepEqual(p.replicaNodes, [to, frozen]);
          assert.deepEqual([...p.isrNodes].sort(), [to, frozen].sort());
          return p;
        },
        WAIT_MS,
      );
      t.diagnostic(
        `moved in ${Date.now() - startedAt} ms (a target frozen for ${thawedAt - startedAt} ms of it), ` +
          `${acked.length - ackedAtStart} messages acknowledged meanwhile`,
      );
      // The leader was not a target: the first target in sync leads, in a new epoch.
      assert.equal(moved.leaderId, to);
      assert.ok(moved.leaderEpoch > before.leaderEpoch);
      await eventually('the original replicas deleted their copies', async () => {
        for (const id of origin) assert.ok(!hasCopy(c, id, 'moving'), `broker ${id}`);
      });
      await ackedBy(acked.length + 500);
    } finally {
      stop = true;
      await load;
      await producer.close();
    }
    t.diagnostic(`${acked.length} messages acknowledged, ${failed} failed`);
    assert.equal(failed, 0, 'no send failed for good');

    acked.sort((a, b) => (a.offset < b.offset ? -1 : 1));
    assert.deepEqual(
      acked.map((a) => a.offset),
      acked.map((_, i) => BigInt(i)),
      'acknowledged offsets 0..n-1',
    );
    const expected = acked.map((a) => a.value);
    // The old replicas gone, each new one serves everything: first the new leader, then the other alone.
    for (const id of origin) await c.kill(id);
    assert.deepEqual(await readAll(c, 'moving', expected.length), expected, `served by broker ${to}`);
    await c.kill(to);
    await eventually(
      `broker ${frozen} leads`,
      async () => assert.equal((await c.partitions('moving', frozen))[0]!.leaderId, frozen),
      WAIT_MS,
    );
    assert.deepEqual(await readAll(c, 'moving', expected.length, [frozen]), expected, `served by broker ${frozen}`);
  });
});
