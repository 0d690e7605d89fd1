/**
 * Our Consumer with real third-party clients against the real broker process (`samsa start`):
 *
 * - Mixed groups: two of our consumers and two KafkaJS 2.2.4 consumers in ONE group on a 6-partition topic. The
 *   group can only agree on a protocol every member offers, so each test gives both sides one in common: KafkaJS's
 *   round-robin assigner under its own name ('RoundRobinAssigner', offered by ours as a custom assignor), with a
 *   KafkaJS member leading (KafkaJS's assigner computes everyone's share); and under Kafka's name 'roundrobin'
 *   (KafkaJS's assigner renamed), with one of ours leading (our assignor computes the KafkaJS members' shares too).
 *   Each time: the shares are disjoint and cover every partition, each member's view agrees with what the
 *   coordinator handed out (DescribeGroups), and 600 messages are each consumed exactly once, by their partition's
 *   owner.
 * - Mixed with librdkafka: two of ours and two confluent-kafka-python consumers in one group, with 'range' and with
 *   'cooperative-sticky' (KIP-429 on both sides), a librdkafka member leading first: shares agree with the
 *   coordinator, each message is consumed once by its owner, and when the leader leaves the other three take its
 *   partitions over (one of them computing the new assignment) and each later message is again consumed once.
 * - Records written by librdkafka (kcat and confluent-kafka-python) with every codec are read back byte for byte by
 *   our consumer: keys, values (including tombstones), headers (repeated names, empty and null values) and
 *   timestamps; the batches were stored with the codec (read from the broker's segment files).
 *
 * Waits poll for a state with a bound that only a failing run reaches; no timing is asserted. Client logs are
 * printed only when a test fails.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Admin, Kafka, type Consumer as KafkaJSConsumer, logLevel } from 'kafkajs';
import { decodeAssignment } from '../../../src/client/consumer/consumer-protocol.js';
import {
  type AssignmentStrategy,
  type Assignor,
  Consumer,
  type ConsumerMessage,
  roundRobinAssignor,
  type TopicPartition,
} from '../../../src/client/consumer/index.js';
import { scanRecordSet } from '../../../src/protocol/index.js';
import { type BrokerProcess, startBrokerProcess } from '../broker/broker-process.js';
import { MemberProcess } from '../broker/group-members.js';
import { waitFor, withLogsOnFailure } from '../broker/workload.js';
import {
  CODEC_ID,
  CODECS,
  type Codec,
  describeChild,
  messagesToJson,
  PYTHON,
  requireTool,
  runChild,
  skipUnless,
  type TestMessage,
} from '../harness.js';
import { confluentTool, kcatTool } from '../tools.js';

const require = createRequire(import.meta.url);
const KAFKAJS_VERSION = (require('kafkajs/package.json') as { version: string }).version;
// Not among the names Node's CommonJS export detection finds in kafkajs, so taken through require.
const { PartitionAssigners } = require('kafkajs') as {
  PartitionAssigners: { roundRobin: (config: { cluster: unknown }) => { name: string } };
};

const TIMEOUT_MS = 90_000;
const kcat = kcatTool();
const confluent = confluentTool();
const PARTITIONS = 6;
const MESSAGES = 600;

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];
const logged = <T>(t: TestContext, fn: () => Promise<T>): Promise<T> => withLogsOnFailure(t, broker, clientLogs, fn);

before(async () => {
  broker = await startBrokerProcess({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  kafka = new Kafka({
    clientId: 'samsa-consumer-mixed',
    brokers: [broker.bootstrap],
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      clientLogs.push(`${entry.label} [${entry.namespace}] ${entry.log.message}`);
    },
    retry: { retries: 5 },
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

/** One member of a mixed group, whichever client it is. */
interface Member {
  name: string;
  /** The member's own view of its partitions (null until it has one). */
  partitions(): number[] | null;
  consumed: { partition: number; offset: bigint; key: string }[];
  /** KafkaJS members: whether the last join made it the leader (ours: null, not reported). */
  leader: boolean | null;
  stop(): Promise<void>;
}

async function startKafkaJS(name: string, group: string, topic: string, renamed: boolean): Promise<Member> {
  const partitionAssigners = renamed
    ? [(config: { cluster: unknown }) => ({ ...PartitionAssigners.roundRobin(config), name: 'roundrobin' })]
    : [PartitionAssigners.roundRobin];
  const consumer: KafkaJSConsumer = kafka.consumer({
    groupId: group,
    // biome-ignore lint/suspicious/noExplicitAny: KafkaJS's assigner type is not exported under this require.
    partitionAssigners: partitionAssigners as any,
    heartbeatInterval: 300,
    sessionTimeout: 10_000,
    rebalanceTimeout: 15_000,
    maxWaitTimeInMs: 200,
  });
  let assigned: number[] | null = null;
  const member: Member = {
    name,
    partitions: () => assigned,
    consumed: [],
    leader: false,
    stop: () => consumer.disconnect(),
  };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.leader = e.payload.isLeader;
    assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      member.consumed.push({ partition, offset: BigInt(message.offset), key: message.key?.toString() ?? '' });
    },
  });
  return member;
}

function startOurs(name: string, group: string, topic: string, assignors: (Assignor | AssignmentStrategy)[]): Member {
  const consumer = new Consumer({
    bootstrapServers: [broker!.bootstrap],
    clientId: name,
    groupId: group,
    partitionAssignmentStrategy: assignors,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 15_000,
    heartbeatIntervalMs: 300,
    autoOffsetReset: 'earliest',
    fetchMaxWaitMs: 200,
  });
  let joined = false;
  consumer.subscribe([topic], {
    onPartitionsAssigned: () => {
      joined = true;
    },
  });
  const abort = new AbortController();
  const member: Member = {
    name,
    partitions: () =>
      joined
        ? consumer
            .assignment()
            .map((tp: TopicPartition) => tp.partition)
            .sort((a, b) => a - b)
        : null,
    consumed: [],
    leader: null,
    async stop() {
      abort.abort();
      await running;
      await consumer.close();
    },
  };
  const running = consumer
    .consume({
      eachMessage: (m: ConsumerMessage) => {
        member.consumed.push({ partition: m.partition, offset: m.offset, key: m.key?.toString() ?? '' });
      },
      signal: abort.signal,
    })
    .catch((e: unknown) => {
      clientLogs.push(`${name}: consume failed: ${(e as Error).stack}`);
    });
  return member;
}

const shares = (members: readonly Member[]): string =>
  members.map((m) => `${m.name}=${JSON.stringify(m.partitions())}`).join(' ');

function partitioned(members: readonly Member[]): boolean {
  const all = members.flatMap((m) => m.partitions() ?? []);
  return members.every((m) => m.partitions() !== null) && all.length === PARTITIONS && new Set(all).size === PARTITIONS;
}

/** The group is Stable with every member, and each member's own view is what the coordinator handed it. */
async function agreesWithCoordinator(group: string, topic: string, members: readonly Member[]): Promise<boolean> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups[0];
  if (g === undefined || g.state !== 'Stable' || g.members.length !== members.length) return false;
  // Every share handed out by the coordinator is some member's current view.
  const handedOut = g.members
    .map((m) =>
      decodeAssignment(m.memberAssignment)
        .partitions.filter((tp) => tp.topic === topic)
        .map((tp) => tp.partition)
        .sort((a, b) => a - b),
    )
    .map((l) => JSON.stringify(l))
    .sort();
  const views = members.map((m) => JSON.stringify(m.partitions())).sort();
  return JSON.stringify(handedOut) === JSON.stringify(views);
}

async function produce(topic: string): Promise<void> {
  const producer = kafka.producer({ idempotent: false });
  await producer.connect();
  try {
    const messages = Array.from({ length: MESSAGES }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

async function mixedGroup(
  t: TestContext,
  options: { topic: string; group: string; kafkajsFirst: boolean; renamed: boolean },
): Promise<void> {
  const { topic, group } = options;
  const members: Member[] = [];
  const ourAssignors: (Assignor | AssignmentStrategy)[] = options.renamed
    ? ['range', 'roundrobin']
    : ['range', { ...roundRobinAssignor, name: 'RoundRobinAssigner' }];
  try {
    await logged(t, async () => {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] }), true);
      const kafkajs = async (n: string) => members.push(await startKafkaJS(n, group, topic, options.renamed));
      const ours = (n: string) => members.push(startOurs(n, group, topic, ourAssignors));
      if (options.kafkajsFirst) {
        await kafkajs('kafkajs-1');
        await waitFor('the KafkaJS member to lead', () => members[0]!.partitions() !== null);
        ours('ours-1');
        await kafkajs('kafkajs-2');
        ours('ours-2');
      } else {
        ours('ours-1');
        await waitFor('our member to lead', () => members[0]!.partitions() !== null);
        await kafkajs('kafkajs-1');
        ours('ours-2');
        await kafkajs('kafkajs-2');
      }
      await waitFor(
        'four members to split the partitions as the coordinator handed them out',
        async () => partitioned(members) && (await agreesWithCoordinator(group, topic, members)),
        () => shares(members),
      );
      const { groups } = await admin.describeGroups([group]);
      assert.equal(groups[0]!.protocol, options.renamed ? 'roundrobin' : 'RoundRobinAssigner');
      t.diagnostic(`protocol ${groups[0]!.protocol}: ${shares(members)}`);
      // Who computed the assignment: the first KafkaJS member, or (no KafkaJS member leading) one of ours.
      const kafkajsLeaders = members.filter((m) => m.leader === true).map((m) => m.name);
      assert.deepEqual(kafkajsLeaders, options.kafkajsFirst ? ['kafkajs-1'] : []);
      const owner = new Map<number, string>();
      for (const m of members) for (const p of m.partitions()!) owner.set(p, m.name);
      for (const m of members) assert.ok(m.partitions()!.length > 0, `${m.name} got partitions: ${shares(members)}`);

      await produce(topic);
      const total = (): number => members.reduce((n, m) => n + m.consumed.length, 0);
      await waitFor(
        `${MESSAGES} messages consumed`,
        () => total() >= MESSAGES,
        () => `${total()}`,
      );
      const keys = members.flatMap((m) => m.consumed.map((c) => c.key)).sort();
      assert.deepEqual(keys, Array.from({ length: MESSAGES }, (_, i) => `key-${i}`).sort(), 'each message once');
      for (const m of members) {
        for (const c of m.consumed) assert.equal(owner.get(c.partition), m.name, `partition ${c.partition}`);
        assert.ok(m.consumed.length > 0, `${m.name} consumed its own partitions`);
      }
      assert.ok(partitioned(members), `no rebalance since: ${shares(members)}`);
    });
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
}

describe(`our Consumer and KafkaJS ${KAFKAJS_VERSION} consumers in one group`, { timeout: 2 * TIMEOUT_MS }, () => {
  it("share partitions with KafkaJS's RoundRobinAssigner, a KafkaJS member leading", { timeout: TIMEOUT_MS }, (t) =>
    mixedGroup(t, { topic: 'mixed-kafkajs-leads', group: 'mixed-1', kafkajsFirst: true, renamed: false }),
  );

  it("share partitions with Kafka's 'roundrobin', one of ours leading", { timeout: TIMEOUT_MS }, (t) =>
    mixedGroup(t, { topic: 'mixed-ours-lead', group: 'mixed-2', kafkajsFirst: false, renamed: true }),
  );
});

// ---- mixed with librdkafka ------------------------------------------------------------------------------------------

/** A confluent-kafka-python member (py/confluent_group_member.py: commits each batch synchronously). */
function startRdkafka(
  name: string,
  group: string,
  topic: string,
  strategy: string,
): Member & { process: MemberProcess } {
  const process = new MemberProcess(name, 'confluent_group_member.py', {
    bootstrap: broker!.bootstrap,
    topic,
    deadlineSeconds: TIMEOUT_MS / 1000,
    config: {
      'group.id': group,
      'partition.assignment.strategy': strategy,
      'session.timeout.ms': 10_000,
      'heartbeat.interval.ms': 300,
      'fetch.wait.max.ms': 200,
    },
  });
  return {
    name,
    process,
    partitions: () => process.owned,
    get consumed() {
      return process.events.flatMap((e) =>
        e.ev === 'msgs' ? e.recs.map(([partition, offset]) => ({ partition, offset: BigInt(offset), key: '' })) : [],
      );
    },
    leader: null,
    stop: () => process.close(),
  };
}

/** No record was consumed twice (counting each member's records after `since`), and each by its partition's owner. */
function assertEachOnce(members: readonly Member[], since: Map<Member, number>): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    for (const c of m.consumed.slice(since.get(m) ?? 0)) {
      const k = `${c.partition}/${c.offset}`;
      assert.equal(seen.get(k), undefined, `${k} consumed by ${seen.get(k)} and ${m.name}`);
      seen.set(k, m.name);
      assert.ok(m.partitions()!.includes(c.partition), `${m.name} read ${k} without owning it: ${shares(members)}`);
    }
  }
}

async function mixedWithRdkafka(t: TestContext, strategy: 'range' | 'cooperative-sticky'): Promise<void> {
  const topic = `mixed-rdkafka-${strategy}`;
  const group = `mixed-rdkafka-${strategy}`;
  const members: Member[] = [];
  const rdkafka: MemberProcess[] = [];
  const started = (m: Member & { process?: MemberProcess }): Member => {
    members.push(m);
    if (m.process !== undefined) rdkafka.push(m.process);
    return m;
  };
  try {
    await logged(t, async () => {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] }), true);
      // librdkafka leads first (it computes our shares); one of ours takes over the lead when it leaves.
      started(startRdkafka('rdkafka-1', group, topic, strategy));
      await waitFor('the librdkafka member to lead', () => members[0]!.partitions() !== null);
      started(startOurs('ours-1', group, topic, [strategy]));
      started(startRdkafka('rdkafka-2', group, topic, strategy));
      started(startOurs('ours-2', group, topic, [strategy]));
      const split = (list: Member[], what: string) =>
        waitFor(
          what,
          async () => partitioned(list) && (await agreesWithCoordinator(group, topic, list)),
          () => `${shares(list)}\n${rdkafka.map((p) => p.describe()).join('\n')}`,
        );
      await split(members, 'four members to split the partitions');
      const { groups } = await admin.describeGroups([group]);
      assert.equal(groups[0]!.protocol, strategy);
      t.diagnostic(`${strategy}: ${shares(members)}`);

      await produce(topic);
      const total = (list: Member[]): number => list.reduce((n, m) => n + m.consumed.length, 0);
      await waitFor(
        `${MESSAGES} messages consumed`,
        () => total(members) >= MESSAGES,
        () => `${total(members)}`,
      );
      assertEachOnce(members, new Map());
      assert.equal(total(members), MESSAGES);

      // The first librdkafka member (the leader) leaves: the others share its partitions.
      const before = new Map(members.map((m) => [m, m.consumed.length]));
      await members[0]!.stop();
      const rest = members.slice(1);
      await split(rest, 'the three others to take over');
      t.diagnostic(`after rdkafka-1 left: ${shares(rest)}`);
      await produce(topic);
      const since = (list: Member[]): number => list.reduce((n, m) => n + m.consumed.length - before.get(m)!, 0);
      await waitFor(
        `${MESSAGES} more messages consumed`,
        () => since(rest) >= MESSAGES,
        () => `${since(rest)}`,
      );
      assertEachOnce(rest, before);
      assert.equal(since(rest), MESSAGES, 'each of the later messages once, nothing read again after the handover');
    });
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
}

describe('our Consumer and confluent-kafka-python (librdkafka) consumers in one group', {
  skip: skipUnless(confluent),
  timeout: 3 * TIMEOUT_MS,
}, () => {
  for (const strategy of ['range', 'cooperative-sticky'] as const) {
    it(`${strategy}: shares agree, each message once, the others take over from a leaving leader`, {
      timeout: TIMEOUT_MS,
    }, (t) => {
      requireTool(confluent);
      return mixedWithRdkafka(t, strategy);
    });
  }
});

// ---- records from librdkafka ---------------------------------------------------------------------------------------

const COUNT = 500;
const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const filler = (i: number): string => ` record ${i} for the samsa consumer;`.repeat(1 + (i % 5));

/** Messages for confluent-kafka-python: binary and text, empty and null, headers of every shape, timestamps. */
function confluentMessages(): TestMessage[] {
  return Array.from({ length: COUNT }, (_, i) => ({
    key: i % 9 === 4 ? null : i % 7 === 2 ? Buffer.from([i & 0xff, 0, 0xff, 0x80]) : text(`key-${i}`),
    value:
      i % 31 === 7
        ? null
        : i % 13 === 5
          ? Buffer.alloc(0)
          : i % 4 === 0
            ? Buffer.from(Array.from({ length: 64 + (i % 64) }, (_, j) => (j % 8) * 31))
            : text(`value-${i} ünïcødé ✓${filler(i)}`),
    headers:
      i % 3 === 0
        ? []
        : [
            { key: 'dup', value: text('first') },
            { key: 'dup', value: text(`second-${i}`) },
            { key: 'empty', value: Buffer.alloc(0) },
            { key: 'null', value: null },
            { key: 'bin', value: Buffer.from([0, 1, 0xfe, 0xff]) },
          ],
    timestamp: 1_700_000_000_000n + BigInt(i) * 3n,
  }));
}

/** Produces the messages on stdin to partition 0, in order (one in flight), and reports deliveries. */
const CONFLUENT_PRODUCER = `
import base64, ctypes, json, sys
from confluent_kafka import Producer
spec = json.load(sys.stdin)
def b(x):
    return None if x is None else base64.b64decode(x)
producer = Producer({
    'bootstrap.servers': spec['bootstrap'],
    'client.id': 'samsa-consumer-compat',
    'compression.type': spec['codec'],
    'acks': 'all',
    'enable.idempotence': False,
    'max.in.flight.requests.per.connection': 1,
    'linger.ms': 50,
    'message.timeout.ms': 30000,
})
errors = []
delivered = []
def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        delivered.append(msg.offset())
for m in spec['messages']:
    kwargs = {'key': b(m['key']), 'value': b(m['value']), 'partition': 0, 'on_delivery': on_delivery}
    if m['headers']:
        kwargs['headers'] = [(k, b(v)) for k, v in m['headers']]
    kwargs['timestamp'] = m['timestamp']
    producer.produce(spec['topic'], **kwargs)
    producer.poll(0)
left = producer.flush(30)
print(json.dumps({'left': left, 'errors': errors, 'delivered': sorted(delivered)}))
`;

async function createTopic(topic: string): Promise<void> {
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }), true);
}

/** Reads partition 0 of `topic` from offset 0 with our consumer until `count` messages came. */
async function readAll(topic: string, count: number): Promise<ConsumerMessage[]> {
  await using consumer = new Consumer({ bootstrapServers: [broker!.bootstrap], fetchMaxWaitMs: 200 });
  consumer.assign([{ topic, partition: 0, offset: 0n }]);
  const out: ConsumerMessage[] = [];
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 30_000);
  try {
    for await (const m of consumer.messages({ signal: abort.signal })) {
      out.push(m);
      if (out.length === count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  assert.equal(out.length, count, `${topic}: messages read`);
  return out;
}

const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));

function assertRecords(topic: string, got: ConsumerMessage[], sent: TestMessage[], withTimestamps: boolean): void {
  for (const [i, m] of got.entries()) {
    const want = sent[i]!;
    const where = `${topic} offset ${m.offset}`;
    assert.equal(m.offset, BigInt(i), `${where}: offsets from 0`);
    assert.equal(hex(m.key), hex(want.key), `${where}: key`);
    assert.equal(hex(m.value), hex(want.value), `${where}: value`);
    assert.deepEqual(
      m.headers.map((h) => [h.key, hex(h.value)]),
      want.headers.map((h) => [h.key, hex(h.value)]),
      `${where}: headers`,
    );
    if (withTimestamps) assert.equal(m.timestamp, want.timestamp, `${where}: timestamp`);
  }
}

/** The topic's batches on disk carry the codec (librdkafka may send a batch that would not shrink uncompressed). */
function assertStoredWith(topic: string, codec: Codec): void {
  const dir = join(broker!.dataDir, `${topic}-0`);
  let compressed = 0;
  let records = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    for (const batch of scanRecordSet(readFileSync(join(dir, file)))) {
      records += batch.lastOffsetDelta + 1;
      if (batch.compression === CODEC_ID[codec]) compressed += batch.lastOffsetDelta + 1;
    }
  }
  assert.equal(records, COUNT);
  if (codec !== 'none') assert.ok(compressed * 2 > records, `${topic}: ${compressed} of ${records} records ${codec}`);
}

describe('our Consumer reads what librdkafka wrote', { timeout: 4 * TIMEOUT_MS }, () => {
  it('confluent-kafka-python, every codec', { skip: skipUnless(confluent), timeout: 2 * TIMEOUT_MS }, async (t) => {
    requireTool(confluent);
    for (const codec of CODECS) {
      const topic = `from-confluent-${codec}`;
      await createTopic(topic);
      const sent = confluentMessages();
      const r = await runChild(PYTHON, ['-c', CONFLUENT_PRODUCER], {
        input: JSON.stringify({ bootstrap: broker!.bootstrap, topic, codec, messages: messagesToJson(sent) }),
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, describeChild(r));
      const report = JSON.parse(r.stdout) as { left: number; errors: string[]; delivered: number[] };
      assert.deepEqual(report.errors, []);
      assert.deepEqual(
        report.delivered,
        sent.map((_, i) => i),
      );
      assertStoredWith(topic, codec);
      assertRecords(topic, await readAll(topic, COUNT), sent, true);
      t.diagnostic(`${codec}: ${COUNT} records read back`);
    }
  });

  it('kcat, every codec', { skip: skipUnless(kcat), timeout: 2 * TIMEOUT_MS }, async (t) => {
    requireTool(kcat);
    // kcat -P: one message per line, key and value split at the tab, an empty value sent as null (-Z); the same
    // headers on every message (a bare name has a null value).
    const headerArgs = ['-H', 'h1=v1', '-H', 'dup=first', '-H', 'dup=second', '-H', 'empty=', '-H', 'null'];
    const headers = [
      { key: 'h1', value: text('v1') },
      { key: 'dup', value: text('first') },
      { key: 'dup', value: text('second') },
      { key: 'empty', value: Buffer.alloc(0) },
      { key: 'null', value: null },
    ];
    const lines = Array.from({ length: COUNT }, (_, i) => ({
      key: `key-${i}`,
      value: i % 29 === 3 ? '' : `value-${i} ünïcødé ✓${filler(i)}`,
    }));
    const sent: TestMessage[] = lines.map((l) => ({
      key: text(l.key),
      value: l.value === '' ? null : text(l.value),
      headers,
    }));
    for (const codec of CODECS) {
      const topic = `from-kcat-${codec}`;
      await createTopic(topic);
      const args = ['-P', '-b', broker!.bootstrap, '-t', topic, '-p', '0', '-z', codec, '-K', '\t', '-Z'];
      args.push(...headerArgs, '-X', 'acks=all', '-X', 'linger.ms=50', '-X', 'max.in.flight.requests.per.connection=1');
      const r = await runChild('kcat', args, {
        input: `${lines.map((l) => `${l.key}\t${l.value}`).join('\n')}\n`,
        timeoutMs: 60_000,
      });
      assert.ok(r.code === 0 && !/ERROR/.test(r.stderr), `kcat failed: ${describeChild(r)}`);
      assertStoredWith(topic, codec);
      assertRecords(topic, await readAll(topic, COUNT), sent, false);
      t.diagnostic(`${codec}: ${COUNT} records read back`);
    }
  });
});
