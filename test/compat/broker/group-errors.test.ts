/**
 * Bad group and offset requests from real clients against the real broker process get Kafka's error codes and
 * change nothing. The requests are encoded by kafka-python's own protocol classes and sent with its KafkaClient
 * (py/kafka_python_group_errors.py), which lets a test send exactly the identity it wants; kafka-python's
 * KafkaConsumer / KafkaAdminClient and confluent-kafka-python (librdkafka, py/confluent_group_errors.py and group
 * members from py/confluent_group_member.py) show what applications see.
 *
 * - A live group of two confluent-kafka-python members: Heartbeat, OffsetCommit, SyncGroup and LeaveGroup with an
 *   unknown member id get UNKNOWN_MEMBER_ID (25), as does a standalone commit (librdkafka's, too) while the group
 *   has members; a real member id with any generation but the group's gets ILLEGAL_GENERATION (22); a commit naming
 *   an unknown topic or partition gets UNKNOWN_TOPIC_OR_PARTITION (3) for it while the rest of the request is stored;
 *   metadata over offset.metadata.max.bytes (4096) gets OFFSET_METADATA_TOO_LARGE (12) for its partition while the
 *   other partition is stored, and 4096 characters or a non-ASCII string round-trip exactly. Afterwards the group is
 *   Stable with the same members at the same generation, neither member saw a rebalance, OffsetFetch returns
 *   exactly what the good commits stored, and the members consume and commit new messages, none twice.
 * - A static member (group.instance.id) replaced by a new process with the same instance id is fenced: librdkafka
 *   reports FENCED_INSTANCE_ID (82) as a fatal error; the group keeps one member, the new one, at the same
 *   generation (KIP-345: no rebalance), the old member id is unknown, and the new member resumes at the old one's
 *   commits.
 * - An empty group id is INVALID_GROUP_ID (24) for JoinGroup, Heartbeat, SyncGroup and LeaveGroup; a group that
 *   never existed is Dead with no members in DescribeGroups (v0-v5 answer no error) and has offset -1 everywhere in
 *   OffsetFetch, and asking does not create it.
 *
 * The one broker (startGroupTestBroker) coordinates every group. Waiting is by polling with a bound; nothing about
 * timing is asserted. Logs are printed only on failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import { requireTool, skipUnless } from '../harness.js';
import { confluentTool, kafkaPythonTool } from '../tools.js';
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
import { runPython } from './scenario.js';
import { withLogsOnFailure } from './workload.js';

const confluent = confluentTool();
const kafkaPython = kafkaPythonTool();

const TEST_TIMEOUT_MS = 60_000;
const PARTITIONS = 2;
/** Consumed by the live group. */
const TOPIC = 'group-errors';
/** Committed to by hand (no member consumes it), next to bad partitions. */
const SIDE = 'group-errors-side';
const STATIC_TOPIC = 'group-errors-static';
const LIVE = 'group-errors-live';
const STATIC = 'group-errors-static';
const NEVER = 'group-errors-never-existed';
/** offset.metadata.max.bytes (Kafka's default; the broker runs with it). */
const METADATA_MAX = 4096;
const NORMAL_METADATA = '{"consumer": "a \\"b\\"", "ünïcødé": "✓ 😀"}';

/** An error as kafka-python names it: [code, name]. */
type Err = [code: number, name: string];
const NO_ERROR: Err = [0, 'NO_ERROR'];
const UNKNOWN_TOPIC_OR_PARTITION: Err = [3, 'UNKNOWN_TOPIC_OR_PARTITION'];
const OFFSET_METADATA_TOO_LARGE: Err = [12, 'OFFSET_METADATA_TOO_LARGE'];
const ILLEGAL_GENERATION: Err = [22, 'ILLEGAL_GENERATION'];
const INVALID_GROUP_ID: Err = [24, 'INVALID_GROUP_ID'];
const UNKNOWN_MEMBER_ID: Err = [25, 'UNKNOWN_MEMBER_ID'];
const FENCED_INSTANCE_ID = 82;

type Offset = [topic: string, partition: number, offset: number, metadata: string];

/** One request for py/kafka_python_group_errors.py (see its docstring). */
const op = {
  heartbeat: (group: string, generation: number, member: string) => ({ op: 'heartbeat', group, generation, member }),
  commit: (group: string, generation: number, member: string, offsets: Offset[]) => ({
    op: 'commit',
    group,
    generation,
    member,
    offsets,
  }),
  fetch: (group: string, partitions: [string, number][]) => ({ op: 'fetch', group, partitions }),
  describe: (group: string) => ({ op: 'describe', group }),
  join: (group: string) => ({ op: 'join', group, member: '', topic: TOPIC }),
  sync: (group: string, generation: number, member: string) => ({ op: 'sync', group, generation, member }),
  leave: (group: string, member: string) => ({ op: 'leave', group, member }),
  adminDescribe: (group: string) => ({ op: 'admin_describe', group }),
  adminList: () => ({ op: 'admin_list' }),
  consumerCommit: (group: string, offsets: Offset[]) => ({ op: 'consumer_commit', group, offsets }),
};

/** What kafka_python_group_errors.py prints per op; which fields are there depends on the op. */
interface KafkaPythonResult {
  error: Err;
  /** commit: [topic, partition, code, name]; fetch: [topic, partition, offset, metadata, code]. */
  partitions: (string | number)[][];
  state: string;
  protocolType: string;
  protocol: string;
  /** [member id, client id], sorted. */
  members: [string, string][];
  generation: number;
  groups: [string, string][];
  raised: [exception: string, code: number, name: string] | null;
  committed: [string, number, number | null, string | null][];
}

/** confluent_group_errors.py: a librdkafka error as [code, name, text]. */
type RdError = [code: number, name: string, text: string];
interface ConfluentResult {
  raised: RdError | null;
  partitions: [string, number, number, RdError | null][];
}

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];

async function sendWithKafkaPython(ops: Record<string, unknown>[]): Promise<KafkaPythonResult[]> {
  const r = await runPython<{ results: KafkaPythonResult[] }>('kafka_python_group_errors.py', {
    bootstrap: broker!.bootstrap,
    ops,
  });
  assert.equal(r.results.length, ops.length);
  return r.results;
}

async function confluentOps<T>(ops: Record<string, unknown>[]): Promise<T[]> {
  const r = await runPython<{ results: T[] }>('confluent_group_errors.py', { bootstrap: broker!.bootstrap, ops });
  return r.results;
}

/** A commit answer as sorted [topic, partition, code, name] rows. */
const commitRows = (r: KafkaPythonResult): (string | number)[][] => [...r.partitions].sort(byTopicPartition);
/** An OffsetFetch answer as sorted [topic, partition, offset, metadata, code] rows. */
const fetchRows = (r: KafkaPythonResult): (string | number)[][] => [...r.partitions].sort(byTopicPartition);
function byTopicPartition(a: (string | number)[], b: (string | number)[]): number {
  return String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]);
}

/**
 * The generation of a Stable group. Kafka's DescribeGroups does not report it, so it is found by heartbeating as
 * `member` with each candidate generation: exactly one is accepted, every other gets ILLEGAL_GENERATION.
 */
async function generationOf(group: string, member: string): Promise<number> {
  const candidates = [...Array(10).keys()];
  const results = await sendWithKafkaPython(candidates.map((g) => op.heartbeat(group, g, member)));
  const accepted = candidates.filter((g) => results[g]!.error[0] === 0);
  assert.equal(accepted.length, 1, `one generation accepted: ${JSON.stringify(results.map((r) => r.error))}`);
  for (const g of candidates) {
    if (g !== accepted[0]) assert.deepEqual(results[g]!.error, ILLEGAL_GENERATION, `heartbeat with generation ${g}`);
  }
  return accepted[0]!;
}

/** Produces `count` messages to partitions 0 and 1 in turn, acks=all. */
async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      partition: (from + i) % PARTITIONS,
      value: `value-${from + i}`,
    }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

async function logEnds(topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
}

function member(name: string, topic: string, config: Record<string, string | number>): MemberProcess {
  return new MemberProcess(name, 'confluent_group_member.py', {
    bootstrap: broker!.bootstrap,
    topic,
    deadlineSeconds: 120,
    config: {
      'partition.assignment.strategy': 'range',
      'session.timeout.ms': 6000,
      'heartbeat.interval.ms': 500,
      'fetch.wait.max.ms': 200,
      ...config,
    },
  });
}

/**
 * Consumer.close() and waits for the process to exit. (MemberProcess.close() bounds its wait with a 40 s timer that
 * it leaves running, which would keep this test process alive that long after the last test.)
 */
async function closeMember(m: MemberProcess): Promise<void> {
  m.command('close');
  await waitFor(
    `${m.name} to close its consumer and exit`,
    () => m.events.at(-1)?.ev === 'closed' && m.exitedAlready,
    () => m.describe(),
  );
}

/** Runs `fn` with the client and broker logs and the members' last events printed if it fails. */
async function step(t: TestContext, members: readonly MemberProcess[], fn: () => Promise<void>): Promise<void> {
  await withLogsOnFailure(t, broker, clientLogs, fn).catch((e: unknown) => {
    for (const m of members) for (const line of m.describe().split('\n')) t.diagnostic(line);
    throw e;
  });
}

/** Waits until the members' own successful commits reached `ends` on every partition. */
function waitCommitted(members: readonly MemberProcess[], ends: ReadonlyMap<number, number>): Promise<void> {
  return waitFor(
    `commits to reach ${JSON.stringify([...ends])}`,
    () => {
      const done = committedByMembers(members);
      return [...ends].every(([p, end]) => done.get(p) === end);
    },
    () => members.map((m) => m.describe()).join('\n'),
  );
}

describe(`group and offset errors from kafka-python ${kafkaPython.version ?? ''} and confluent-kafka-python ${
  confluent.version ?? ''
} against the broker process`, {
  skip: skipUnless(kafkaPython) || skipUnless(confluent),
}, () => {
  before(async () => {
    if (kafkaPython.missing !== undefined || confluent.missing !== undefined) return;
    ({ broker, kafka, admin } = await startGroupTestBroker('samsa-compat-group-errors', clientLogs));
    const topics = [TOPIC, SIDE, STATIC_TOPIC].map((topic) => ({ topic, numPartitions: PARTITIONS }));
    assert.equal(await admin.createTopics({ topics }), true);
  });

  after(() => stopGroupTestBroker(broker, admin));

  describe('a live group of two confluent-kafka-python members', () => {
    const members: MemberProcess[] = [];
    let a: MemberProcess;
    let b: MemberProcess;
    /** DescribeGroups' [member id, client id] of the group once it formed. */
    let formed: [string, string][];
    /** Member a's id, the generation and each member's rebalance callbacks once the group formed. */
    let memberA: string;
    let generation: number;
    let rebalances: number[];
    /** What a's commits stored before b joined: the log end of both partitions. */
    const firstCommits = new Map([
      [0, 20],
      [1, 20],
    ]);

    before(
      async () => {
        if (kafkaPython.missing !== undefined || confluent.missing !== undefined) return;
        await produce(TOPIC, 0, 40);
        // a alone first, then b: the group has had at least two generations, so generation - 1 is a real, past one.
        a = member('live-a', TOPIC, { 'group.id': LIVE });
        members.push(a);
        await waitFor(
          'a to own both partitions',
          () => disjointCover([a], PARTITIONS),
          () => a.describe(),
        );
        await waitCommitted([a], firstCommits);
        b = member('live-b', TOPIC, { 'group.id': LIVE });
        members.push(b);
        await waitFor(
          'a and b to split the partitions',
          () => disjointCover([a, b], PARTITIONS),
          () => owners(members),
        );
        await waitFor('the group to be Stable with two members', async () => {
          const [d] = await sendWithKafkaPython([op.describe(LIVE)]);
          formed = d!.members;
          return d!.state === 'Stable' && d!.members.length === 2;
        });
        assert.deepEqual(formed.map(([, client]) => client).sort(), ['live-a', 'live-b']);
        memberA = formed.find(([, client]) => client === 'live-a')![0];
        generation = await generationOf(LIVE, memberA);
        assert.ok(generation >= 2, `generation ${generation}: a alone, then a and b`);
        rebalances = [a.rebalances, b.rebalances];
      },
      { timeout: TEST_TIMEOUT_MS },
    );

    after(() => Promise.all(members.map((m) => m.kill())));

    it('an unknown member id gets UNKNOWN_MEMBER_ID (25) and stores nothing', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kafkaPython);
      requireTool(confluent);
      await step(t, members, async () => {
        const bad: Offset[] = [
          [TOPIC, 0, 999, 'bad'],
          [TOPIC, 1, 999, 'bad'],
        ];
        const [hb, commit, sync, leave, standalone] = await sendWithKafkaPython([
          op.heartbeat(LIVE, generation, 'no-such-member'),
          op.commit(LIVE, generation, 'no-such-member', bad),
          op.sync(LIVE, generation, 'no-such-member'),
          op.leave(LIVE, 'no-such-member'),
          // A standalone commit (generation -1, no member id) while the group has members.
          op.commit(LIVE, -1, '', bad),
        ]);
        assert.deepEqual(hb!.error, UNKNOWN_MEMBER_ID, 'Heartbeat');
        assert.deepEqual(commitRows(commit!), [
          [TOPIC, 0, ...UNKNOWN_MEMBER_ID],
          [TOPIC, 1, ...UNKNOWN_MEMBER_ID],
        ]);
        assert.deepEqual(sync!.error, UNKNOWN_MEMBER_ID, 'SyncGroup');
        assert.deepEqual(leave!.error, UNKNOWN_MEMBER_ID, 'LeaveGroup v1');
        assert.deepEqual(commitRows(standalone!), [
          [TOPIC, 0, ...UNKNOWN_MEMBER_ID],
          [TOPIC, 1, ...UNKNOWN_MEMBER_ID],
        ]);

        // librdkafka's standalone commit (a consumer with the group's id that did not subscribe) is refused alike.
        const [rd] = await confluentOps<ConfluentResult>([
          {
            op: 'commit',
            group: LIVE,
            offsets: [
              [TOPIC, 0, 999],
              [TOPIC, 1, 999],
            ],
          },
        ]);
        assert.deepEqual(rd!.raised?.slice(0, 2), [25, 'UNKNOWN_MEMBER_ID'], JSON.stringify(rd));

        const [fetched] = await sendWithKafkaPython([
          op.fetch(LIVE, [
            [TOPIC, 0],
            [TOPIC, 1],
          ]),
        ]);
        assert.deepEqual(fetchRows(fetched!), [
          [TOPIC, 0, 20, '', 0],
          [TOPIC, 1, 20, '', 0],
        ]);
      });
    });

    it('a stale generation gets ILLEGAL_GENERATION (22) and stores nothing', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kafkaPython);
      await step(t, members, async () => {
        const bad: Offset[] = [
          [TOPIC, 0, 999, 'stale'],
          [TOPIC, 1, 999, 'stale'],
        ];
        const [hb, stale, future, sync, fetched] = await sendWithKafkaPython([
          op.heartbeat(LIVE, generation - 1, memberA),
          op.commit(LIVE, generation - 1, memberA, bad),
          op.commit(LIVE, generation + 1, memberA, bad),
          op.sync(LIVE, generation - 1, memberA),
          op.fetch(LIVE, [
            [TOPIC, 0],
            [TOPIC, 1],
          ]),
        ]);
        assert.deepEqual(hb!.error, ILLEGAL_GENERATION, 'Heartbeat');
        for (const r of [stale!, future!]) {
          assert.deepEqual(commitRows(r), [
            [TOPIC, 0, ...ILLEGAL_GENERATION],
            [TOPIC, 1, ...ILLEGAL_GENERATION],
          ]);
        }
        assert.deepEqual(sync!.error, ILLEGAL_GENERATION, 'SyncGroup');
        assert.deepEqual(fetchRows(fetched!), [
          [TOPIC, 0, 20, '', 0],
          [TOPIC, 1, 20, '', 0],
        ]);
      });
    });

    it('a commit naming an unknown topic or partition gets UNKNOWN_TOPIC_OR_PARTITION (3) for it; the rest is stored', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kafkaPython);
      requireTool(confluent);
      await step(t, members, async () => {
        // As member a, at the group's generation, next to a partition of a topic no member consumes.
        const [commit, fetched] = await sendWithKafkaPython([
          op.commit(LIVE, generation, memberA, [
            ['no-such-topic', 0, 5, 'x'],
            [SIDE, 0, 7, NORMAL_METADATA],
            [TOPIC, PARTITIONS, 5, 'x'],
          ]),
          op.fetch(LIVE, [
            [SIDE, 0],
            [SIDE, 1],
            ['no-such-topic', 0],
            [TOPIC, 0],
            [TOPIC, 1],
          ]),
        ]);
        assert.deepEqual(commitRows(commit!), [
          [TOPIC, PARTITIONS, ...UNKNOWN_TOPIC_OR_PARTITION],
          [SIDE, 0, ...NO_ERROR],
          ['no-such-topic', 0, ...UNKNOWN_TOPIC_OR_PARTITION],
        ]);
        assert.deepEqual(fetchRows(fetched!), [
          [TOPIC, 0, 20, '', 0],
          [TOPIC, 1, 20, '', 0],
          [SIDE, 0, 7, NORMAL_METADATA, 0],
          [SIDE, 1, -1, '', 0],
          ['no-such-topic', 0, -1, '', 0],
        ]);

        // librdkafka (a standalone consumer of a group of its own): the commit fails with the partition's error
        // and the valid partition is stored.
        const group = 'group-errors-standalone';
        const [rd, after] = await confluentOps<ConfluentResult>([
          {
            op: 'commit',
            group,
            offsets: [
              ['no-such-topic', 0, 5],
              [SIDE, 1, 4],
            ],
          },
          {
            op: 'committed',
            group,
            partitions: [
              [SIDE, 0],
              [SIDE, 1],
            ],
          },
        ]);
        assert.deepEqual(rd!.raised?.slice(0, 2), [3, 'UNKNOWN_TOPIC_OR_PART'], JSON.stringify(rd));
        // -1001: librdkafka's OFFSET_INVALID, for "no committed offset".
        assert.deepEqual(after!.partitions, [
          [SIDE, 0, -1001, null],
          [SIDE, 1, 4, null],
        ]);
      });
    });

    it(`metadata over ${METADATA_MAX} characters gets OFFSET_METADATA_TOO_LARGE (12) for its partition; the rest is stored`, {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kafkaPython);
      await step(t, members, async () => {
        const tooLarge = 'x'.repeat(METADATA_MAX + 1);
        const largest = 'y'.repeat(METADATA_MAX);
        const [commit, fetched] = await sendWithKafkaPython([
          op.commit(LIVE, generation, memberA, [
            [SIDE, 0, 9, tooLarge],
            [SIDE, 1, 11, largest],
          ]),
          op.fetch(LIVE, [
            [SIDE, 0],
            [SIDE, 1],
          ]),
        ]);
        assert.deepEqual(commitRows(commit!), [
          [SIDE, 0, ...OFFSET_METADATA_TOO_LARGE],
          [SIDE, 1, ...NO_ERROR],
        ]);
        // Partition 0 keeps the previous commit (offset 7 and its metadata); partition 1 has 4096 characters intact.
        assert.deepEqual(fetchRows(fetched!), [
          [SIDE, 0, 7, NORMAL_METADATA, 0],
          [SIDE, 1, 11, largest, 0],
        ]);

        // kafka-python's KafkaConsumer (standalone, a group of its own): commit() raises the partition's error and
        // committed() shows the other partition stored with its metadata.
        const [consumer] = await sendWithKafkaPython([
          op.consumerCommit('group-errors-kafka-python', [
            [SIDE, 0, 3, NORMAL_METADATA],
            [SIDE, 1, 4, tooLarge],
          ]),
        ]);
        assert.deepEqual(consumer!.raised, ['OffsetMetadataTooLargeError', 12, 'OFFSET_METADATA_TOO_LARGE']);
        assert.deepEqual(consumer!.committed, [
          [SIDE, 0, 3, NORMAL_METADATA],
          [SIDE, 1, null, null],
        ]);
      });
    });

    it('afterwards the group is intact: same members and generation, no rebalance, the good commits, and it consumes on', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kafkaPython);
      await step(t, members, async () => {
        const [described, viaAdmin, fetched] = await sendWithKafkaPython([
          op.describe(LIVE),
          op.adminDescribe(LIVE),
          op.fetch(LIVE, [
            [TOPIC, 0],
            [TOPIC, 1],
            [SIDE, 0],
            [SIDE, 1],
          ]),
        ]);
        assert.deepEqual(
          [described!.error, described!.state, described!.protocolType, described!.protocol, described!.members],
          [NO_ERROR, 'Stable', 'consumer', 'range', formed],
        );
        assert.deepEqual([viaAdmin!.state, viaAdmin!.members], ['Stable', formed]);
        assert.equal(await generationOf(LIVE, memberA), generation, 'the same generation');
        assert.deepEqual([a.rebalances, b.rebalances], rebalances, 'no rebalance callback since the group formed');
        assert.deepEqual(
          members.flatMap((m) => m.events.filter((e) => e.ev === 'error')),
          [],
          'no member reported an error',
        );
        assert.deepEqual(fetchRows(fetched!), [
          [TOPIC, 0, 20, '', 0],
          [TOPIC, 1, 20, '', 0],
          [SIDE, 0, 7, NORMAL_METADATA, 0],
          [SIDE, 1, 11, 'y'.repeat(METADATA_MAX), 0],
        ]);

        await produce(TOPIC, 40, 20);
        const ends = await logEnds(TOPIC);
        assert.deepEqual(
          [...ends],
          [
            [0, 30],
            [1, 30],
          ],
        );
        await waitCommitted(members, ends);
        const [again] = await sendWithKafkaPython([
          op.fetch(LIVE, [
            [TOPIC, 0],
            [TOPIC, 1],
          ]),
        ]);
        assert.deepEqual(fetchRows(again!), [
          [TOPIC, 0, 30, '', 0],
          [TOPIC, 1, 30, '', 0],
        ]);
        const summary = account(members, ends);
        assert.equal(summary.duplicates, 0, JSON.stringify(summary));
        t.diagnostic(
          `generation ${generation}, members ${owners(members)}; ${summary.consumptions} consumed, none twice`,
        );
      });
    });
  });

  it('a static member replaced by one with its group.instance.id is fenced: FENCED_INSTANCE_ID (82)', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(kafkaPython);
    requireTool(confluent);
    const members: MemberProcess[] = [];
    const config = { 'group.id': STATIC, 'group.instance.id': 'static-1' };
    try {
      await step(t, members, async () => {
        const [fenced] = await confluentOps<RdError>([{ op: 'describe', code: FENCED_INSTANCE_ID }]);
        assert.deepEqual(fenced!.slice(0, 2), [FENCED_INSTANCE_ID, 'FENCED_INSTANCE_ID']);
        await produce(STATIC_TOPIC, 0, 20);
        const old = member('static-old', STATIC_TOPIC, config);
        members.push(old);
        await waitFor('the old member to own both partitions', () => disjointCover([old], PARTITIONS));
        await waitCommitted([old], await logEnds(STATIC_TOPIC));
        const [before] = await sendWithKafkaPython([op.describe(STATIC)]);
        assert.equal(before!.state, 'Stable');
        assert.equal(before!.members.length, 1);
        const oldId = before!.members[0]![0];
        const generation = await generationOf(STATIC, oldId);

        const replacement = member('static-new', STATIC_TOPIC, config);
        members.push(replacement);
        await waitFor('the new member to own both partitions', () => disjointCover([replacement], PARTITIONS));
        // librdkafka turns FENCED_INSTANCE_ID into a fatal error (_FATAL, -150) that carries its text.
        await waitFor('the old member to report that it was fenced', () =>
          old.events.some((e) => e.ev === 'error' && e.error.includes(fenced![2])),
        );
        const fatal = old.events.flatMap((e) => (e.ev === 'error' && e.error.includes(fenced![2]) ? [e.error] : []));
        assert.ok(fatal[0]?.startsWith('KafkaError{code=_FATAL,val=-150,'), fatal[0]);

        const [after, hb, commit] = await sendWithKafkaPython([
          op.describe(STATIC),
          // The old member id is gone: v1 Heartbeat and v2 OffsetCommit carry no instance id, so it is unknown.
          op.heartbeat(STATIC, generation, oldId),
          op.commit(STATIC, generation, oldId, [[STATIC_TOPIC, 0, 999, 'fenced']]),
        ]);
        assert.equal(after!.state, 'Stable');
        assert.equal(after!.members.length, 1, JSON.stringify(after!.members));
        const newId = after!.members[0]![0];
        assert.notEqual(newId, oldId, 'the new process has a member id of its own');
        assert.deepEqual(hb!.error, UNKNOWN_MEMBER_ID, 'Heartbeat with the fenced member id');
        assert.deepEqual(commitRows(commit!), [[STATIC_TOPIC, 0, ...UNKNOWN_MEMBER_ID]]);
        assert.equal(await generationOf(STATIC, newId), generation, 'no rebalance (KIP-345)');

        // The fenced member shuts down (a static member sends no LeaveGroup); the new one consumes on from the old
        // one's commits.
        await closeMember(old);
        await produce(STATIC_TOPIC, 20, 20);
        const ends = await logEnds(STATIC_TOPIC);
        await waitCommitted([replacement], ends);
        const [still, fetched] = await sendWithKafkaPython([
          op.describe(STATIC),
          op.fetch(STATIC, [
            [STATIC_TOPIC, 0],
            [STATIC_TOPIC, 1],
          ]),
        ]);
        assert.deepEqual([still!.state, still!.members.map(([id]) => id)], ['Stable', [newId]]);
        assert.deepEqual(fetchRows(fetched!), [
          [STATIC_TOPIC, 0, 20, '', 0],
          [STATIC_TOPIC, 1, 20, '', 0],
        ]);
        await closeMember(replacement);
        const summary = account(members, ends);
        assert.equal(summary.duplicates, 0, JSON.stringify(summary));
        t.diagnostic(`old ${oldId} fenced by ${newId} at generation ${generation}: ${fatal[0]}`);
      });
    } finally {
      await Promise.all(members.map((m) => m.kill()));
    }
  });

  it('an empty group id is INVALID_GROUP_ID (24); a group that never existed is Dead, without offsets, and stays so', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(kafkaPython);
    requireTool(confluent);
    await step(t, [], async () => {
      const [join, hb, sync, leave, described, viaAdmin, fetched, hbNever, listed, describedAgain] =
        await sendWithKafkaPython([
          op.join(''),
          op.heartbeat('', 1, 'no-such-member'),
          op.sync('', 1, 'no-such-member'),
          op.leave('', 'no-such-member'),
          op.describe(NEVER),
          op.adminDescribe(NEVER),
          op.fetch(NEVER, [
            [TOPIC, 0],
            [TOPIC, 1],
          ]),
          op.heartbeat(NEVER, 1, 'no-such-member'),
          op.adminList(),
          op.describe(NEVER),
        ]);
      assert.deepEqual([join!.error, join!.generation], [INVALID_GROUP_ID, -1], 'JoinGroup');
      assert.deepEqual(hb!.error, INVALID_GROUP_ID, 'Heartbeat');
      assert.deepEqual(sync!.error, INVALID_GROUP_ID, 'SyncGroup');
      assert.deepEqual(leave!.error, INVALID_GROUP_ID, 'LeaveGroup');
      for (const d of [described!, describedAgain!]) {
        assert.deepEqual(
          [d.error, d.state, d.protocolType, d.protocol, d.members],
          [NO_ERROR, 'Dead', '', '', []],
          'DescribeGroups v1',
        );
      }
      assert.deepEqual([viaAdmin!.state, viaAdmin!.members], ['Dead', []], 'describe_consumer_groups');
      assert.deepEqual(fetched!.error, NO_ERROR);
      assert.deepEqual(fetchRows(fetched!), [
        [TOPIC, 0, -1, '', 0],
        [TOPIC, 1, -1, '', 0],
      ]);
      assert.deepEqual(hbNever!.error, UNKNOWN_MEMBER_ID, 'Heartbeat to a group that does not exist');
      const names = listed!.groups.map(([g]) => g);
      assert.ok(!names.includes('') && !names.includes(NEVER), `ListGroups: ${JSON.stringify(listed!.groups)}`);

      const [committed] = await confluentOps<ConfluentResult>([
        {
          op: 'committed',
          group: NEVER,
          partitions: [
            [TOPIC, 0],
            [TOPIC, 1],
          ],
        },
      ]);
      assert.deepEqual(committed!.partitions, [
        [TOPIC, 0, -1001, null],
        [TOPIC, 1, -1001, null],
      ]);
    });
  });
});
