/**
 * confluent-kafka-python (librdkafka) consumer groups against the real broker process, each member its own Python
 * process (py/confluent_group_member.py), once with the eager `range` assignor and once with `cooperative-sticky`:
 *
 * - three members of one group on a 6-partition topic each report (rebalance callbacks) a share of the partitions:
 *   disjoint, non-empty, covering all six;
 * - 600 messages are consumed, each batch committed synchronously after processing; the committed offsets
 *   (committed(), i.e. OffsetFetch) equal the log end (get_watermark_offsets) of every partition: lag 0;
 * - one member closes cleanly (LeaveGroup): the other two take over its partitions and consume 600 more;
 * - one of them stops committing and consumes 600 more: the lag (log end - committed) is then exactly its
 *   uncommitted records on its partitions and 0 on the others'; it is killed with SIGKILL (no LeaveGroup): once its
 *   session times out, the last member owns all six partitions, re-reads the killed member's uncommitted records and
 *   commits everything: lag 0 again;
 * - accounting over all processes' reports: every offset of every partition consumed, each exactly once with a
 *   commit covering it, and every other consumption explained by the killed member's uncommitted work (at or past
 *   its last commit of the partition) or by a commit the group refused during a rebalance (at-least-once).
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
  consumedCount,
  disjointCover,
  MemberProcess,
  owners,
  startGroupTestBroker,
  stopGroupTestBroker,
  waitFor,
} from './group-members.js';
import { runPython } from './scenario.js';
import { withLogsOnFailure } from './workload.js';

const confluent = confluentTool();

const PARTITIONS = 6;
const BATCH = 600;
const SESSION_TIMEOUT_MS = 6000;
const TEST_TIMEOUT_MS = 80_000;

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];

/** Produces `count` messages spread evenly over the partitions (explicit partitions), acks=all. */
async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      partition: (from + i) % PARTITIONS,
      key: `key-${from + i}`,
      value: `value-${from + i}`,
    }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

interface Lag {
  partition: number;
  committed: number;
  high: number;
}

/** Committed offset (the group's, via OffsetFetch) and log end offset per partition, read by librdkafka. */
async function lag(topic: string, group: string): Promise<Lag[]> {
  const r = await runPython<{ partitions: [number, number, number, number][] }>('confluent_group_lag.py', {
    bootstrap: broker!.bootstrap,
    topic,
    group,
    partitions: PARTITIONS,
  });
  return r.partitions.map(([partition, committed, , high]) => ({ partition, committed, high }));
}

function member(name: string, topic: string, group: string, strategy: string): MemberProcess {
  return new MemberProcess(name, 'confluent_group_member.py', {
    bootstrap: broker!.bootstrap,
    topic,
    deadlineSeconds: TEST_TIMEOUT_MS / 1000,
    config: {
      'group.id': group,
      'partition.assignment.strategy': strategy,
      'session.timeout.ms': SESSION_TIMEOUT_MS,
      'heartbeat.interval.ms': 500,
      'fetch.wait.max.ms': 200,
    },
  });
}

async function scenario(t: TestContext, strategy: string): Promise<void> {
  requireTool(confluent);
  const topic = `confluent-group-${strategy}`;
  const group = `confluent-group-${strategy}`;
  const members: MemberProcess[] = [];
  const state = (): string => `${owners(members)}\n${members.map((m) => m.describe()).join('\n')}`;
  try {
    await withLogsOnFailure(t, broker, clientLogs, async () => {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] }), true);
      const [a, b, c] = ['a', 'b', 'c'].map((n) => member(`${strategy}-${n}`, topic, group, strategy)) as [
        MemberProcess,
        MemberProcess,
        MemberProcess,
      ];
      members.push(a, b, c);
      await waitFor('three members to split six partitions', () => disjointCover([a, b, c], PARTITIONS), state);
      t.diagnostic(`three members: ${owners(members)}`);

      // 1. Consume and commit; lag 0 everywhere.
      await produce(topic, 0, BATCH);
      const allCommitted = (n: number) => () => {
        const done = committedByMembers(members);
        return Array.from({ length: PARTITIONS }, (_, p) => p).every((p) => done.get(p) === n / PARTITIONS);
      };
      await waitFor(`${BATCH} messages consumed and committed`, allCommitted(BATCH), state);
      for (const l of await lag(topic, group))
        assert.deepEqual(l, { ...l, committed: BATCH / PARTITIONS, high: BATCH / PARTITIONS });

      // 2. c leaves cleanly: a and b take over its partitions.
      await c.close();
      await waitFor("two members to take over c's partitions", () => disjointCover([a, b], PARTITIONS), state);
      t.diagnostic(`after c closed: ${owners([a, b])}`);
      await produce(topic, BATCH, BATCH);
      await waitFor(`${BATCH} more consumed and committed`, allCommitted(2 * BATCH), state);

      // 3. b stops committing and consumes 600 more: lag is exactly its uncommitted records.
      b.command('nocommit');
      await waitFor('b to stop committing', () => b.events.some((e) => e.ev === 'nocommit'), state);
      const bOwns = new Set(b.owned);
      const before = consumedCount([a, b]);
      await produce(topic, 2 * BATCH, BATCH);
      await waitFor(`the third ${BATCH} consumed`, () => consumedCount([a, b]) >= before + BATCH, state);
      await waitFor(
        'a to commit its partitions',
        allCommittedOn(
          [a],
          [...Array(PARTITIONS).keys()].filter((p) => !bOwns.has(p)),
          (3 * BATCH) / PARTITIONS,
        ),
        state,
      );
      const lagged = await lag(topic, group);
      const perBatch = BATCH / PARTITIONS;
      for (const l of lagged) {
        assert.equal(l.high, 3 * perBatch, `log end of partition ${l.partition}`);
        // b consumed its share of the third batch without committing it: lag = that share.
        if (bOwns.has(l.partition)) assert.equal(l.committed, 2 * perBatch, `b's partition ${l.partition}`);
        else assert.equal(l.committed, 3 * perBatch, `a's partition ${l.partition}`);
      }
      t.diagnostic(
        `lag while b does not commit: ${lagged.map((l) => `${l.partition}:${l.high - l.committed}`).join(' ')}`,
      );

      // 4. b is killed: after its session times out, a owns all six, re-reads b's uncommitted work and commits it.
      await b.kill();
      await waitFor('a to own all six partitions', () => disjointCover([a], PARTITIONS), state);
      await waitFor('a to commit everything', allCommitted(3 * BATCH), state);
      const final = await lag(topic, group);
      assert.deepEqual(
        final.map((l) => [l.partition, l.high - l.committed]),
        Array.from({ length: PARTITIONS }, (_, p) => [p, 0]),
        'lag 0 at the end',
      );
      await a.close();

      const summary = account(members, new Map(final.map((l) => [l.partition, l.high])));
      t.diagnostic(`accounting: ${JSON.stringify(summary)}`);
      assert.ok((summary.uncommitted.killed ?? 0) >= BATCH / 2, "a re-read b's uncommitted records");
    }).catch((e: unknown) => {
      for (const line of state().split('\n')) t.diagnostic(line);
      throw e;
    });
  } finally {
    await Promise.all(members.map((m) => m.kill()));
  }
}

function allCommittedOn(members: readonly MemberProcess[], partitions: number[], next: number): () => boolean {
  return () => {
    const done = committedByMembers(members);
    return partitions.every((p) => done.get(p) === next);
  };
}

describe(`confluent-kafka-python ${confluent.version ?? ''} consumer groups against the broker process`, {
  skip: skipUnless(confluent),
}, () => {
  before(async () => {
    if (confluent.missing !== undefined) return;
    ({ broker, kafka, admin } = await startGroupTestBroker('samsa-compat-confluent-group', clientLogs));
  });

  after(() => stopGroupTestBroker(broker, admin));

  for (const strategy of ['range', 'cooperative-sticky']) {
    it(
      `${strategy}: three members split, one leaves, one is killed, the last takes over; at-least-once, lag`,
      {
        timeout: TEST_TIMEOUT_MS,
      },
      (t) => scenario(t, strategy),
    );
  }
});
