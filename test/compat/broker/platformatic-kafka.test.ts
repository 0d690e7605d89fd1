/**
 * @platformatic/kafka 2.12.1 (npm devDependency) against the real broker process (`samsa start`):
 *
 * - its Admin creates a 3-partition topic per codec (none, gzip, snappy, lz4, zstd), and its Producer sends 10,000
 *   keyed messages with headers (binary bytes, empty and null values, repeated names) and explicit timestamps to each;
 * - its Consumer reads them all back without a group, through the group-less `fetch()` (Fetch v17 by topic id, with
 *   a fetch session, one request for all unfinished partitions): byte for byte, in order, offsets contiguous from 0,
 *   each batch still in the codec the producer used;
 * - its group consumer then reads them all again: a Consumer in a new group joins it (JoinGroup, SyncGroup with the
 *   library's roundrobin assignor, Heartbeat), `consume()` starts from the committed offsets (none yet, so the
 *   earliest), and every message comes back the same way, byte for byte and in order per partition; the last
 *   message of each partition is committed (OffsetCommit), OffsetFetch answers the log ends, and closing the
 *   consumer leaves the group (LeaveGroup);
 * - ListOffsets through Admin.listOffsets (earliest -2, latest -1, max timestamp -3, and times) and
 *   Consumer.listOffsetsWithTimestamps answer the offsets and timestamps the produced messages imply;
 * - producing to an unknown topic auto-creates it;
 * - topic administration: create (with configs), describe, add partitions, AlterConfigs, IncrementalAlterConfigs,
 *   DescribeConfigs, delete, and Kafka's errors with the broker's own messages (TOPIC_ALREADY_EXISTS,
 *   INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR "Replication factor: 3 larger than available brokers: 1.").
 *
 * Partitioning: unlike KafkaJS, @platformatic/kafka's default partitioner is NOT Java's. It computes
 * `(murmur2(key) >>> 0) % partitions` (the unsigned 32-bit hash) where Java computes `(murmur2(key) & 0x7fffffff) %
 * partitions`. The two agree when the hash is non-negative; for a negative hash (about half the keys) they differ by
 * 2^31, which is not a multiple of 3, so with 3 partitions every such key lands elsewhere than with a Java producer.
 * The codec tests check the placement the default partitioner really makes (and report how many keys match Java's);
 * a separate test uses the library's exported `compatibilityPartitioner` and checks that every key lands on the
 * partition `partitionForKey(key, 3)` (Java's) picks.
 *
 * The library needs Node >= 22.22 and the suite also runs on Node 20, so the client runs as a child process
 * (platformatic-client.mjs, from the source tree): on this Node when it is new enough, otherwise on the Node named by
 * SAMSA_NODE22_BIN (set by .ci/run). The script only drives the library; every assertion is made here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { murmur2, partitionForKey } from '../../../src/protocol/hash.js';
import { CODEC_ID, CODECS, type Codec, describeChild, requireTool, runChild, skipUnless } from '../harness.js';
import { PLATFORMATIC_CLIENT_SCRIPT, platformaticTool } from '../tools.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import {
  assertRecords,
  byPartition,
  lookupTimestamps,
  MESSAGE_COUNT,
  offsetForTimestamp,
  PARTITIONS,
  type RecordView,
  type WorkloadMessage,
  withLogsOnFailure,
  workload,
} from './workload.js';

const SCRIPT = PLATFORMATIC_CLIENT_SCRIPT;
const CLIENT_ID = 'samsa-compat-platformatic';
const TIMEOUT_MS = 60_000;
const SEND_CHUNK = 1000;
/** DescribeConfigs config sources. */
const TOPIC_CONFIG = 1;
const DEFAULT_CONFIG = 5;
const TOPIC_RESOURCE = 2;

const platformatic = platformaticTool();

/** The library's default partitioner: the unsigned hash, not Java's sign-bit-cleared one. */
const platformaticDefaultPartition = (key: Buffer): number => (murmur2(key) >>> 0) % PARTITIONS;
const javaPartition = (key: Buffer): number => partitionForKey(key, PARTITIONS);

interface ClientError {
  name?: string;
  code?: string;
  message: string;
  apiId?: string;
  apiCode?: number;
  serverErrorMessage?: string | null;
  errors?: ClientError[];
}
type StepResult = { ok: unknown; error?: undefined } | { ok?: undefined; error: ClientError };
type Step = { op: string } & Record<string, unknown>;

let broker: BrokerProcess | undefined;
const clientLogs: string[] = [];
const logged = <T>(t: TestContext, fn: () => Promise<T>): Promise<T> => withLogsOnFailure(t, broker, clientLogs, fn);

/** Runs the steps in one client process; returns each step's result. */
async function runClient(steps: Step[]): Promise<StepResult[]> {
  assert.ok(broker !== undefined, 'the broker did not start');
  const input = JSON.stringify({ bootstrap: broker.bootstrap, clientId: CLIENT_ID, steps });
  const r = await runChild(platformatic.details.node!, [SCRIPT], { input, timeoutMs: TIMEOUT_MS - 5000 });
  if (r.stderr !== '') clientLogs.push(r.stderr);
  assert.equal(r.code, 0, `the client script failed: ${describeChild({ ...r, stdout: r.stdout.slice(0, 2000) })}`);
  const { results } = JSON.parse(r.stdout) as { results: StepResult[] };
  assert.equal(results.length, steps.length);
  return results;
}

function ok<T>(result: StepResult | undefined, what: string): T {
  assert.ok(result !== undefined, what);
  assert.equal(result.error, undefined, `${what} failed: ${JSON.stringify(result.error, null, 1)}`);
  return result.ok as T;
}

/** The protocol error inside the library's nested MultipleErrors / ResponseError. */
function protocolError(result: StepResult | undefined, what: string): ClientError {
  assert.ok(result?.error !== undefined, `${what} succeeded: ${JSON.stringify(result?.ok)}`);
  let e = result.error;
  while (e.apiId === undefined && e.errors?.length === 1) e = e.errors[0]!;
  assert.ok(e.apiId !== undefined, `${what}: no protocol error in ${JSON.stringify(result.error, null, 1)}`);
  return e;
}

const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));
const toJson = (m: WorkloadMessage) => ({
  key: b64(m.key),
  value: b64(m.value),
  headers: m.headers.map(([k, v]) => [k, b64(v)]),
  timestamp: m.timestamp.toString(),
});

interface FetchedPartition {
  partition: number;
  highWatermark: string;
  codecs: number[];
  records: {
    offset: string;
    timestamp: string;
    key: string | null;
    value: string | null;
    headers: [string, string | null][];
  }[];
}
interface Fetched {
  topicId: string;
  requests: number;
  partitions: FetchedPartition[];
}

const hexOf = (s: string | null): string | null => (s === null ? null : Buffer.from(s, 'base64').toString('hex'));
const views = (p: Pick<FetchedPartition, 'records'>): RecordView[] =>
  p.records.map((r) => ({
    offset: Number(r.offset),
    timestamp: r.timestamp,
    key: hexOf(r.key),
    value: hexOf(r.value),
    headers: r.headers.map(([k, v]) => [k, hexOf(v)]),
  }));

interface GroupRead {
  joins: {
    groupId: string;
    memberId: string;
    generationId?: number;
    assignments?: { topic: string; partitions: number[] }[];
  }[];
  /** Committed offsets by topic, one per partition. */
  committed: Record<string, string[]>;
  partitions: Pick<FetchedPartition, 'partition' | 'records'>[];
}

interface TopicMetadata {
  id: string;
  partitionsCount: number;
  partitions: { leader: number; leaderEpoch: number; replicas: number[]; isr: number[] }[];
}
interface Metadata {
  brokers: Record<string, { host: string; port: number }>;
  controllerId: number;
  topics: Record<string, TopicMetadata>;
}

/** Leader, replicas and ISR of every partition; a healthy single-broker topic has [1, [1], [1]] on each. */
const placement = (t: TopicMetadata | undefined) => t?.partitions.map((p) => [p.leader, p.replicas, p.isr]);
const healthy = (n: number) => Array.from({ length: n }, () => [1, [1], [1]]);

/** Every send's base offsets per partition follow from where the partitioner puts each message. */
function assertSendOffsets(
  sends: { partition: number; offset: string }[][],
  messages: WorkloadMessage[],
  partitionOf: (key: Buffer) => number,
): void {
  assert.equal(sends.length, Math.ceil(messages.length / SEND_CHUNK));
  const next = Array.from({ length: PARTITIONS }, () => 0);
  for (const [i, send] of sends.entries()) {
    const counts = new Map<number, number>();
    for (const m of messages.slice(i * SEND_CHUNK, (i + 1) * SEND_CHUNK)) {
      const p = partitionOf(m.key);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    assert.deepEqual(
      send.map((o) => [o.partition, o.offset]).sort((a, b) => +a[0]! - +b[0]!),
      [...counts.keys()].sort().map((p) => [p, String(next[p])]),
      `send ${i}`,
    );
    for (const [p, n] of counts) next[p]! += n;
  }
}

/**
 * In one client process: creates a 3-partition topic, produces the workload with `compression` and `partitioner`,
 * reads it all back, reads it again from the offsets a timestamp lookup gives, and looks up offsets; then checks it
 * all against where each message must be.
 */
async function roundTrip(
  t: TestContext,
  topic: string,
  codec: Codec,
  partitioner: 'default' | 'compatibility',
): Promise<void> {
  const messages = workload(topic, { binary: true });
  const partitionOf = partitioner === 'default' ? platformaticDefaultPartition : javaPartition;
  const expected = byPartition(messages, partitionOf);
  const timestamps = lookupTimestamps(messages);
  const partitionIndexes = expected.map((_, p) => p);
  const special = [-2n, -1n, -3n]; // earliest, latest, max timestamp
  const seekTo = expected.map((l) => offsetForTimestamp(l, messages[5000]!.timestamp));
  const results = await runClient([
    { op: 'createTopics', options: { topics: [topic], partitions: PARTITIONS, replicas: 1 } },
    { op: 'metadata', topics: [topic] },
    { op: 'produce', topic, compression: codec, chunk: SEND_CHUNK, partitioner, messages: messages.map(toJson) },
    // 32 KiB per partition and request: many incremental Fetch requests, most batches bigger than the limit.
    { op: 'fetchAll', topic, partitionMaxBytes: 32_768 },
    // Seeking: from the offsets of the messages with the 5000th message's timestamp (mid-batch) to the end.
    { op: 'fetchAll', topic, from: seekTo, partitionMaxBytes: 32_768 },
    ...[...special, ...timestamps].map((ts) => ({
      op: 'adminListOffsets',
      topics: [
        { name: topic, partitions: partitionIndexes.map((partitionIndex) => ({ partitionIndex, timestamp: `${ts}` })) },
      ],
    })),
    ...timestamps.map((ts) => ({ op: 'consumerListOffsets', topics: [topic], timestamp: ts.toString() })),
    // Last: everything again through the group consumer (a new group per topic).
    { op: 'groupConsume', topic, groupId: `${topic}-group`, counts: expected.map((l) => l.length), timeoutMs: 40_000 },
  ]);
  const [created, metadata, produced, fetched, fetchedFrom] = results;
  const adminOffsets = results.slice(5, 5 + special.length + timestamps.length);
  const consumerOffsets = results.slice(5 + special.length + timestamps.length, -1);
  const groupRead = results.at(-1);

  const [topicInfo] = ok<{ id: string; name: string; partitions: number; replicas: number }[]>(created, 'create');
  assert.deepEqual([topicInfo!.name, topicInfo!.partitions, topicInfo!.replicas], [topic, PARTITIONS, 1]);
  assert.match(topicInfo!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.notEqual(topicInfo!.id, '00000000-0000-0000-0000-000000000000');
  const md = ok<Metadata>(metadata, 'metadata').topics[topic];
  assert.equal(md?.id, topicInfo!.id);
  assert.deepEqual(placement(md), healthy(PARTITIONS));

  assertSendOffsets(ok(produced, 'produce'), messages, partitionOf);

  const read = ok<Fetched>(fetched, 'fetch');
  assert.equal(read.topicId, topicInfo!.id);
  for (const [p, want] of expected.entries()) {
    const got = read.partitions[p]!;
    assert.equal(got.highWatermark, String(want.length));
    assertRecords(`${topic}/${p}`, views(got), want);
    // The broker keeps the producer's batches: each comes back in the codec it was sent with.
    assert.deepEqual(got.codecs, [CODEC_ID[codec]], `${topic}/${p}: batch codecs`);
  }
  const readFrom = ok<Fetched>(fetchedFrom, 'fetch from offsets');
  for (const [p, want] of expected.entries()) {
    assert.ok(seekTo[p]! > 0 && seekTo[p]! < want.length);
    assertRecords(`${topic}/${p} from ${seekTo[p]}`, views(readFrom.partitions[p]!), want, seekTo[p]);
  }
  // The group consumer: one member, assigned every partition, reads it all back the same way and commits the ends.
  const group = ok<GroupRead>(groupRead, 'group consume');
  assert.ok(group.joins.length >= 1, 'the consumer joined its group');
  const lastJoin = group.joins.at(-1)!;
  assert.equal(lastJoin.groupId, `${topic}-group`);
  assert.deepEqual(
    lastJoin.assignments?.map((a) => [a.topic, [...a.partitions].sort((x, y) => x - y)]),
    [[topic, partitionIndexes]],
    'one member gets every partition',
  );
  for (const [p, want] of expected.entries()) {
    assert.equal(group.partitions[p]!.partition, p);
    assertRecords(`${topic}/${p} (group consumer)`, views(group.partitions[p]!), want);
  }
  assert.deepEqual(
    group.committed,
    { [topic]: expected.map((l) => String(l.length)) },
    'committed offsets after the group read',
  );

  const java = messages.filter((m) => partitionOf(m.key) === javaPartition(m.key)).length;
  t.diagnostic(
    `${topic}: ${expected.map((l) => l.length).join(' + ')} messages on partitions 0, 1, 2 (${java} of ` +
      `${MESSAGE_COUNT} where Java would put them), read back in ${read.requests} Fetch requests and by the ` +
      `group consumer (generation ${lastJoin.generationId}, ${group.joins.length} join(s))`,
  );

  // Admin.listOffsets: earliest, latest, max timestamp, then each lookup time. -1 / -1 when no message qualifies.
  type Listed = { name: string; partitions: { partitionIndex: number; offset: string; timestamp: string }[] }[];
  const rows = (i: number) => {
    const listed = ok<Listed>(adminOffsets[i], `admin listOffsets ${i}`);
    assert.deepEqual(
      listed.map((x) => x.name),
      [topic],
    );
    return listed[0]!.partitions.map((p) => [p.partitionIndex, p.offset, p.timestamp]).sort((a, b) => +a[0]! - +b[0]!);
  };
  assert.deepEqual(
    rows(0),
    expected.map((_, p) => [p, '0', '-1']),
    'earliest',
  );
  assert.deepEqual(
    rows(1),
    expected.map((l, p) => [p, String(l.length), '-1']),
    'latest',
  );
  assert.deepEqual(
    rows(2),
    expected.map((l, p) => [p, String(l.length - 1), l.at(-1)!.timestamp.toString()]),
    'max timestamp',
  );
  for (const [i, ts] of timestamps.entries()) {
    const want = expected.map((l, p) => {
      const o = offsetForTimestamp(l, ts);
      return [p, String(o), o < 0 ? '-1' : l[o]!.timestamp.toString()];
    });
    assert.deepEqual(rows(special.length + i), want, `admin offsets for timestamp ${ts}`);
    // Consumer.listOffsetsWithTimestamps: the same lookup for every partition of the topic.
    const byConsumer = ok<Record<string, Record<string, { offset: string; timestamp: string }>>>(
      consumerOffsets[i],
      `consumer listOffsets ${ts}`,
    );
    assert.deepEqual(
      Object.entries(byConsumer[topic]!)
        .map(([p, o]) => [Number(p), o.offset, o.timestamp])
        .sort((a, b) => +a[0]! - +b[0]!),
      want,
      `consumer offsets for timestamp ${ts}`,
    );
  }
}

describe(`@platformatic/kafka against the broker process`, {
  skip: skipUnless(platformatic),
  timeout: 10 * TIMEOUT_MS,
}, () => {
  before(async () => {
    if (platformatic.missing === undefined) {
      // No 3 s wait for more members when a group's first consumer joins.
      broker = await startBrokerProcess({ config: { 'group.initial.rebalance.delay.ms': '0' } });
    }
  });

  after(async () => {
    if (broker !== undefined) {
      assert.equal(await broker.stop(), 0, 'the broker exits cleanly on SIGTERM');
      broker.cleanup();
    }
  });

  for (const codec of CODECS) {
    it(`${codec}: 10,000 keyed messages produced, fetched back without and with a group, offsets by time`, {
      timeout: TIMEOUT_MS,
    }, async (t) => {
      requireTool(platformatic);
      await logged(t, () => roundTrip(t, `platformatic-${codec}`, codec, 'default'));
    });
  }

  it('compatibilityPartitioner puts every key on the partition Java picks', { timeout: TIMEOUT_MS }, async (t) => {
    requireTool(platformatic);
    await logged(t, () => roundTrip(t, 'platformatic-java-partitioner', 'lz4', 'compatibility'));
  });

  it('a fetch waiting on an empty partition is answered when a message arrives', { timeout: TIMEOUT_MS }, async (t) => {
    requireTool(platformatic);
    await logged(t, async () => {
      const topic = 'platformatic-long-poll';
      const [created, polled] = await runClient([
        { op: 'createTopics', options: { topics: [topic], partitions: 1, replicas: 1 } },
        { op: 'longPoll', topic },
      ]);
      ok(created, 'createTopics');
      assert.deepEqual(ok(polled, 'longPoll'), ['wake up']);
    });
  });

  it('producing to an unknown topic creates it', { timeout: TIMEOUT_MS }, async (t) => {
    requireTool(platformatic);
    await logged(t, async () => {
      const topic = 'platformatic-auto-created';
      const messages = workload(topic, { binary: true, count: 3 });
      const [before, produced, metadata, fetched] = await runClient([
        { op: 'listTopics' },
        {
          op: 'produce',
          topic,
          compression: 'snappy',
          chunk: 3,
          partitioner: 'default',
          messages: messages.map(toJson),
        },
        { op: 'metadata', topics: [topic] },
        { op: 'fetchAll', topic },
      ]);
      assert.ok(!ok<string[]>(before, 'listTopics').includes(topic));
      assert.deepEqual(ok(produced, 'produce'), [[{ partition: 0, offset: '0' }]]);
      // num.partitions (1) partition, led by the one broker.
      assert.deepEqual(placement(ok<Metadata>(metadata, 'metadata').topics[topic]), healthy(1));
      const read = ok<Fetched>(fetched, 'fetch');
      assert.equal(read.partitions.length, 1);
      assertRecords(topic, views(read.partitions[0]!), messages);
    });
  });

  it('administers user_activity: create, describe, add partitions, configs, delete, errors', {
    timeout: TIMEOUT_MS,
  }, async (t) => {
    requireTool(platformatic);
    await logged(t, async () => {
      const topic = 'user_activity';
      const names = ['retention.ms', 'cleanup.policy', 'segment.ms'];
      const describeConfigs = {
        op: 'describeConfigs',
        options: { resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: names }] },
      };
      const topicResource = (configs: unknown[]) => ({ resourceType: TOPIC_RESOURCE, resourceName: topic, configs });
      const results = await runClient([
        /* 0 */ {
          op: 'createTopics',
          options: { topics: [topic], partitions: 3, replicas: 1, configs: [{ name: 'segment.ms', value: '3600000' }] },
        },
        /* 1 */ { op: 'createTopics', options: { topics: [topic], partitions: 3, replicas: 1 } },
        /* 2 */ { op: 'listTopics' },
        /* 3 */ { op: 'metadata', topics: [topic] },
        /* 4 */ { op: 'createPartitions', options: { topics: [{ name: topic, count: 5 }] } },
        /* 5 */ { op: 'metadata', topics: [topic] },
        /* 6 */ { op: 'createPartitions', options: { topics: [{ name: topic, count: 4 }] } },
        /* 7 */ describeConfigs,
        /* 8 */ {
          op: 'alterConfigs',
          options: {
            resources: [
              topicResource([
                { name: 'retention.ms', value: '86400000' },
                { name: 'cleanup.policy', value: 'compact' },
              ]),
            ],
          },
        },
        /* 9 */ describeConfigs,
        // SET segment.ms, DELETE retention.ms (back to its default), APPEND delete to the cleanup.policy list.
        /* 10 */ {
          op: 'incrementalAlterConfigs',
          options: {
            resources: [
              topicResource([
                { name: 'segment.ms', configOperation: 0, value: '7200000' },
                { name: 'retention.ms', configOperation: 1 },
                { name: 'cleanup.policy', configOperation: 2, value: 'delete' },
              ]),
            ],
          },
        },
        /* 11 */ describeConfigs,
        /* 12 */ { op: 'deleteTopics', options: { topics: [topic] } },
        /* 13 */ { op: 'createTopics', options: { topics: ['user_activity_rf3'], partitions: 3, replicas: 3 } },
        /* 14 */ { op: 'listTopics' },
      ]);

      const [created] = ok<{ name: string; partitions: number; configuration: Record<string, string> }[]>(
        results[0],
        'create',
      );
      assert.deepEqual([created!.name, created!.partitions], [topic, 3]);
      assert.equal(created!.configuration['segment.ms'], '3600000');
      assert.equal(created!.configuration['retention.ms'], '604800000');

      const exists = protocolError(results[1], 'creating it again');
      assert.deepEqual([exists.apiId, exists.apiCode], ['TOPIC_ALREADY_EXISTS', 36]);
      assert.equal(exists.serverErrorMessage, `Topic '${topic}' already exists.`);

      assert.ok(ok<string[]>(results[2], 'listTopics').includes(topic));
      assert.deepEqual(placement(ok<Metadata>(results[3], 'metadata').topics[topic]), healthy(3));
      ok(results[4], 'createPartitions 5');
      assert.deepEqual(placement(ok<Metadata>(results[5], 'metadata').topics[topic]), healthy(5));
      const fewer = protocolError(results[6], 'createPartitions 4');
      assert.deepEqual([fewer.apiId, fewer.apiCode], ['INVALID_PARTITIONS', 37]);
      assert.equal(fewer.serverErrorMessage, 'Topic currently has 5 partitions, which is higher than the requested 4.');

      type Described = { resourceName: string; configs: { name: string; value: string; configSource: number }[] }[];
      const configs = (r: StepResult | undefined, what: string) => {
        const [res] = ok<Described>(r, what);
        assert.equal(res!.resourceName, topic);
        return Object.fromEntries(res!.configs.map((c) => [c.name, [c.value, c.configSource]]));
      };
      assert.deepEqual(configs(results[7], 'describe after create'), {
        'retention.ms': ['604800000', DEFAULT_CONFIG],
        'cleanup.policy': ['delete', DEFAULT_CONFIG],
        'segment.ms': ['3600000', TOPIC_CONFIG],
      });
      ok(results[8], 'alterConfigs');
      // AlterConfigs replaces the whole set: segment.ms, not named, is back to its default.
      assert.deepEqual(configs(results[9], 'describe after alterConfigs'), {
        'retention.ms': ['86400000', TOPIC_CONFIG],
        'cleanup.policy': ['compact', TOPIC_CONFIG],
        'segment.ms': ['604800000', DEFAULT_CONFIG],
      });
      ok(results[10], 'incrementalAlterConfigs');
      assert.deepEqual(configs(results[11], 'describe after incrementalAlterConfigs'), {
        'retention.ms': ['604800000', DEFAULT_CONFIG],
        'cleanup.policy': ['compact,delete', TOPIC_CONFIG],
        'segment.ms': ['7200000', TOPIC_CONFIG],
      });

      ok(results[12], 'deleteTopics');
      const rf = protocolError(results[13], 'replication factor 3');
      assert.deepEqual([rf.apiId, rf.apiCode], ['INVALID_REPLICATION_FACTOR', 38]);
      assert.equal(rf.serverErrorMessage, 'Replication factor: 3 larger than available brokers: 1.');
      const after = ok<string[]>(results[14], 'listTopics');
      assert.ok(!after.includes(topic), 'user_activity is deleted');
      assert.ok(!after.includes('user_activity_rf3'), 'nothing was created with replication factor 3');
    });
  });

  it('the broker logged no warnings or errors while serving the client', (t) => {
    requireTool(platformatic);
    assert.ok(broker !== undefined, 'the broker did not start');
    const bad = broker.logs.filter((l) => Number(l.level) >= 40);
    for (const l of bad.slice(0, 20)) t.diagnostic(JSON.stringify(l));
    assert.equal(bad.length, 0, `${bad.length} warning or error lines`);
  });
});
