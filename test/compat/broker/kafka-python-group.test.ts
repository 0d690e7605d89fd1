/**
 * kafka-python's KafkaConsumer in a group against the real broker process, each member its own Python process
 * (py/kafka_python_group_member.py):
 *
 * - two members of one group on a 6-partition topic each report (rebalance listener) a share of the partitions:
 *   disjoint, non-empty, covering all six; DescribeGroups (KafkaJS admin) shows the group Stable with two members;
 * - 600 messages are consumed, each batch committed synchronously: every message exactly once, and the committed
 *   offsets (OffsetFetch through KafkaJS's admin) equal the log end of every partition;
 * - one member closes (LeaveGroup): the other takes over all six partitions and consumes 120 more, none twice.
 *
 * Waiting is by polling with a bound; nothing about timing is asserted. Logs are printed only on failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { requireTool, skipUnless } from '../harness.js';
import { kafkaPythonTool } from '../tools.js';
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

const kafkaPython = kafkaPythonTool();

const TOPIC = 'kafka-python-group';
const GROUP = 'kafka-python-group';
const PARTITIONS = 6;
const TEST_TIMEOUT_MS = 60_000;

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];

async function produce(from: number, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      partition: (from + i) % PARTITIONS,
      key: `key-${from + i}`,
      value: `value-${from + i}`,
    }));
    await producer.send({ topic: TOPIC, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

function member(name: string): MemberProcess {
  return new MemberProcess(name, 'kafka_python_group_member.py', {
    bootstrap: broker!.bootstrap,
    topic: TOPIC,
    deadlineSeconds: TEST_TIMEOUT_MS / 1000,
    config: {
      group_id: GROUP,
      session_timeout_ms: 6000,
      heartbeat_interval_ms: 500,
      fetch_max_wait_ms: 200,
    },
  });
}

describe(`kafka-python ${kafkaPython.version ?? ''} consumer group against the broker process`, {
  skip: skipUnless(kafkaPython),
}, () => {
  before(async () => {
    if (kafkaPython.missing !== undefined) return;
    ({ broker, kafka, admin } = await startGroupTestBroker('samsa-compat-kafka-python-group', clientLogs));
  });

  after(() => stopGroupTestBroker(broker, admin));

  it('two members split six partitions, consume everything once and commit; one leaves, the other takes over', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(kafkaPython);
    const members: MemberProcess[] = [];
    const state = (): string => `${owners(members)}\n${members.map((m) => m.describe()).join('\n')}`;
    try {
      await withLogsOnFailure(t, broker, clientLogs, async () => {
        assert.equal(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] }), true);
        const [m1, m2] = [member('kafka-python-1'), member('kafka-python-2')];
        members.push(m1, m2);
        await waitFor('two members to split six partitions', () => disjointCover([m1, m2], PARTITIONS), state);
        await waitFor(
          'DescribeGroups: Stable with two members',
          async () => {
            const { groups } = await admin.describeGroups([GROUP]);
            return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
          },
          state,
        );
        t.diagnostic(`two members: ${owners(members)}`);

        const committedTo = async (ends: Map<number, number>): Promise<void> => {
          await waitFor(
            'commits to reach the log end',
            () => {
              const done = committedByMembers(members);
              return [...ends].every(([p, end]) => done.get(p) === end);
            },
            state,
          );
          const [tp] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
          const offsets = new Map((tp?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          assert.deepEqual([...offsets].sort(), [...ends].sort(), 'OffsetFetch: committed offsets at the log end');
        };
        const logEnds = async (): Promise<Map<number, number>> =>
          new Map((await admin.fetchTopicOffsets(TOPIC)).map((o) => [o.partition, Number(o.high)]));

        await produce(0, 600);
        await committedTo(await logEnds());

        await m2.close();
        await waitFor('the remaining member to own all six partitions', () => disjointCover([m1], PARTITIONS), state);
        await produce(600, 120);
        const ends = await logEnds();
        await committedTo(ends);
        await m1.close();
        const summary = account(members, ends);
        assert.equal(summary.duplicates, 0, `nothing consumed twice: ${JSON.stringify(summary)}`);
        t.diagnostic(`accounting: ${JSON.stringify(summary)}`);
      }).catch((e: unknown) => {
        for (const line of state().split('\n')) t.diagnostic(line);
        throw e;
      });
    } finally {
      await Promise.all(members.map((m) => m.kill()));
    }
  });
});
