/**
 * KafkaJS consumer groups against the real broker process (`samsa start`): JoinGroup (with KIP-394's two-step join),
 * SyncGroup with KafkaJS's own assignor, Heartbeat (how members learn of rebalances), OffsetCommit / OffsetFetch and
 * LeaveGroup, as KafkaJS 2.2.4 drives them.
 *
 * - its admin creates a 6-partition topic; three consumers join one group and, once the group is stable, split the
 *   partitions between them: disjoint sets covering all six (KafkaJS's GROUP_JOIN event reports each assignment);
 * - 600 keyed messages are produced and each is consumed exactly once, by the member owning its partition;
 * - the consumers commit their offsets: admin.fetchOffsets (OffsetFetch) reaches the log end of every partition;
 * - one consumer disconnects cleanly (LeaveGroup); the other two take over its partitions and consume 60 more
 *   messages, each exactly once.
 *
 * Waiting is by polling for a state, with a deadline that only bounds a failing run: no timing is asserted.
 * KafkaJS logs nothing on a passing run: its log lines are buffered and printed only when the test fails.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { waitFor, withLogsOnFailure } from './workload.js';

const require = createRequire(import.meta.url);
const KAFKAJS_VERSION = (require('kafkajs/package.json') as { version: string }).version;
const CLIENT_ID = 'samsa-compat-kafkajs-group';
const TIMEOUT_MS = 60_000;
const TOPIC = 'kafkajs-group';
const GROUP = 'kafkajs-group-consumers';
const PARTITIONS = 6;
const FIRST_BATCH = 600;
const SECOND_BATCH = 60;

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];

const logged = <T>(t: TestContext, fn: () => Promise<T>): Promise<T> => withLogsOnFailure(t, broker, clientLogs, fn);

interface Member {
  name: string;
  consumer: Consumer;
  /** Partitions of TOPIC in the latest assignment KafkaJS reported (GROUP_JOIN). */
  assigned: number[] | null;
}

/** One consumed message: who consumed it, where it was. */
interface Consumed {
  member: string;
  partition: number;
  offset: string;
  key: string;
}

const consumed: Consumed[] = [];

async function startMember(name: string): Promise<Member> {
  const consumer = kafka.consumer({
    groupId: GROUP,
    // Small waits so members notice rebalances (through heartbeats between fetches) without long pauses.
    heartbeatInterval: 300,
    sessionTimeout: 10_000,
    maxWaitTimeInMs: 300,
    retry: { retries: 5 },
  });
  const member: Member = { name, consumer, assigned: null };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.assigned = [...(e.payload.memberAssignment[TOPIC] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      consumed.push({ member: name, partition, offset: message.offset, key: message.key?.toString() ?? '' });
    },
  });
  return member;
}

/** True when the members' latest assignments are non-empty, disjoint and cover every partition exactly once. */
function partitioned(members: readonly Member[]): boolean {
  const all = members.flatMap((m) => m.assigned ?? []);
  return (
    members.every((m) => m.assigned !== null && m.assigned.length > 0) &&
    all.length === PARTITIONS &&
    new Set(all).size === PARTITIONS
  );
}

const assignments = (members: readonly Member[]): string =>
  members.map((m) => `${m.name}=${JSON.stringify(m.assigned)}`).join(' ');

async function produce(from: number, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: false });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({ key: `key-${from + i}`, value: `value-${from + i}` }));
    await producer.send({ topic: TOPIC, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Log end offset per partition. */
async function logEnds(): Promise<Map<number, string>> {
  return new Map((await admin.fetchTopicOffsets(TOPIC)).map((o) => [o.partition, o.high]));
}

/** Committed offset per partition for the group (OffsetFetch). */
async function committed(): Promise<Map<number, string>> {
  const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  return new Map((t?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

/** Checks that the keys `from`..`from+count-1` were each consumed once, by the member owning the partition. */
function assertConsumedOnce(batch: readonly Consumed[], from: number, count: number, members: readonly Member[]): void {
  const keys = batch.map((c) => c.key).sort();
  const want = Array.from({ length: count }, (_, i) => `key-${from + i}`).sort();
  assert.deepEqual(keys, want, 'every message consumed exactly once');
  const owner = new Map<number, string>();
  for (const m of members) for (const p of m.assigned ?? []) owner.set(p, m.name);
  for (const c of batch) assert.equal(c.member, owner.get(c.partition), `partition ${c.partition} read by its owner`);
  // No offset twice on a partition either.
  assert.equal(new Set(batch.map((c) => `${c.partition}/${c.offset}`)).size, batch.length);
}

describe(`KafkaJS ${KAFKAJS_VERSION} consumer group against the broker process`, { timeout: 2 * TIMEOUT_MS }, () => {
  before(async () => {
    broker = await startBrokerProcess({ config: { 'group.initial.rebalance.delay.ms': '0' } });
    kafka = new Kafka({
      clientId: CLIENT_ID,
      brokers: [broker.bootstrap],
      logLevel: logLevel.INFO,
      logCreator: () => (entry) => {
        clientLogs.push(`${entry.label} [${entry.namespace}] ${entry.log.message} ${JSON.stringify(entry.log)}`);
      },
      retry: { retries: 2 },
      requestTimeout: 20_000,
    });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect();
    if (broker !== undefined) {
      assert.equal(await broker.stop(), 0, 'the broker exits cleanly on SIGTERM');
      broker.cleanup();
    }
  });

  it('three consumers split six partitions, commit, and two take over when one leaves', {
    timeout: TIMEOUT_MS,
  }, async (t) => {
    const members: Member[] = [];
    try {
      await logged(t, async () => {
        assert.equal(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] }), true);
        for (const name of ['c1', 'c2', 'c3']) members.push(await startMember(name));
        await waitFor(
          'three members to split the partitions',
          () => partitioned(members),
          () => assignments(members),
        );
        t.diagnostic(`assignments: ${assignments(members)}`);

        // The group is described as Stable with the three members.
        await waitFor(
          'the group to be Stable',
          async () => {
            const { groups } = await admin.describeGroups([GROUP]);
            return groups[0]?.state === 'Stable' && groups[0].members.length === 3;
          },
          () => 'not Stable with 3 members',
        );

        await produce(0, FIRST_BATCH);
        await waitFor(
          `${FIRST_BATCH} messages consumed`,
          () => consumed.length >= FIRST_BATCH,
          () => `${consumed.length}`,
        );
        const ends = await logEnds();
        assert.equal(ends.size, PARTITIONS);
        assert.equal(
          [...ends.values()].reduce((n, e) => n + Number(e), 0),
          FIRST_BATCH,
        );
        // Committed offsets reach the log end of every partition.
        let last = new Map<number, string>();
        await waitFor(
          'offsets committed up to the log end',
          async () => {
            last = await committed();
            return [...ends].every(([p, end]) => last.get(p) === end);
          },
          () => JSON.stringify([...last]),
        );
        // Still partitioned as before: no rebalance happened, so nothing was read twice.
        assert.ok(partitioned(members), assignments(members));
        assertConsumedOnce(consumed, 0, FIRST_BATCH, members);

        // c3 leaves cleanly; c1 and c2 take over its partitions.
        const leaving = members.pop()!;
        const seen = consumed.length;
        await leaving.consumer.disconnect();
        const stayed = members;
        await waitFor(
          'two members to take over all partitions',
          () => partitioned(stayed) && stayed.every((m) => m.assigned!.length === PARTITIONS / 2),
          () => assignments(stayed),
        );
        t.diagnostic(`after ${leaving.name} left: ${assignments(stayed)}`);
        await waitFor(
          'the group to be Stable with 2 members',
          async () => {
            const { groups } = await admin.describeGroups([GROUP]);
            return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
          },
          () => 'not Stable with 2 members',
        );
        assert.equal(consumed.length, seen, 'nothing re-read after the rebalance (all offsets were committed)');

        await produce(FIRST_BATCH, SECOND_BATCH);
        await waitFor(
          `${SECOND_BATCH} more messages consumed`,
          () => consumed.length >= seen + SECOND_BATCH,
          () => `${consumed.length - seen}`,
        );
        const second = consumed.slice(seen);
        assertConsumedOnce(second, FIRST_BATCH, SECOND_BATCH, stayed);
        assert.ok(second.every((c) => c.member !== leaving.name));
        const newEnds = await logEnds();
        await waitFor(
          'new offsets committed',
          async () => {
            last = await committed();
            return [...newEnds].every(([p, end]) => last.get(p) === end);
          },
          () => JSON.stringify([...last]),
        );
      });
    } finally {
      await Promise.all(members.map((m) => m.consumer.disconnect()));
    }
  });
});
