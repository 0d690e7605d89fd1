/**
 * KafkaJS 2.2.4 (npm devDependency, run in this process) against the real broker process (`samsa start`):
 *
 * - its admin creates a 3-partition topic per codec it supports (stock KafkaJS: None and GZIP only; Snappy, LZ4 and
 *   ZSTD need third-party plugins), and its producer sends 10,000 keyed messages with headers and explicit timestamps
 *   to each with the default partitioner, which must be Java's (murmur2): every key lands on the partition
 *   `partitionForKey(key, 3)` picks, at the offset the produce responses announced;
 * - the messages are read back byte for byte, in order, with contiguous offsets from 0 on every partition;
 * - admin.fetchTopicOffsets and admin.fetchTopicOffsetsByTimestamp (ListOffsets) answer the offsets the produced
 *   timestamps imply, and reading from those offsets starts at the expected message;
 * - producing to an unknown topic auto-creates it (allowAutoTopicCreation, KafkaJS's default);
 * - topic administration: create, describe, add partitions, alter and describe configs, delete, and Kafka's
 *   INVALID_REPLICATION_FACTOR for a replication factor the single broker cannot honour.
 *
 * Reading back: twice, by KafkaJS's own consumer (a consumer group, `consumer.run` with `eachMessage`, from the
 * beginning) and by kcat (librdkafka's consumer, no group: `kcat -C -p N -o OFFSET -e -J`), which also does the
 * "seek" reads from an offset. KafkaJS hands headers over as an object of name -> value(s), which keeps the order of
 * values within a name but not across names, so its headers are compared per name. kcat -J prints bytes as JSON
 * strings, so the workload is valid UTF-8 text (with quotes, backslashes, tabs and non-ASCII characters), and
 * KafkaJS cannot send null header values anyway.
 *
 * KafkaJS logs nothing on a passing run: its log lines are buffered and printed only when a test fails.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Admin, CompressionTypes, type IHeaders, Kafka, logLevel, type Message } from 'kafkajs';
import { partitionForKey } from '../../../src/protocol/hash.js';
import { requireTool, skipUnless } from '../harness.js';
import { kcatTool } from '../tools.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import {
  assertRecords,
  byPartition,
  expectedView,
  lookupTimestamps,
  MESSAGE_COUNT,
  offsetForTimestamp,
  PARTITIONS,
  type RecordView,
  readWithKcat,
  type WorkloadMessage,
  withLogsOnFailure,
  workload,
} from './workload.js';

const require = createRequire(import.meta.url);
const KAFKAJS_VERSION = (require('kafkajs/package.json') as { version: string }).version;
// Not among the names Node's CommonJS export detection finds in kafkajs, so taken through require.
const { ConfigResourceTypes } = require('kafkajs') as typeof import('kafkajs');
const CLIENT_ID = 'samsa-compat-kafkajs';
const TIMEOUT_MS = 60_000;
/** Messages per producer.send(): 1,000 messages make batches well under the broker's max.message.bytes. */
const SEND_CHUNK = 1000;

const kcat = kcatTool();

/** The codecs stock KafkaJS implements. */
const CODECS: [string, CompressionTypes][] = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
];

/** KafkaJS takes headers as an object; a repeated name (adjacent in the workload) becomes an array value. */
function toKafkaJs(m: WorkloadMessage): Message {
  const headers: IHeaders = {};
  for (const [k, v] of m.headers) {
    assert.ok(v !== null, 'KafkaJS cannot send null header values');
    const prev = headers[k];
    if (prev === undefined) headers[k] = v;
    else headers[k] = [...(Array.isArray(prev) ? prev : [prev as Buffer]), v];
  }
  return { key: m.key, value: m.value, headers, timestamp: m.timestamp.toString() };
}

const javaPartition = (key: Buffer): number => partitionForKey(key, PARTITIONS);

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];

function started(): BrokerProcess {
  assert.ok(broker !== undefined, 'the broker did not start');
  return broker;
}

const logged = <T>(t: TestContext, fn: () => Promise<T>): Promise<T> => withLogsOnFailure(t, broker, clientLogs, fn);

/** Sorted topic names, without internal ones. */
async function listTopics(): Promise<string[]> {
  return (await admin.listTopics()).filter((n) => !n.startsWith('__')).sort();
}

/** Partition ids, leaders, replicas and ISRs of a topic, as fetchTopicMetadata reports them. */
async function partitionsOf(topic: string): Promise<[number, number, number[], number[]][]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  assert.deepEqual(
    topics.map((x) => x.name),
    [topic],
  );
  return topics[0]!.partitions
    .map((p): [number, number, number[], number[]] => [p.partitionId, p.leader, p.replicas, p.isr])
    .sort((a, b) => a[0] - b[0]);
}

/** What a healthy single-broker (node 1) topic with n partitions looks like. */
const healthy = (n: number): [number, number, number[], number[]][] =>
  Array.from({ length: n }, (_, p): [number, number, number[], number[]] => [p, 1, [1], [1]]);

/** Produces the workload in sends of SEND_CHUNK; checks every response against the partitions Java would pick. */
async function produceAll(topic: string, compression: CompressionTypes, messages: WorkloadMessage[]): Promise<void> {
  const producer = kafka.producer({ idempotent: false });
  await producer.connect();
  try {
    const next = Array.from({ length: PARTITIONS }, () => 0);
    for (let at = 0; at < messages.length; at += SEND_CHUNK) {
      const chunk = messages.slice(at, at + SEND_CHUNK);
      const result = await producer.send({ topic, acks: -1, compression, messages: chunk.map(toKafkaJs) });
      // One entry per partition the chunk touched, with the base offset of its batch there.
      const counts = new Map<number, number>();
      for (const m of chunk) counts.set(javaPartition(m.key), (counts.get(javaPartition(m.key)) ?? 0) + 1);
      assert.deepEqual(
        result.map((r) => [r.topicName, r.partition, r.errorCode, r.baseOffset]).sort((a, b) => +a[1]! - +b[1]!),
        [...counts.keys()].sort().map((p) => [topic, p, 0, String(next[p])]),
        `send of messages ${at}..${at + chunk.length - 1}`,
      );
      for (const [p, n] of counts) next[p]! += n;
    }
  } finally {
    await producer.disconnect();
  }
}

/** A record view with headers grouped by name (values in order within a name), the shape KafkaJS can give. */
function byHeaderName(v: RecordView): Omit<RecordView, 'headers'> & { headers: Record<string, (string | null)[]> } {
  const headers: Record<string, (string | null)[]> = {};
  for (const [k, value] of v.headers) {
    headers[k] ??= [];
    headers[k].push(value);
  }
  return { ...v, headers };
}

/** Consumes `total` messages of `topic` from the beginning with a KafkaJS consumer group; views per partition. */
async function consumeWithKafkaJs(topic: string, total: number) {
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 100 });
  const byPartitionSeen: ReturnType<typeof byHeaderName>[][] = Array.from({ length: PARTITIONS }, () => []);
  const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));
  let seen = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, (string | null)[]> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) {
              headers[k] = (Array.isArray(v) ? v : [v]).map((x) => hex(x === undefined ? null : Buffer.from(x)));
            }
            byPartitionSeen[partition]!.push({
              offset: Number(message.offset),
              timestamp: message.timestamp,
              key: hex(message.key),
              value: hex(message.value),
              headers,
            });
            if (++seen === total) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return byPartitionSeen;
}

describe(`KafkaJS ${KAFKAJS_VERSION} against the broker process`, { timeout: 5 * TIMEOUT_MS }, () => {
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

  for (const [codec, type] of CODECS) {
    it(`${codec}: 10,000 keyed messages land on Java's partitions and read back identically`, {
      timeout: TIMEOUT_MS,
      skip: skipUnless(kcat),
    }, async (t) => {
      requireTool(kcat);
      await logged(t, async () => {
        const b = started();
        const topic = `kafkajs-${codec}`;
        assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] }), true);
        assert.deepEqual(await partitionsOf(topic), healthy(PARTITIONS));

        const messages = workload(`kafkajs-${codec}`, { binary: false });
        const expected = byPartition(messages, javaPartition);
        await produceAll(topic, type, messages);

        // Everything back, in order, contiguous from 0, on the partition murmur2 picks: with KafkaJS's consumer...
        const consumed = await consumeWithKafkaJs(topic, MESSAGE_COUNT);
        for (const [p, produced] of expected.entries()) {
          const want = produced.map((m, i) => byHeaderName(expectedView(m, i)));
          assert.equal(consumed[p]!.length, want.length, `${topic}/${p}: KafkaJS consumed ${consumed[p]!.length}`);
          for (let i = 0; i < want.length; i++) assert.deepEqual(consumed[p]![i], want[i], `${topic}/${p} record ${i}`);
        }
        // ... and with kcat, headers in their exact order.
        for (const [p, produced] of expected.entries()) {
          assertRecords(`${topic}/${p}`, await readWithKcat(b, topic, p), produced);
        }
        assert.equal(
          expected.reduce((n, l) => n + l.length, 0),
          MESSAGE_COUNT,
        );
        t.diagnostic(`${topic}: ${expected.map((l) => l.length).join(' + ')} messages on partitions 0, 1, 2`);

        // ListOffsets: earliest 0 and latest = the count on each partition.
        assert.deepEqual(
          (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition),
          expected.map((l, partition) => ({ partition, offset: String(l.length), high: String(l.length), low: '0' })),
        );

        // ListOffsets by timestamp; KafkaJS replaces "none" (-1) by the high watermark.
        for (const ts of lookupTimestamps(messages)) {
          const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, Number(ts));
          const want = expected.map((l, partition) => {
            const o = offsetForTimestamp(l, ts);
            return { partition, offset: String(o < 0 ? l.length : o) };
          });
          assert.deepEqual(
            offsets.sort((a, b) => a.partition - b.partition),
            want,
            `offsets for timestamp ${ts}`,
          );
        }

        // Seeking: reading 5 messages from the offset found for a timestamp starts at the expected message.
        const ts = messages[5000]!.timestamp;
        for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(topic, Number(ts))) {
          const from = Number(offset);
          const got = await readWithKcat(b, topic, partition, { offset: from, count: 5 });
          assertRecords(`${topic}/${partition} from ${from}`, got, expected[partition]!.slice(0, from + 5), from);
          assert.ok(BigInt(got[0]!.timestamp) >= ts);
          if (from > 0) assert.ok(expected[partition]![from - 1]!.timestamp < ts);
        }
      });
    });
  }

  for (const codec of ['snappy', 'lz4', 'zstd']) {
    it(`${codec}: not tested`, { skip: `stock KafkaJS ${KAFKAJS_VERSION} has no ${codec} codec (it needs a plugin)` });
  }

  it('producing to an unknown topic creates it (allowAutoTopicCreation)', { timeout: TIMEOUT_MS }, async (t) => {
    await logged(t, async () => {
      const topic = 'kafkajs-auto-created';
      assert.ok(!(await listTopics()).includes(topic));
      const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
      await producer.connect();
      try {
        const result = await producer.send({
          topic,
          messages: [
            { key: 'k', value: 'first', headers: { h: 'v' } },
            { key: 'k', value: 'second' },
          ],
        });
        assert.deepEqual(
          result.map((r) => [r.topicName, r.partition, r.errorCode, r.baseOffset]),
          [[topic, 0, 0, '0']],
        );
      } finally {
        await producer.disconnect();
      }
      assert.ok((await listTopics()).includes(topic));
      // num.partitions (1) partitions, led by the one broker.
      assert.deepEqual(await partitionsOf(topic), healthy(1));
      assert.deepEqual(
        (await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low, o.high]),
        [[0, '0', '2']],
      );
      if (kcat.missing === undefined) {
        const got = await readWithKcat(started(), topic, 0);
        assert.deepEqual(
          got.map((r) => [r.offset, r.key, r.value, r.headers]),
          [
            [0, Buffer.from('k').toString('hex'), Buffer.from('first').toString('hex'), [['h', '76']]],
            [1, Buffer.from('k').toString('hex'), Buffer.from('second').toString('hex'), []],
          ],
        );
      }
    });
  });

  it('administers user_activity: create, describe, add partitions, configs, delete', {
    timeout: TIMEOUT_MS,
  }, async (t) => {
    await logged(t, async () => {
      const topic = 'user_activity';
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] }), true);
      // Creating it again: KafkaJS turns TOPIC_ALREADY_EXISTS into false.
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] }), false);
      assert.ok((await listTopics()).includes(topic));
      assert.deepEqual(await partitionsOf(topic), healthy(3));

      // CreatePartitions: 3 -> 5; fewer than there are is INVALID_PARTITIONS.
      // (KafkaJS's typings promise a boolean; 2.2.4 resolves to undefined.)
      await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
      assert.deepEqual(await partitionsOf(topic), healthy(5));
      await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }), (e: Error) => {
        assert.equal((e as Error & { type?: string }).type, 'INVALID_PARTITIONS', String(e));
        return true;
      });
      assert.deepEqual(await partitionsOf(topic), healthy(5));

      const names = ['retention.ms', 'cleanup.policy'];
      const describe = async () => {
        const r = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }],
        });
        assert.equal(r.resources.length, 1);
        const res = r.resources[0]!;
        assert.deepEqual([res.errorCode, res.resourceType, res.resourceName], [0, ConfigResourceTypes.TOPIC, topic]);
        return Object.fromEntries(
          res.configEntries.map((c) => [c.configName, [c.configValue, c.isDefault, c.configSource, c.readOnly]]),
        );
      };
      // Defaults first (source 5: DEFAULT_CONFIG), then the altered values (source 1: TOPIC_CONFIG).
      assert.deepEqual(await describe(), {
        'retention.ms': ['604800000', true, 5, false],
        'cleanup.policy': ['delete', true, 5, false],
      });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: topic,
            configEntries: [
              { name: 'retention.ms', value: '86400000' },
              { name: 'cleanup.policy', value: 'compact' },
            ],
          },
        ],
      });
      assert.deepEqual(await describe(), {
        'retention.ms': ['86400000', false, 1, false],
        'cleanup.policy': ['compact', false, 1, false],
      });
      // AlterConfigs replaces the whole set: what is not named goes back to its default.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '3600000' }] },
        ],
      });
      assert.deepEqual(await describe(), {
        'retention.ms': ['3600000', false, 1, false],
        'cleanup.policy': ['delete', true, 5, false],
      });
      // validateOnly changes nothing.
      await admin.alterConfigs({
        validateOnly: true,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '1' }] },
        ],
      });
      assert.equal((await describe())['retention.ms']![0], '3600000');

      await admin.deleteTopics({ topics: [topic] });
      assert.ok(!(await listTopics()).includes(topic));
    });
  });

  it('a replication factor above the broker count is INVALID_REPLICATION_FACTOR', {
    timeout: TIMEOUT_MS,
  }, async (t) => {
    await logged(t, async () => {
      const topic = 'user_activity_rf3';
      await assert.rejects(
        admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }] }),
        (e: Error & { errors?: (Error & { type?: string; code?: number; topic?: string })[] }) => {
          // KafkaJS wraps the per-topic errors in a KafkaJSAggregateError. It keeps the error code (type, code) but
          // not the broker's error message ("Replication factor: 3 larger than available brokers: 1."): its message
          // is its own text for the code. platformatic-kafka.test.ts checks the broker's message.
          assert.equal(e.name, 'KafkaJSAggregateError', String(e));
          assert.equal(e.errors?.length, 1);
          const [err] = e.errors!;
          assert.deepEqual(
            [err!.name, err!.type, err!.code, err!.topic],
            ['KafkaJSCreateTopicError', 'INVALID_REPLICATION_FACTOR', 38, topic],
          );
          assert.equal(err!.message, 'Replication-factor is invalid');
          return true;
        },
      );
      assert.ok(!(await listTopics()).includes(topic));
    });
  });

  it('the broker logged no warnings or errors while serving the client', (t) => {
    const bad = started().logs.filter((l) => Number(l.level) >= 40);
    for (const l of bad.slice(0, 20)) t.diagnostic(JSON.stringify(l));
    assert.equal(bad.length, 0, `${bad.length} warning or error lines`);
  });
});
