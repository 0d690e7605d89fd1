/**
 * samsa's Producer writing to the broker process, real clients reading: kcat (-C -J) and confluent-kafka-python
 * (librdkafka, manual assignment). With every codec, 10,000 keyed messages with headers and explicit timestamps come
 * back byte for byte, in order, at offsets 0..n-1 of the partition the Java client's murmur2 picks, and the stored
 * batches carry the codec. kcat's JSON output is text, so its messages are text (with non-ASCII characters, empty
 * and null values and header values, duplicate header names); confluent-kafka-python gets the binary ones too.
 *
 * The partitioner: for the same keys, samsa's 'murmur2_random' (and its default, for keyed records) picks the same
 * partitions as librdkafka's murmur2_random, as kcat and confluent-kafka-python produce them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Producer, type ProducerOptions } from '../../../src/client/producer/index.js';
import { partitionForKey } from '../../../src/protocol/index.js';
import type { BrokerProcess } from '../broker/broker-process.js';
import {
  assertAllConsumed,
  assertStoredCodec,
  CHILD_TIMEOUT_MS,
  createTopics,
  fromPy,
  keyedMessages,
  MESSAGE_COUNT,
  PARTITIONS,
  type PyRec,
  type Rec,
  recentBase,
  SCRIPT_DEADLINE_S,
  startTestBroker,
  TEST_TIMEOUT_MS,
} from '../broker/scenario.js';
import {
  CODECS,
  type Codec,
  describeChild,
  PYTHON,
  requireTool,
  runChild,
  skipUnless,
  type TestHeader,
  type TestMessage,
} from '../harness.js';
import { confluentTool, kcatTool } from '../tools.js';

const kcat = kcatTool();
const confluent = confluentTool();

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const lorem = 'lorem ipsum dolor sit amet, consectetur adipiscing elit; ';

/** Text-only messages for kcat: unique keys, values (empty now and then, null as tombstones), text headers. */
function textMessages(baseTimestamp: bigint): TestMessage[] {
  return Array.from({ length: MESSAGE_COUNT }, (_, i) => {
    let value: Buffer | null = text(`value-${i} ünïcødé ✓ ${lorem.repeat(1 + (i % 4))}`);
    if (i % 97 === 13) value = null;
    else if (i % 97 === 14) value = Buffer.alloc(0);
    const headers: TestHeader[][] = [
      [],
      [{ key: 'seq', value: text(String(i)) }],
      [
        { key: 'dup', value: text('first') },
        { key: 'dup', value: text(`second-${i}`) },
        { key: 'empty', value: Buffer.alloc(0) },
      ],
      [{ key: 'null', value: null }],
    ];
    return { key: text(`key-${i}-ключ`), value, headers: headers[i % 4]!, timestamp: baseTimestamp + BigInt(i) };
  });
}

async function produceAll(
  broker: BrokerProcess,
  topic: string,
  messages: TestMessage[],
  options: Partial<ProducerOptions> = {},
): Promise<void> {
  await using producer = new Producer({ bootstrapServers: [broker.bootstrap], clientId: 'samsa-interop', ...options });
  const reports = await producer.sendBatch(
    messages.map((m) => ({ topic, key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp })),
  );
  const next = new Array<number>(PARTITIONS).fill(0);
  for (const [i, r] of reports.entries()) {
    const p = partitionForKey(messages[i]!.key!, PARTITIONS);
    assert.equal(r.partition, p, `message ${i}: partition`);
    assert.equal(r.offset, BigInt(next[p]!++), `message ${i}: offset`);
  }
}

async function kcatOk(args: string[], input?: string): Promise<string> {
  const r = await runChild('kcat', args, { input, timeoutMs: CHILD_TIMEOUT_MS });
  assert.ok(r.code === 0 && !/ERROR/.test(r.stderr), `kcat ${args.join(' ')} failed: ${describeChild(r)}`);
  return r.stdout;
}

interface KcatJson {
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: (string | null)[];
}

async function kcatConsume(broker: BrokerProcess, topic: string): Promise<Rec[]> {
  const out = await kcatOk([
    ...['-C', '-b', broker.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-J', '-q'],
    ...['-X', 'client.id=samsa-compat-kcat'],
  ]);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const j = JSON.parse(l) as KcatJson;
      const headers: TestHeader[] = [];
      for (let i = 0; i < (j.headers?.length ?? 0); i += 2) {
        const v = j.headers![i + 1]!;
        headers.push({ key: j.headers![i]!, value: v === null ? null : text(v) });
      }
      return {
        partition: j.partition,
        offset: j.offset,
        timestamp: j.ts,
        key: j.key === null ? null : text(j.key),
        value: j.payload === null ? null : text(j.payload),
        headers,
      };
    });
}

const SCRIPT = fileURLToPath(new URL('../../../../test/compat/client/py/producer_confluent.py', import.meta.url));

async function confluentRun<T>(spec: Record<string, unknown>): Promise<T> {
  const r = await runChild(PYTHON, ['-B', SCRIPT], {
    input: JSON.stringify({ deadlineSeconds: SCRIPT_DEADLINE_S, ...spec }),
    timeoutMs: CHILD_TIMEOUT_MS,
  });
  const brief = (): string =>
    describeChild({ ...r, stdout: r.stdout.length > 4000 ? `${r.stdout.slice(0, 4000)}...` : r.stdout });
  assert.equal(r.code, 0, `producer_confluent.py failed: ${brief()}`);
  return JSON.parse(r.stdout) as T;
}

describe('samsa Producer, read by real clients', () => {
  let broker: BrokerProcess;
  const kcatTopic = (codec: Codec): string => `samsa-to-kcat-${codec}`;
  const confluentTopic = (codec: Codec): string => `samsa-to-confluent-${codec}`;

  before(async () => {
    broker = await startTestBroker();
    await createTopics(broker, [...CODECS.map(kcatTopic), ...CODECS.map(confluentTopic)]);
    await createTopics(broker, ['keys-samsa', 'keys-kcat', 'keys-confluent'], 7);
  });
  after(async () => {
    await broker?.stop();
    broker?.cleanup();
  });

  for (const codec of CODECS) {
    it(`${codec}: kcat reads 10,000 text messages back byte for byte on murmur2 partitions`, {
      skip: skipUnless(kcat),
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kcat);
      t.diagnostic(`kcat ${kcat.version}, librdkafka ${kcat.details.librdkafka}`);
      const topic = kcatTopic(codec);
      const messages = textMessages(recentBase());
      await produceAll(broker, topic, messages, { compression: codec });
      assertAllConsumed(messages, await kcatConsume(broker, topic));
      t.diagnostic(assertStoredCodec(broker, topic, codec));
    });

    it(`${codec}: confluent-kafka-python reads 10,000 binary messages back byte for byte on murmur2 partitions`, {
      skip: skipUnless(confluent),
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(confluent);
      t.diagnostic(`confluent-kafka-python ${confluent.version}, librdkafka ${confluent.details.librdkafka}`);
      const topic = confluentTopic(codec);
      const messages = keyedMessages({ nullHeaderValue: true, baseTimestamp: recentBase() });
      await produceAll(broker, topic, messages, { compression: codec, lingerMs: 20 });
      const report = await confluentRun<{ errors: string[]; ends: number[]; records: PyRec[] }>({
        mode: 'consume',
        bootstrap: broker.bootstrap,
        topic,
        partitions: PARTITIONS,
      });
      assert.deepEqual(report.errors, []);
      assert.equal(
        report.ends.reduce((a, b) => a + b, 0),
        MESSAGE_COUNT,
      );
      assertAllConsumed(messages, report.records.map(fromPy));
      t.diagnostic(assertStoredCodec(broker, topic, codec));
    });
  }

  it("murmur2_random picks librdkafka's partitions for the same keys (kcat and confluent-kafka-python)", {
    skip: skipUnless(kcat) || skipUnless(confluent),
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(kcat);
    requireTool(confluent);
    const textKeys = Array.from({ length: 2000 }, (_, i) => `pk-${i}-${'ü'.repeat(i % 3)}`);
    const binaryKeys = Array.from({ length: 500 }, (_, i) =>
      Buffer.from([i & 0xff, (i >> 8) & 0xff, 0, 0xff, ...Array.from({ length: i % 7 }, (_, j) => (i * j) & 0xff)]),
    );
    const allKeys = [...textKeys.map(text), ...binaryKeys];

    // samsa, both partitioners that hash keys.
    const ours = new Map<string, number>();
    for (const partitioner of ['murmur2_random', 'default'] as const) {
      await using producer = new Producer({ bootstrapServers: [broker.bootstrap], partitioner });
      const reports = await producer.sendBatch(allKeys.map((key) => ({ topic: 'keys-samsa', key, value: text('x') })));
      for (const [i, r] of reports.entries()) {
        const k = allKeys[i]!.toString('hex');
        if (ours.has(k)) assert.equal(r.partition, ours.get(k), `${partitioner}: key ${k}`);
        ours.set(k, r.partition);
      }
    }
    assert.equal(new Set(ours.values()).size, 7, 'the keys cover every partition');

    // kcat (text keys: one message per line, key<TAB>value).
    await kcatOk(
      [
        ...['-P', '-b', broker.bootstrap, '-t', 'keys-kcat', '-K', '\t'],
        ...['-X', 'topic.partitioner=murmur2_random', '-X', 'client.id=samsa-compat-kcat'],
      ],
      `${textKeys.map((k) => `${k}\tx`).join('\n')}\n`,
    );
    const fromKcat = await kcatConsume(broker, 'keys-kcat');
    assert.equal(fromKcat.length, textKeys.length);
    for (const r of fromKcat) {
      const k = r.key!.toString('hex');
      assert.equal(r.partition, ours.get(k), `kcat put key ${r.key!.toString()} on ${r.partition}`);
    }

    // confluent-kafka-python (all keys, binary ones included).
    const report = await confluentRun<{ errors: string[]; partitions: (number | null)[] }>({
      mode: 'produce-keys',
      bootstrap: broker.bootstrap,
      topic: 'keys-confluent',
      keys: allKeys.map((k) => k.toString('base64')),
    });
    assert.deepEqual(report.errors, []);
    for (const [i, p] of report.partitions.entries()) {
      const k = allKeys[i]!.toString('hex');
      assert.equal(p, ours.get(k), `confluent-kafka-python put key ${k} on ${p}`);
    }
  });
});
