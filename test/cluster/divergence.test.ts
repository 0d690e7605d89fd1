/**
 * A replica with divergent uncommitted data truncates it (issue 8; KIP-101/KIP-279), on a real ZooKeeper with
 * three broker processes and a one-partition topic with replication factor 3:
 *
 * 1. committed records everyone has; then both followers are frozen (SIGSTOP) and, once their last fetches have
 *    ended, a few records are written with acks=1: only the leader has them. The leader is killed (SIGKILL) before replica.lag.time.max.ms could shrink
 *    the ISR, and the followers are thawed: the ISR in ZooKeeper still names all three, so the controller elects
 *    one of the followers when the old leader's session ends;
 * 2. more records are written through the new leader (acks=all): they take the offsets the acks=1 records had in
 *    the old leader's log, under the next leader epoch;
 * 3. the old leader comes back on its data: it asks the new leader where its last epoch ends (OffsetForLeaderEpoch),
 *    logs 'truncating diverging replica' from its log end to that offset, catches up and rejoins the ISR;
 * 4. the two others are killed, so the old leader leads again: what it serves equals, batch by batch (offsets,
 *    leader epochs, values), what the new leader had; the acks=1 records are gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../src/client/admin/index.js';
import { Producer } from '../../src/client/producer/index.js';
import { ZkClient } from '../../src/metadata/zookeeper/zk-client.js';
import { decodePartitionState, Paths } from '../../src/metadata/zookeeper/znodes.js';
import { ErrorCode, encodeRecordBatch } from '../../src/protocol/index.js';
import { RawClient } from '../broker/raw-client.js';
import { storedBatches } from '../compat/broker/idempotent-log.js';
import { Cluster, eventually } from './support/cluster.js';
import { skipWithoutZooKeeper } from './support/zookeeper.js';

const TOPIC = 'diverge';
const CHROOT = '/divergence';
/** Long enough that freezing the followers, writing and killing the leader fit well inside it. */
const SESSION_TIMEOUT_MS = 3000;
const LAG_MS = 5000;
const WAIT_MS = 20_000;

const skip = skipWithoutZooKeeper();

/** A batch as compared between replicas. */
interface StoredBatch {
  baseOffset: number;
  leaderEpoch: number;
  values: string[];
}

async function read(c: Cluster, id: number): Promise<StoredBatch[]> {
  const batches = await storedBatches(c.broker(id).port, TOPIC, 0);
  return batches.map((b) => ({
    baseOffset: Number(b.baseOffset),
    leaderEpoch: b.partitionLeaderEpoch,
    values: b.records.map((r) => r.value!.toString()),
  }));
}

const values = (batches: StoredBatch[]): string[] => batches.flatMap((b) => b.values);
const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Writes `texts` to the partition one at a time (one batch each) through brokers `ids`; returns their offsets. */
async function write(c: Cluster, ids: number[], acks: 'all' | 1, texts: string[]): Promise<number[]> {
  const producer = new Producer({ bootstrapServers: c.bootstraps(ids), acks, lingerMs: 0 });
  try {
    const offsets: number[] = [];
    for (const text of texts) {
      offsets.push(Number((await producer.send({ topic: TOPIC, partition: 0, value: Buffer.from(text) })).offset));
    }
    return offsets;
  } finally {
    await producer.close();
  }
}

describe('a replica with divergent uncommitted data', { skip }, () => {
  let cluster: Cluster | undefined;
  let zk: ZkClient | undefined;

  before(async () => {
    cluster = await Cluster.start({
      size: 3,
      chroot: CHROOT,
      config: {
        'zookeeper.session.timeout.ms': String(SESSION_TIMEOUT_MS),
        'replica.lag.time.max.ms': String(LAG_MS),
      },
    });
    zk = await ZkClient.connect(cluster.zookeeperConnect);
    const admin = new Admin({ bootstrapServers: cluster.bootstraps() });
    try {
      await admin.createTopics([
        { name: TOPIC, numPartitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
      ]);
    } finally {
      await admin.close();
    }
  });

  after(async () => {
    await zk?.close();
    await cluster?.close();
  });

  it('truncates it when it comes back, and serves what the new leader had once it leads again', {
    timeout: 120_000,
  }, async (t) => {
    const c = cluster!;
    try {
      // 1. Committed records on all three; then only the leader gets the acks=1 records.
      await c.waitFullIsr(TOPIC, WAIT_MS);
      assert.deepEqual(
        await write(c, c.ids, 'all', names('committed-', 20)),
        names('', 20).map((_, i) => i),
      );
      const before = (await c.waitFullIsr(TOPIC, WAIT_MS))[0]!;
      const oldLeader = before.leaderId;
      const followers = c.ids.filter((id) => id !== oldLeader);
      for (const id of followers) c.freeze(id);
      // A fetch a follower sent just before it froze waits at the leader for up to replica.fetch.wait.max.ms
      // (200 ms): a record written meanwhile would go out in its answer and reach the follower when it thaws. Let
      // those fetches end (empty) first, so that the acks=1 records stay on the leader alone.
      await sleep(600);
      const divergentAt = await write(c, [oldLeader], 1, names('uncommitted-', 5));
      await c.kill(oldLeader);
      for (const id of followers) c.thaw(id);
      assert.deepEqual(divergentAt, [20, 21, 22, 23, 24], 'the acks=1 records follow the committed ones');
      const state = decodePartitionState(TOPIC, 0, (await zk!.get(Paths.partitionState(TOPIC, 0)))!.data);
      assert.equal(state.leader, oldLeader);
      assert.deepEqual(
        [...state.isr].sort(),
        [...c.ids].sort(),
        'the ISR had not shrunk when the leader died (else no follower could take over)',
      );

      // 2. A follower takes over (when the old leader's session ends) and takes more writes.
      const successor = await eventually(
        'a follower leads',
        async () => {
          const p = (await c.partitions(TOPIC))[0]!;
          assert.ok(followers.includes(p.leaderId), `leader ${p.leaderId}`);
          assert.ok(p.leaderEpoch > before.leaderEpoch, `leader epoch ${p.leaderEpoch}`);
          return p;
        },
        WAIT_MS,
      );
      const newLeader = successor.leaderId;
      assert.deepEqual(
        await write(c, followers, 'all', names('after-', 10)),
        names('', 10).map((_, i) => 20 + i),
        'the new leader writes from where the committed records end',
      );
      const expected = await read(c, newLeader);
      assert.deepEqual(values(expected), [...names('committed-', 20), ...names('after-', 10)]);
      assert.ok(expected.slice(-10).every((b) => b.leaderEpoch === successor.leaderEpoch));

      // 3. The old leader returns: it truncates its divergent tail and rejoins the ISR.
      await c.startNode(oldLeader);
      const truncation = await eventually(
        'the old leader truncates',
        async () => {
          const line = c.broker(oldLeader).logs.find((l) => l.msg === 'truncating diverging replica');
          assert.ok(line !== undefined, 'no truncation logged yet');
          return line;
        },
        WAIT_MS,
      );
      assert.deepEqual(
        [truncation.partition, truncation.from, truncation.to],
        [`${TOPIC}-0`, '25', '20'],
        'from its log end (after the acks=1 records) to where its epoch ends on the new leader',
      );
      t.diagnostic(`old leader ${oldLeader}: ${JSON.stringify(truncation)}`);
      await c.waitFullIsr(TOPIC, WAIT_MS);

      // 4. It leads again once the others are gone: it serves exactly what the new leader had.
      for (const id of followers) await c.kill(id);
      const again = await eventually(
        'the old leader leads again',
        async () => {
          const p = (await c.partitions(TOPIC, oldLeader))[0]!;
          assert.equal(p.leaderId, oldLeader);
          return p;
        },
        WAIT_MS,
      );
      t.diagnostic(`leader epochs: ${before.leaderEpoch} -> ${successor.leaderEpoch} -> ${again.leaderEpoch}`);
      const served = await read(c, oldLeader);
      assert.deepEqual(served, expected, 'the same batches at the same offsets with the same leader epochs');
      assert.ok(!values(served).some((v) => v.startsWith('uncommitted-')), 'the acks=1 records are gone');
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- cluster events\n${c.timeline()}`, { cause: e });
    }
  });

  it('a leader frozen past its session does not acknowledge acks=all writes when thawed, and drops them', {
    timeout: 120_000,
  }, async (t) => {
    const c = cluster!;
    try {
      for (const id of c.ids) if (!c.isRunning(id)) await c.startNode(id);
      const before = (await c.waitFullIsr(TOPIC, WAIT_MS))[0]!;
      const zombie = before.leaderId;
      const others = c.ids.filter((id) => id !== zombie);
      const endBefore = values(await read(c, zombie)).length;

      // Requests that wait in the frozen leader's sockets and are the first it reads when thawed.
      c.freeze(zombie);
      const { host, port } = c.broker(zombie);
      const acksAll = await RawClient.connect(port, host);
      const acksOne = await RawClient.connect(port, host);
      try {
        await eventually(
          'another broker leads',
          async () => {
            const p = (await c.partitions(TOPIC, others[0]))[0]!;
            assert.ok(others.includes(p.leaderId), `leader ${p.leaderId}`);
          },
          WAIT_MS,
        );
        // Long enough to outlast the zombie's return to follower, its truncation and its catching up.
        const all = acksAll.produce(9, produceBody(['zombie-acks-all'], -1, 10_000));
        const one = acksOne.produce(9, produceBody(['zombie-acks-one'], 1, 10_000));
        const claimed = acksOne.metadata(12, {
          topics: [{ name: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        });
        c.thaw(zombie);
        // The real leader takes writes meanwhile: its high watermark passes the offsets the zombie appended at.
        await write(c, others, 'all', names('after-thaw-', 5));
        const [allAnswer, oneAnswer, metadata] = await Promise.all([all, one, claimed]);
        const allPart = allAnswer.responses[0]!.partitionResponses[0]!;
        const onePart = oneAnswer.responses[0]!.partitionResponses[0]!;
        zombieAnswers = {
          acksAll: [allPart.errorCode, Number(allPart.baseOffset)],
          acksOne: [onePart.errorCode, Number(onePart.baseOffset)],
          leaderClaimed: metadata.topics[0]!.partitions[0]!.leaderId,
          zombie,
        };
        t.diagnostic(`answers of the thawed leader ${zombie}: ${JSON.stringify(zombieAnswers)}`);
      } finally {
        acksAll.close();
        acksOne.close();
      }

      // Back as a follower, in sync: the log (from the real leader) has neither record.
      const after = (await c.waitFullIsr(TOPIC, WAIT_MS))[0]!;
      const stored = values(await read(c, after.leaderId));
      assert.deepEqual(stored.slice(endBefore), names('after-thaw-', 5), 'what the real leader took meanwhile');
      assert.ok(!stored.some((v) => v.startsWith('zombie-')), "the thawed leader's appends are gone");
      const truncated = c.broker(zombie).logs.filter((l) => l.msg === 'truncating diverging replica');
      t.diagnostic(`the thawed leader truncated: ${JSON.stringify(truncated.map((l) => [l.from, l.to]))}`);
      assert.notEqual(
        zombieAnswers.acksAll[0],
        ErrorCode.NONE,
        `an acks=all write the thawed leader did not keep was acknowledged (at offset ${zombieAnswers.acksAll[1]})`,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- cluster events\n${c.timeline()}`, { cause: e });
    }
  });

  it('a leader frozen past its session neither names itself leader nor acknowledges acks=1 writes when thawed', () => {
    assert.ok(zombieAnswers !== undefined, 'the previous test ran');
    assert.notEqual(zombieAnswers.leaderClaimed, zombieAnswers.zombie, 'it names itself leader');
    assert.notEqual(zombieAnswers.acksOne[0], ErrorCode.NONE, 'it acknowledged an acks=1 write it then dropped');
  });
});

/** What the thawed leader answered (second test), for the third. */
let zombieAnswers: {
  acksAll: [number, number];
  acksOne: [number, number];
  leaderClaimed: number;
  zombie: number;
};

function produceBody(texts: string[], acks: number, timeoutMs: number) {
  const records = encodeRecordBatch({ records: texts.map((value) => ({ key: null, value, headers: [] })) });
  return { acks, timeoutMs, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }] };
}
