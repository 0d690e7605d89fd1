/**
 * confluent-kafka-python (librdkafka) group membership changes against the real broker process, each member its own
 * Python process (py/confluent_group_member.py):
 *
 * - static membership (KIP-345, `group.instance.id`): two static members split six partitions; one closes (a static
 *   member sends no LeaveGroup) and a new process with the same group.instance.id starts within session.timeout.ms.
 *   The group does not rebalance: the other member gets no rebalance callback at all, the restarted member is
 *   assigned exactly its old partitions, DescribeGroups shows the group Stable with two members throughout, and the
 *   restarted member resumes at its commits (the messages produced while it was down, nothing twice);
 * - adding partitions: two members consume a 3-partition topic; the admin raises it to six partitions; librdkafka
 *   notices through its metadata refresh (topic.metadata.refresh.interval.ms=1000) and rejoins; the six partitions
 *   are split between the members and the new partitions' messages are consumed and committed to the log end.
 *
 * Waiting is by polling with a bound; nothing about timing is asserted. Logs are printed only on failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { requireTool, skipUnless } from '../harness.js';
import { confluentTool } from '../tools.js';
import type { BrokerProcess } from './broker-process.js';
import {
  account,
  committedByMembers,
  disjointCover,
  MemberProcess,
  owners,
  startGroupTestBroker,
  stopGroupTestBroker,
  waitFor,
} from './group-members.js';
import { withLogsOnFailure } from './workload.js';

const confluent = confluentTool();

const TEST_TIMEOUT_MS = 60_000;

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];

/** Produces `count` messages spread evenly over partitions 0..partitions-1, acks=all. */
async function produce(topic: string, partitions: number, from: number, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      partition: (from + i) % partitions,
      key: `key-${from + i}`,
      value: `value-${from + i}`,
    }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Log end offset per partition. */
async function logEnds(topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
}

/** Committed offset per partition (OffsetFetch through KafkaJS's admin). */
async function committed(group: string, topic: string): Promise<Map<number, number>> {
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

function member(name: string, topic: string, config: Record<string, string | number>): MemberProcess {
  return new MemberProcess(name, 'confluent_group_member.py', {
    bootstrap: broker!.bootstrap,
    topic,
    deadlineSeconds: TEST_TIMEOUT_MS / 1000,
    config: {
      'partition.assignment.strategy': 'range',
      'heartbeat.interval.ms': 500,
      'fetch.wait.max.ms': 200,
      ...config,
    },
  });
}

/** Runs `fn` with every member's last events printed when it fails, and every member gone afterwards. */
async function withMembers(
  t: TestContext,
  members: MemberProcess[],
  fn: (state: () => string) => Promise<void>,
): Promise<void> {
  const state = (): string => `${owners(members)}\n${members.map((m) => m.describe()).join('\n')}`;
  try {
    await withLogsOnFailure(t, broker, clientLogs, () => fn(state)).catch((e: unknown) => {
      for (const line of state().split('\n')) t.diagnostic(line);
      throw e;
    });
  } finally {
    await Promise.all(members.map((m) => m.kill()));
  }
}

/** Waits until the members' successful commits reach the log end of every partition. */
async function waitCommittedToEnd(
  members: readonly MemberProcess[],
  ends: ReadonlyMap<number, number>,
  state: () => string,
): Promise<void> {
  await waitFor(
    'commits to reach the log end',
    () => {
      const done = committedByMembers(members);
      return [...ends].every(([p, end]) => (done.get(p) ?? 0) === end);
    },
    state,
  );
}

describe(`confluent-kafka-python ${confluent.version ?? ''} group membership changes against the broker process`, {
  skip: skipUnless(confluent),
}, () => {
  before(async () => {
    if (confluent.missing !== undefined) return;
    ({ broker, kafka, admin } = await startGroupTestBroker('samsa-compat-confluent-group-membership', clientLogs));
  });

  after(() => stopGroupTestBroker(broker, admin));

  it('a static member restarts within the session timeout without a rebalance and gets its partitions back', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(confluent);
    const topic = 'confluent-static';
    const group = 'confluent-static';
    const partitions = 6;
    // Long enough that a Python process restart on a loaded machine surely fits into it.
    const config = (instance: string) => ({
      'group.id': group,
      'group.instance.id': instance,
      'session.timeout.ms': 20_000,
    });
    const members: MemberProcess[] = [];
    await withMembers(t, members, async (state) => {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] }), true);
      const s1 = member('static-1', topic, config('static-1'));
      const s2 = member('static-2', topic, config('static-2'));
      members.push(s1, s2);
      await waitFor('two static members to split six partitions', () => disjointCover([s1, s2], partitions), state);
      const stable = async (): Promise<boolean> => {
        const { groups } = await admin.describeGroups([group]);
        return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
      };
      await waitFor('the group to be Stable with two members', stable, state);
      await produce(topic, partitions, 0, 120);
      await waitCommittedToEnd([s1, s2], await logEnds(topic), state);
      const s1Owned = s1.owned!;
      const s2Rebalances = s2.rebalances;
      t.diagnostic(`before the restart: ${owners([s1, s2])}`);

      await s1.close();
      // The member is still in the group (no LeaveGroup), so the group stays Stable with two members.
      const { groups } = await admin.describeGroups([group]);
      assert.equal(groups[0]?.state, 'Stable', 'Stable after the static member closed');
      assert.equal(groups[0]?.members.length, 2, 'the closed static member is still a member');
      await produce(topic, partitions, 120, 120);

      const restarted = member('static-1-restarted', topic, config('static-1'));
      members.push(restarted);
      await waitFor('the restarted member to be assigned', () => (restarted.owned?.length ?? 0) > 0, state);
      assert.deepEqual(restarted.owned, s1Owned, 'the restarted static member gets its old partitions');
      const ends = await logEnds(topic);
      await waitCommittedToEnd([s1, s2, restarted], ends, state);
      assert.equal(s2.rebalances, s2Rebalances, 'the other member saw no rebalance');
      assert.ok(await stable(), 'still Stable with two members');
      const offsets = await committed(group, topic);
      assert.deepEqual([...offsets].sort(), [...ends].sort(), 'committed offsets at the log end');
      const after = owners([restarted, s2]);
      await Promise.all([restarted.close(), s2.close()]);
      // Every message once: the restarted member resumed at s1's commits.
      const summary = account(members, ends);
      assert.equal(summary.duplicates, 0, JSON.stringify(summary));
      t.diagnostic(`after the restart: ${after}; ${summary.consumptions} consumed, none twice`);
    });
  });

  it('partitions added to a consumed topic are assigned after a rebalance and consumed', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(confluent);
    const topic = 'confluent-add-partitions';
    const group = 'confluent-add-partitions';
    const config = {
      'group.id': group,
      'session.timeout.ms': 6000,
      'topic.metadata.refresh.interval.ms': 1000,
    };
    const members: MemberProcess[] = [];
    await withMembers(t, members, async (state) => {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] }), true);
      const m1 = member('grow-1', topic, config);
      const m2 = member('grow-2', topic, config);
      members.push(m1, m2);
      await waitFor('two members to split three partitions', () => disjointCover([m1, m2], 3), state);
      t.diagnostic(`three partitions: ${owners(members)}`);
      await produce(topic, 3, 0, 60);
      await waitCommittedToEnd(members, await logEnds(topic), state);

      await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
      await waitFor('the members to split six partitions', () => disjointCover([m1, m2], 6), state);
      t.diagnostic(`six partitions: ${owners(members)}`);
      await produce(topic, 6, 60, 120);
      const ends = await logEnds(topic);
      assert.deepEqual([...ends.keys()].sort(), [0, 1, 2, 3, 4, 5]);
      for (const p of [3, 4, 5]) assert.equal(ends.get(p), 20, `messages in new partition ${p}`);
      await waitCommittedToEnd(members, ends, state);
      const offsets = await committed(group, topic);
      assert.deepEqual([...offsets].sort(), [...ends].sort(), 'committed offsets at the log end (OffsetFetch)');
      await Promise.all(members.map((m) => m.close()));
      const summary = account(members, ends);
      t.diagnostic(`accounting: ${JSON.stringify(summary)}`);
    });
  });
});
