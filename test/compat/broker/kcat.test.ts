/**
 * kcat (librdkafka) against the real broker process. kcat has no admin API, so the topics (3 partitions, one per
 * codec) are created with a raw CreateTopics request and checked with `kcat -L`. 10,000 keyed messages with headers,
 * produced with the Java murmur2 partitioner (topic.partitioner=murmur2_random), come back byte for byte on the
 * partitions partitionForKey picks, in order at offsets 0..n-1, stored with the codec; `-o <offset>`, `-Q` and
 * `-o s@<timestamp>` return exactly the records from there; a long-polling fetch is answered when a message arrives;
 * producing to an unknown topic creates it with num.partitions partitions.
 *
 * kcat -P reads one message per line and cannot vary headers or set timestamps per message: every message gets the
 * same headers (including a duplicate name, an empty and a null value), and timestamps are librdkafka's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CODECS, type Codec, describeChild, requireTool, runChild, skipUnless } from '../harness.js';
import { kcatTool } from '../tools.js';
import type { BrokerProcess } from './broker-process.js';
import {
  assertAllConsumed,
  assertSameRecords,
  assertStoredCodec,
  CHILD_TIMEOUT_MS,
  createTopics,
  fromOffsets,
  LONG_POLL_WAIT_MS,
  MESSAGE_COUNT,
  offsetsForTime,
  PARTITIONS,
  type Rec,
  SEEK_INDEX,
  sleep,
  spawnWatched,
  startTestBroker,
  TEST_TIMEOUT_MS,
} from './scenario.js';

const kcat = kcatTool();

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const lorem = 'lorem ipsum dolor sit amet, consectetur adipiscing elit; ';

/** -H name=value adds a header to every message; `name=` has an empty value and a bare `name` a null one. */
const HEADER_ARGS = ['-H', 'h1=v1', '-H', 'dup=first', '-H', 'dup=second', '-H', 'empty=', '-H', 'null'];
const HEADERS = [
  { key: 'h1', value: text('v1') },
  { key: 'dup', value: text('first') },
  { key: 'dup', value: text('second') },
  { key: 'empty', value: Buffer.alloc(0) },
  { key: 'null', value: null },
];

/** Line i is `key-i<TAB>value`; with -Z an empty value is sent as null (a tombstone every 97 messages). */
function line(i: number): { key: string; value: string } {
  return { key: `key-${i}`, value: i % 97 === 13 ? '' : `value-${i} ünïcødé ✓ ${lorem.repeat(1 + (i % 4))}` };
}
const LINES = Array.from({ length: MESSAGE_COUNT }, (_, i) => line(i));
const MESSAGES = LINES.map((l) => ({
  key: text(l.key),
  value: l.value === '' ? null : text(l.value),
  headers: HEADERS,
}));

function config(entries: Record<string, string | number>): string[] {
  return Object.entries(entries).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
}

const CLIENT = { 'client.id': 'samsa-compat-kcat' };

async function kcatOk(args: string[], input?: string): Promise<string> {
  const r = await runChild('kcat', args, { input, timeoutMs: CHILD_TIMEOUT_MS });
  assert.ok(r.code === 0 && !/ERROR/.test(r.stderr), `kcat ${args.join(' ')} failed: ${describeChild(r)}`);
  return r.stdout;
}

function produceArgs(broker: BrokerProcess, topic: string, codec: Codec): string[] {
  return [
    '-P',
    '-b',
    broker.bootstrap,
    '-t',
    topic,
    '-z',
    codec,
    '-K',
    '\t',
    '-Z',
    ...HEADER_ARGS,
    ...config({
      ...CLIENT,
      'topic.partitioner': 'murmur2_random',
      acks: 'all',
      'enable.idempotence': 'false',
      'linger.ms': 20,
      'message.timeout.ms': 45_000,
    }),
  ];
}

interface KcatJson {
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: (string | null)[];
}

function parseRecords(stdout: string): Rec[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const j = JSON.parse(l) as KcatJson;
      const headers = [];
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

/** Consumes every partition of `topic` from `offset` (a kcat -o argument) to its end, as JSON. */
async function consume(broker: BrokerProcess, topic: string, offset: string): Promise<Rec[]> {
  const args = ['-C', '-b', broker.bootstrap, '-t', topic, '-o', offset, '-e', '-J', '-q', ...config(CLIENT)];
  return parseRecords(await kcatOk(args));
}

interface KcatMetadata {
  brokers: { id: number; name: string }[];
  topics: { topic: string; partitions: { partition: number; leader: number; replicas: { id: number }[] }[] }[];
}

async function metadata(broker: BrokerProcess): Promise<KcatMetadata> {
  return JSON.parse(await kcatOk(['-L', '-J', '-b', broker.bootstrap, ...config(CLIENT)])) as KcatMetadata;
}

/** The topic as `kcat -L` shows it: [partition, leader, replicas] sorted; null when not listed. */
async function listedPartitions(broker: BrokerProcess, topic: string): Promise<[number, number, number[]][] | null> {
  const md = await metadata(broker);
  const t = md.topics.find((x) => x.topic === topic);
  if (t === undefined) return null;
  return t.partitions
    .map((p): [number, number, number[]] => [p.partition, p.leader, p.replicas.map((r) => r.id)])
    .sort((a, b) => a[0] - b[0]);
}

describe('kcat against the broker', { skip: skipUnless(kcat) }, () => {
  let broker: BrokerProcess;
  let nodeId: number;
  const topicOf = (codec: Codec): string => `kcat-${codec}`;

  before(async () => {
    if (kcat.missing !== undefined) return;
    broker = await startTestBroker();
    await createTopics(broker, [...CODECS.map(topicOf), 'kcat-long-poll']);
    nodeId = (await metadata(broker)).brokers[0]!.id;
  });
  after(async () => {
    await broker?.stop();
    broker?.cleanup();
  });

  it('the created topics are listed with 3 partitions led by the broker', { timeout: TEST_TIMEOUT_MS }, async () => {
    requireTool(kcat);
    const md = await metadata(broker);
    assert.deepEqual(
      md.brokers.map((b) => b.name),
      [broker.bootstrap],
    );
    for (const codec of CODECS) {
      assert.deepEqual(
        await listedPartitions(broker, topicOf(codec)),
        Array.from({ length: PARTITIONS }, (_, p) => [p, nodeId, [nodeId]]),
      );
    }
  });

  for (const codec of CODECS) {
    it(`${codec}: 10,000 keyed messages round-trip on murmur2 partitions; offset and timestamp seeks`, {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kcat);
      t.diagnostic(`kcat ${kcat.version}, librdkafka ${kcat.details.librdkafka}`);
      const topic = topicOf(codec);
      await kcatOk(produceArgs(broker, topic, codec), `${LINES.map((l) => `${l.key}\t${l.value}`).join('\n')}\n`);

      const all = assertAllConsumed(MESSAGES, await consume(broker, topic, 'beginning'));

      // -o <offset> starts every partition there: inside a batch, which the client must skip into.
      const offset = Math.floor(Math.min(...all.map((recs) => recs.length)) / 2) + 1;
      assertSameRecords(
        await consume(broker, topic, String(offset)),
        fromOffsets(all, [offset, offset, offset]),
        `-o ${offset}`,
      );

      // kcat -P cannot set timestamps: look up the one librdkafka gave message SEEK_INDEX.
      const ts = all.flat().find((r) => r.key?.equals(MESSAGES[SEEK_INDEX]!.key))!.timestamp;
      const expectedOffsets = offsetsForTime(all, ts);
      const queried = JSON.parse(
        await kcatOk([
          '-Q',
          '-J',
          '-b',
          broker.bootstrap,
          ...Array.from({ length: PARTITIONS }, (_, p) => ['-t', `${topic}:${p}:${ts}`]).flat(),
          ...config(CLIENT),
        ]),
      ) as Record<string, Record<string, { partition: number; offset: number }>>;
      assert.deepEqual(
        Array.from({ length: PARTITIONS }, (_, p) => queried[topic]?.[String(p)]?.offset),
        expectedOffsets,
        `kcat -Q ${ts}`,
      );
      assertSameRecords(await consume(broker, topic, `s@${ts}`), fromOffsets(all, expectedOffsets), `-o s@${ts}`);
      const stored = assertStoredCodec(broker, topic, codec);
      t.diagnostic(
        `${all.map((recs) => recs.length).join('/')} records per partition; ${stored}; ` +
          `-o ${offset}; -o s@${ts} -> offsets ${expectedOffsets}`,
      );
    });
  }

  it('a fetch waiting at the end of the log is answered when a message arrives', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(kcat);
    const topic = 'kcat-long-poll';
    const produceOne = (value: string) =>
      kcatOk(
        ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K', ':', ...config({ ...CLIENT, acks: 'all' })],
        `long-poll:${value}\n`,
      );
    await produceOne('before the wait');
    // Reads partition 0 from offset 0 and exits after two messages; fetch.wait.max.ms is twice the child timeout.
    const consumer = spawnWatched('kcat', [
      '-C',
      '-b',
      broker.bootstrap,
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      '0',
      '-c',
      '2',
      '-u',
      '-J',
      ...config({ ...CLIENT, 'fetch.wait.max.ms': LONG_POLL_WAIT_MS, 'socket.timeout.ms': 300_000 }),
    ]);
    try {
      await consumer.stdoutLines(1);
      // librdkafka fetches again right after the first message; give that fetch a moment to reach the broker and
      // wait there (nothing to read) before the second message arrives.
      await sleep(1000);
      await produceOne('produced while the fetch waits');
    } finally {
      const r = await consumer.result;
      assert.equal(
        r.code,
        0,
        `the consumer did not get the message produced while its fetch waited: ${describeChild(r)}`,
      );
      const got = parseRecords(r.stdout);
      assert.deepEqual(
        got.map((x) => [x.partition, x.offset, x.key?.toString(), x.value?.toString()]),
        [
          [0, 0, 'long-poll', 'before the wait'],
          [0, 1, 'long-poll', 'produced while the fetch waits'],
        ],
      );
    }
  });

  it('producing to an unknown topic creates it with num.partitions partitions', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(kcat);
    const topic = 'kcat-auto-created';
    assert.equal(await listedPartitions(broker, topic), null);
    await kcatOk(
      ['-P', '-b', broker.bootstrap, '-t', topic, '-K', ':', ...config({ ...CLIENT, acks: 'all' })],
      'auto:created on first use\n',
    );
    assert.deepEqual(
      await listedPartitions(broker, topic),
      Array.from({ length: PARTITIONS }, (_, p) => [p, nodeId, [nodeId]]),
    );
    const got = await consume(broker, topic, 'beginning');
    assert.deepEqual(
      got.map((r) => [r.offset, r.key?.toString(), r.value?.toString()]),
      [[0, 'auto', 'created on first use']],
    );
  });
});
