/**
 * KafkaJS's consumer against the real broker process, for what a consumer does besides reading in order:
 *
 * - seek to an offset (`consumer.seek`) on each partition: the next message it gets there is at that offset, and
 *   from there on exactly the messages produced, in order;
 * - seek to a timestamp: the offsets `admin.fetchTopicOffsetsByTimestamp` gives (ListOffsets by timestamp), sought
 *   to, deliver the first message at or after the timestamp;
 * - long poll: a consumer waiting on an empty partition with a fetch wait (maxWaitTimeInMs) far longer than the
 *   test's bound gets a message produced while it waits, so the broker must complete the waiting Fetch when the
 *   data arrives rather than when the wait expires. No timing is asserted: the bound only fails a broken broker.
 *
 * KafkaJS logs nothing on a passing run: its log lines are buffered and printed only when the test fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { waitFor, withLogsOnFailure } from './workload.js';

const TIMEOUT_MS = 90_000;
const PARTITIONS = 3;
const PER_PARTITION = 100;

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];
const logged = <T>(t: TestContext, fn: () => Promise<T>): Promise<T> => withLogsOnFailure(t, broker, clientLogs, fn);

interface Seen {
  partition: number;
  offset: number;
  value: string;
}

/** Starts a consumer in its own group on `topic`; every message goes to `seen`. Resolves once it has partitions. */
async function startConsumer(topic: string, group: string, seen: Seen[], maxWaitTimeInMs: number): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs, sessionTimeout: 90_000, heartbeatInterval: 3000 });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      seen.push({ partition, offset: Number(message.offset), value: message.value!.toString() });
    },
  });
  await waitFor(`${group} to join`, () => joined);
  return consumer;
}

const value = (p: number, i: number): string => `p${p}-m${i}`;

describe('KafkaJS consumer: seek and long poll against the broker process', { timeout: 3 * TIMEOUT_MS }, () => {
  before(async () => {
    broker = await startBrokerProcess({ config: { 'group.initial.rebalance.delay.ms': '0' } });
    kafka = new Kafka({
      clientId: 'samsa-compat-kafkajs-seek',
      brokers: [broker.bootstrap],
      logLevel: logLevel.INFO,
      logCreator: () => (entry) => {
        clientLogs.push(`${entry.label} [${entry.namespace}] ${entry.log.message}`);
      },
    });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'seek', numPartitions: PARTITIONS }] });
    const producer = kafka.producer();
    await producer.connect();
    // Timestamps 1000 ms apart per message index, the same on every partition.
    for (let i = 0; i < PER_PARTITION; i++) {
      await producer.send({
        topic: 'seek',
        acks: -1,
        messages: Array.from({ length: PARTITIONS }, (_, p) => ({
          partition: p,
          value: value(p, i),
          timestamp: String(1_700_000_000_000 + i * 1000),
        })),
      });
    }
    await producer.disconnect();
  });

  after(async () => {
    await admin?.disconnect();
    if (broker !== undefined) {
      await broker.stop();
      broker.cleanup();
    }
  });

  it('seeks to an offset and to a timestamp', { timeout: TIMEOUT_MS }, async (t) => {
    await logged(t, async () => {
      const seen: Seen[] = [];
      const consumer = await startConsumer('seek', 'seek-readers', seen, 100);
      try {
        await waitFor('the first pass', () => seen.length === PARTITIONS * PER_PARTITION);
        // Offsets: partition p restarts at 10 * (p + 1).
        seen.length = 0;
        for (let p = 0; p < PARTITIONS; p++)
          consumer.seek({ topic: 'seek', partition: p, offset: String(10 * (p + 1)) });
        await waitFor('the re-read from the sought offsets', () =>
          [0, 1, 2].every((p) => seen.filter((s) => s.partition === p).length >= PER_PARTITION - 10 * (p + 1)),
        );
        for (let p = 0; p < PARTITIONS; p++) {
          const got = seen.filter((s) => s.partition === p);
          const from = 10 * (p + 1);
          assert.deepEqual(
            got.slice(0, PER_PARTITION - from),
            Array.from({ length: PER_PARTITION - from }, (_, i) => ({
              partition: p,
              offset: from + i,
              value: value(p, from + i),
            })),
          );
        }

        // Timestamps: 1_700_000_042_500 falls between messages 42 and 43, so every partition restarts at 43.
        const offsets = await admin.fetchTopicOffsetsByTimestamp('seek', 1_700_000_042_500);
        assert.deepEqual(
          offsets.sort((a, b) => a.partition - b.partition),
          [0, 1, 2].map((partition) => ({ partition, offset: '43' })),
        );
        seen.length = 0;
        for (const o of offsets) consumer.seek({ topic: 'seek', partition: o.partition, offset: o.offset });
        await waitFor('the re-read from the timestamp', () =>
          [0, 1, 2].every((p) => seen.filter((s) => s.partition === p).length >= PER_PARTITION - 43),
        );
        for (let p = 0; p < PARTITIONS; p++) {
          const first = seen.find((s) => s.partition === p)!;
          assert.deepEqual(first, { partition: p, offset: 43, value: value(p, 43) });
        }
      } finally {
        await consumer.disconnect();
      }
    });
  });

  it('a waiting fetch completes when a message arrives, long before its max wait', {
    timeout: TIMEOUT_MS,
  }, async (t) => {
    await logged(t, async () => {
      await admin.createTopics({ topics: [{ topic: 'long-poll', numPartitions: 1 }] });
      const seen: Seen[] = [];
      // Far longer than WAIT_MS: only completion on arrival can deliver the message in time.
      const consumer = await startConsumer('long-poll', 'long-pollers', seen, 120_000);
      const producer = kafka.producer();
      await producer.connect();
      try {
        // Let the consumer's first fetch reach the broker and wait there.
        await sleep(1000);
        assert.equal(seen.length, 0);
        await producer.send({ topic: 'long-poll', acks: 1, messages: [{ value: 'wake up' }] });
        await waitFor('the message to reach the waiting consumer', () => seen.length === 1);
        assert.deepEqual(seen, [{ partition: 0, offset: 0, value: 'wake up' }]);
      } finally {
        // KafkaJS's disconnect waits for its in-flight fetch, which now waits up to 120 s: wake it with one more
        // message so that the consumer stops at once.
        const stopping = consumer.disconnect();
        await producer.send({ topic: 'long-poll', acks: 1, messages: [{ value: 'good night' }] });
        await stopping;
        await producer.disconnect();
      }
    });
  });
});
