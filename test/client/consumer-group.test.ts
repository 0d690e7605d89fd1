/**
 * Consumer groups of our Consumer against a real broker in process (classic protocol): three members on a
 * 6-partition topic get disjoint shares covering every partition, and the others take over when one leaves; range,
 * roundrobin and cooperative-sticky (which revokes only the partitions that move, then hands them over in a
 * second rebalance); a static member restarting without a rebalance; every message consumed exactly once across
 * a member leaving when commits succeed; a rejoin when partitions are added or a pattern matches a new topic.
 *
 * Waiting is by polling for a state with a bound that only a failing run reaches; no timing is asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StartedBroker } from '../../src/broker/start-broker.js';
import {
  type AssignmentStrategy,
  Consumer,
  type ConsumerOptions,
  type TopicPartition,
} from '../../src/client/consumer/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { ErrorCode, KafkaError, type LeaveGroupResponse } from '../../src/protocol/index.js';
import { createTopic, produceRecords, RawProducer, startTestBroker, take, waitFor } from './consumer-helpers.js';

let kafka: StartedBroker;
let producer: RawProducer;

before(async () => {
  kafka = await startTestBroker();
  producer = await RawProducer.connect(kafka);
});

after(async () => {
  producer.close();
  await kafka.stop();
});

type Event = { kind: 'assigned' | 'revoked' | 'lost'; partitions: number[] };

/** One group member: a consumer subscribed to a topic, consuming in the background, noting what happens. */
class Member {
  readonly consumer: Consumer;
  readonly events: Event[] = [];
  /** "partition:offset" of every message consumed. */
  readonly consumed: string[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  error: unknown = null;

  constructor(
    readonly name: string,
    group: string,
    topics: string[] | RegExp,
    options: Partial<ConsumerOptions> = {},
  ) {
    this.consumer = new Consumer({
      bootstrapServers: [kafka.bootstrap],
      clientId: name,
      groupId: group,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 15_000,
      heartbeatIntervalMs: 200,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 100,
      ...options,
    });
    const note = (kind: Event['kind']) => (tps: TopicPartition[]) => {
      this.events.push({ kind, partitions: tps.map((tp) => tp.partition).sort((a, b) => a - b) });
    };
    this.consumer.subscribe(topics, {
      onPartitionsAssigned: note('assigned'),
      onPartitionsRevoked: note('revoked'),
      onPartitionsLost: note('lost'),
    });
  }

  start(): this {
    this.running = this.consumer
      .consume({
        eachMessage: (m) => {
          this.consumed.push(`${m.topic}:${m.partition}:${m.offset}`);
        },
        signal: this.abort.signal,
      })
      .catch((e: unknown) => {
        this.error = e;
      });
    return this;
  }

  partitions(): number[] {
    return this.consumer
      .assignment()
      .map((tp) => tp.partition)
      .sort((a, b) => a - b);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    await this.consumer.close();
  }
}

/** The members' assignments are disjoint and cover partitions 0..n-1, each member with `sizes` partitions. */
function balanced(members: Member[], n: number): boolean {
  const all = members.flatMap((m) => m.partitions()).sort((a, b) => a - b);
  if (all.length !== n || !all.every((p, i) => p === i)) return false;
  const counts = members.map((m) => m.partitions().length);
  return Math.max(...counts) - Math.min(...counts) <= 1;
}

const shares = (members: Member[]): string => members.map((m) => `${m.name}=[${m.partitions()}]`).join(' ');

async function waitBalanced(members: Member[], n: number, what: string): Promise<void> {
  await waitFor(`${what}: balanced shares (${shares(members)})`, () => balanced(members, n));
}

describe('Consumer groups', () => {
  for (const strategy of ['range', 'roundrobin', 'cooperative-sticky'] as AssignmentStrategy[]) {
    it(`${strategy}: three members share six partitions; the others take over when one leaves`, async () => {
      const topic = `group-${strategy}`;
      await createTopic(kafka, topic, 6);
      const group = `g-${strategy}`;
      const options = { partitionAssignmentStrategy: [strategy] };
      const members = [
        new Member('a', group, [topic], options).start(),
        new Member('b', group, [topic], options).start(),
        new Member('c', group, [topic], options).start(),
      ];
      try {
        await waitBalanced(members, 6, 'three members');
        assert.deepEqual(
          members.map((m) => m.partitions().length),
          [2, 2, 2],
        );
        if (strategy === 'range') {
          // Range hands out contiguous ranges.
          for (const m of members) assert.equal(m.partitions()[1]! - m.partitions()[0]!, 1, shares(members));
        }
        await members[1]!.stop();
        const rest = [members[0]!, members[2]!];
        await waitBalanced(rest, 6, 'after b left');
        assert.deepEqual(
          rest.map((m) => m.partitions().length),
          [3, 3],
        );
        if (strategy === 'cooperative-sticky') {
          // Nobody gave up a partition it kept: a and c only gained b's.
          for (const m of rest) {
            const revoked = m.events.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions);
            assert.ok(
              revoked.every((p) => !m.partitions().includes(p)),
              `${m.name} revoked partitions it still owns: ${JSON.stringify(m.events)}`,
            );
          }
        }
        for (const m of members) assert.equal(m.error, null);
      } finally {
        await Promise.all(members.map((m) => m.stop()));
      }
    });
  }

  it('cooperative-sticky: a member joining takes partitions that the others give up one by one, nothing else moves', async () => {
    const topic = 'coop-join';
    await createTopic(kafka, topic, 6);
    const group = 'g-coop-join';
    const options = { partitionAssignmentStrategy: ['cooperative-sticky'] as AssignmentStrategy[] };
    const a = new Member('a', group, [topic], options).start();
    const b = new Member('b', group, [topic], options).start();
    let c: Member | undefined;
    try {
      await waitBalanced([a, b], 6, 'two members');
      const before = { a: a.partitions(), b: b.partitions() };
      const eventsBefore = { a: a.events.length, b: b.events.length };
      c = new Member('c', group, [topic], options).start();
      await waitBalanced([a, b, c], 6, 'three members');
      for (const [m, owned, from] of [
        [a, before.a, eventsBefore.a],
        [b, before.b, eventsBefore.b],
      ] as const) {
        const later = m.events.slice(from);
        const revoked = later.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions);
        // Exactly the partition that moved to c was revoked; the rest stayed without interruption.
        assert.deepEqual(
          revoked,
          owned.filter((p) => !m.partitions().includes(p)),
          `${m.name}: ${JSON.stringify(later)}`,
        );
        assert.equal(revoked.length, 1, `${m.name} gave up one partition: ${JSON.stringify(later)}`);
        assert.ok(
          m.partitions().every((p) => owned.includes(p)),
          `${m.name} kept its own partitions: ${shares([a, b, c])}`,
        );
        assert.ok(!later.some((e) => e.kind === 'lost'));
      }
      assert.deepEqual(
        c.events.flatMap((e) => (e.kind === 'assigned' ? e.partitions : [])).sort(),
        c.partitions(),
        'c got the moved partitions in the follow-up rebalance',
      );
    } finally {
      await Promise.all([a, b, c].map((m) => m?.stop()));
    }
  });

  it('a static member restarts within the session timeout without a rebalance', async () => {
    const topic = 'static';
    await createTopic(kafka, topic, 4);
    const group = 'g-static';
    const opts = (id: string): Partial<ConsumerOptions> => ({
      groupInstanceId: id,
      partitionAssignmentStrategy: ['range'],
    });
    const a = new Member('a', group, [topic], opts('instance-a')).start();
    const b = new Member('b', group, [topic], opts('instance-b')).start();
    let a2: Member | undefined;
    try {
      await waitBalanced([a, b], 4, 'two static members');
      const aOwned = a.partitions();
      const bEvents = b.events.length;
      await a.stop();
      a2 = new Member('a2', group, [topic], opts('instance-a')).start();
      await waitFor('the restarted member to get its partitions back', () => a2!.partitions().length === 2);
      assert.deepEqual(a2.partitions(), aOwned, 'the same partitions as before the restart');
      // b saw nothing: no revocation, no new assignment.
      assert.equal(b.events.length, bEvents, `b: ${JSON.stringify(b.events.slice(bEvents))}`);
      const described = await kafka.broker.groups.describeGroups([group]);
      assert.equal(described[0]!.members.length, 2);
    } finally {
      await Promise.all([a2, b].map((m) => m?.stop()));
    }
  });

  it('a member removed by the coordinator hears its partitions are lost, then rejoins', async () => {
    const topic = 'removed';
    await createTopic(kafka, topic, 2);
    const group = 'g-removed';
    const a = new Member('a', group, [topic], { partitionAssignmentStrategy: ['range'] }).start();
    try {
      await waitFor('a to own both partitions', () => a.partitions().length === 2);
      const [described] = await kafka.broker.groups.describeGroups([group]);
      const memberId = described!.members[0]!.memberId;
      // An admin removes the member (LeaveGroup v3 on its behalf): its next heartbeat gets UNKNOWN_MEMBER_ID.
      const admin = await BrokerConnection.connect({ host: kafka.host, port: kafka.port, clientId: 'admin' });
      try {
        const res = await admin.send<LeaveGroupResponse>(13, 3, {
          groupId: group,
          members: [{ memberId, groupInstanceId: null }],
        });
        assert.equal(res.members[0]!.errorCode, ErrorCode.NONE);
      } finally {
        admin.close();
      }
      await waitFor('the partitions reported lost', () => a.events.some((e) => e.kind === 'lost'));
      assert.deepEqual(a.events.find((e) => e.kind === 'lost')!.partitions, [0, 1]);
      await waitFor(
        'a to rejoin and get them back',
        () => a.events.at(-1)?.kind === 'assigned' && a.partitions().length === 2,
      );
      const [again] = await kafka.broker.groups.describeGroups([group]);
      assert.notEqual(again!.members[0]!.memberId, memberId, 'a new member id after the removal');
      assert.equal(a.error, null);
    } finally {
      await a.stop();
    }
  });

  it('a second instance with the same group.instance.id fences the first, whose consume() fails', async () => {
    const topic = 'fenced';
    await createTopic(kafka, topic, 2);
    const group = 'g-fenced';
    const opts: Partial<ConsumerOptions> = { groupInstanceId: 'same-instance', partitionAssignmentStrategy: ['range'] };
    const first = new Member('first', group, [topic], opts).start();
    let second: Member | undefined;
    try {
      await waitFor('the first instance to own both partitions', () => first.partitions().length === 2);
      second = new Member('second', group, [topic], opts).start();
      await waitFor('the second instance to take over', () => second!.partitions().length === 2);
      await waitFor('the first one to fail', () => first.error !== null);
      assert.ok(
        first.error instanceof KafkaError && first.error.code === ErrorCode.FENCED_INSTANCE_ID,
        String(first.error),
      );
      assert.deepEqual(first.partitions(), [], 'the fenced instance stopped reading its partitions');
    } finally {
      await Promise.all([first.stop(), second?.stop()]);
    }
  });

  it('rebalance listeners are awaited: a seek in onPartitionsAssigned takes effect, a commit in onPartitionsRevoked lands', async () => {
    const topic = 'listeners';
    await createTopic(kafka, topic, 1);
    await produceRecords(producer, topic, 0, { count: 20, batchSize: 5 });
    const group = 'g-listeners';
    const c = new Consumer({
      bootstrapServers: [kafka.bootstrap],
      groupId: group,
      enableAutoCommit: false,
      autoOffsetReset: 'earliest',
      heartbeatIntervalMs: 200,
      fetchMaxWaitMs: 100,
    });
    const calls: string[] = [];
    c.subscribe([topic], {
      async onPartitionsAssigned(tps) {
        await sleep(200);
        for (const tp of tps) c.seek(tp.topic, tp.partition, 10n);
        calls.push('assigned');
      },
      async onPartitionsRevoked() {
        await c.commit();
        calls.push('revoked');
      },
    });
    const it = c[Symbol.asyncIterator]();
    try {
      const got = await take(it, 5);
      assert.deepEqual(
        got.map((m) => m.offset),
        [10n, 11n, 12n, 13n, 14n],
      );
    } finally {
      await it.return?.();
      await c.close();
    }
    assert.deepEqual(calls, ['assigned', 'revoked']);
    const check = new Consumer({ bootstrapServers: [kafka.bootstrap], groupId: group });
    const [o] = await check.committed([{ topic, partition: 0 }]);
    await check.close();
    assert.equal(o!.offset, 15n, 'the commit made in onPartitionsRevoked');
  });

  it('every message is consumed exactly once across a member leaving, with commits on revocation', async () => {
    const topic = 'exactly-once';
    await createTopic(kafka, topic, 6);
    const group = 'g-exactly-once';
    const members = ['a', 'b', 'c'].map((n) => new Member(n, group, [topic], { autoCommitIntervalMs: 200 }).start());
    try {
      await waitBalanced(members, 6, 'three members');
      for (let p = 0; p < 6; p++) await produceRecords(producer, topic, p, { count: 100, batchSize: 10 });
      const total = (): number => members.reduce((s, m) => s + m.consumed.length, 0);
      await waitFor('600 messages', () => total() >= 600);
      await members[0]!.stop();
      for (let p = 0; p < 6; p++) await produceRecords(producer, topic, p, { count: 50, batchSize: 5, from: 100 });
      await waitFor('900 messages', () => total() >= 900);
      const all = members.flatMap((m) => m.consumed);
      assert.equal(new Set(all).size, all.length, 'no message twice');
      assert.equal(all.length, 900);
      for (const m of members) assert.equal(m.error, null);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
  });

  it('rejoins when partitions are added to a subscribed topic or a pattern matches a new topic', async () => {
    const topic = 'growing';
    await createTopic(kafka, topic, 2);
    const group = 'g-growing';
    const options: Partial<ConsumerOptions> = { metadataMaxAgeMs: 300, partitionAssignmentStrategy: ['roundrobin'] };
    const a = new Member('a', group, /^growing/, options).start();
    const b = new Member('b', group, /^growing/, options).start();
    try {
      await waitFor('two partitions shared', () => a.partitions().length + b.partitions().length === 2);
      await kafka.broker.topics.createPartitions(topic, 4, null);
      await waitFor('four partitions shared', () => a.partitions().length + b.partitions().length === 4);
      await createTopic(kafka, 'growing-too', 2);
      await waitFor(
        'the new topic assigned',
        () =>
          [...a.consumer.assignment(), ...b.consumer.assignment()].filter((tp) => tp.topic === 'growing-too').length ===
          2,
      );
      await produceRecords(producer, 'growing-too', 1, { count: 3, batchSize: 3 });
      await waitFor('its messages consumed', () =>
        [...a.consumed, ...b.consumed].some((k) => k.startsWith('growing-too:1:2')),
      );
    } finally {
      await Promise.all([a, b].map((m) => m.stop()));
    }
  });
});
