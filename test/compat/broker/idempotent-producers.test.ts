/**
 * Real idempotent producers against the broker process, each writing keyed messages "0".."n-1" in order over 3
 * partitions, the log then read back with raw Fetch requests and checked (idempotent-log.ts): every message exactly
 * once, each partition in send order, one producer id in every batch, sequences from 0 without gap or repetition,
 * and the delivery reports naming the offsets where the messages really are.
 *
 * - confluent-kafka-python (librdkafka) with enable.idempotence=true and acks=all: 5 requests in flight, small
 *   batches;
 * - KafkaJS with idempotent: true (which needs maxInFlightRequests: 1 and acks=-1);
 * - @platformatic/kafka with idempotent: true (its default), in a Node >= 22 child process;
 * - librdkafka and KafkaJS again through a TCP proxy (test/client/producer-fault-proxy.ts) that drops the connection
 *   after the broker answered a Produce request but before the answer reaches the client, every 7th or 10th request:
 *   the client cannot know the batch was stored and sends it again (librdkafka with up to 5 requests in flight,
 *   all of them retried); the broker must recognise every such retry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { FaultProxy } from '../../client/producer-fault-proxy.js';
import { describeChild, requireTool, runChild, skipUnless } from '../harness.js';
import { confluentTool, platformaticTool } from '../tools.js';
import type { BrokerProcess } from './broker-process.js';
import { checkIdempotentLog } from './idempotent-log.js';
import { CHILD_TIMEOUT_MS, createTopics, runPython, startTestBroker, TEST_TIMEOUT_MS } from './scenario.js';

const PARTITIONS = 3;
const KEYS = 37;
const confluent = confluentTool();
const platformatic = platformaticTool();
const PLATFORMATIC_SCRIPT = new URL('../../../../test/compat/broker/platformatic-idempotent.mjs', import.meta.url);

interface ConfluentReport {
  delivered: ([number, number] | string | null)[];
  left: number;
  errors: [string, boolean][];
}

async function librdkafka(bootstrap: string, topic: string, count: number): Promise<ConfluentReport> {
  const report = await runPython<ConfluentReport>('confluent_idempotent.py', { bootstrap, topic, count, keys: KEYS });
  assert.equal(report.left, 0, `messages left unsent: ${JSON.stringify(report.errors)}`);
  assert.deepEqual(
    report.errors.filter(([, fatal]) => fatal),
    [],
    'no fatal (idempotence) error',
  );
  const failed = report.delivered.filter((d) => !Array.isArray(d));
  assert.deepEqual(failed.slice(0, 5), [], 'every message delivered');
  return report;
}

/** KafkaJS as an idempotent producer: `count` messages, `chunk` per awaited send(). */
async function kafkajs(bootstrap: string, topic: string, count: number, chunk: number): Promise<void> {
  const kafka = new Kafka({
    clientId: 'samsa-compat-kafkajs-idempotent',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 10 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let from = 0; from < count; from += chunk) {
      const messages = [];
      for (let i = from; i < Math.min(count, from + chunk); i++)
        messages.push({ key: `k${i % KEYS}`, value: String(i) });
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** The @platformatic/kafka idempotent producer script: `count` messages, 100 per send(); returns its producer id. */
async function platformaticProducer(bootstrap: string, topic: string, count: number): Promise<bigint> {
  const input = JSON.stringify({ bootstrap, topic, count, keys: KEYS, chunk: 100 });
  const r = await runChild(platformatic.details.node!, [PLATFORMATIC_SCRIPT.pathname], {
    input,
    timeoutMs: CHILD_TIMEOUT_MS,
  });
  assert.equal(r.code, 0, describeChild(r));
  const report = JSON.parse(r.stdout) as { delivered: number; producerId: string };
  assert.equal(report.delivered, count);
  return BigInt(report.producerId);
}

describe('idempotent producers against the broker process', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker?.stop();
    broker?.cleanup();
  });

  it('confluent-kafka-python, enable.idempotence=true, acks=all: 5,000 keyed messages exactly once, in order', {
    timeout: TEST_TIMEOUT_MS,
    skip: skipUnless(confluent),
  }, async (t) => {
    requireTool(confluent);
    t.diagnostic(`confluent-kafka-python ${confluent.version}, librdkafka ${confluent.details.librdkafka}`);
    const topic = 'idem-librdkafka';
    await createTopics(broker, [topic], PARTITIONS);
    const report = await librdkafka(broker.bootstrap, topic, 5000);
    const summary = await checkIdempotentLog(broker.port, topic, PARTITIONS, 5000, report.delivered);
    assert.equal(summary.producerIds.length, 1);
    assert.ok(summary.perPartition.every((n) => n > 0));
    t.diagnostic(`${summary.batches} batches, messages per partition ${summary.perPartition.join('/')}`);
  });

  it('KafkaJS, idempotent: true: 3,000 keyed messages exactly once, in order', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const topic = 'idem-kafkajs';
    await createTopics(broker, [topic], PARTITIONS);
    await kafkajs(broker.bootstrap, topic, 3000, 60);
    const summary = await checkIdempotentLog(broker.port, topic, PARTITIONS, 3000);
    assert.equal(summary.producerIds.length, 1);
    t.diagnostic(`${summary.batches} batches, messages per partition ${summary.perPartition.join('/')}`);
  });

  it('@platformatic/kafka, idempotent: true: 3,000 keyed messages exactly once, in order', {
    timeout: TEST_TIMEOUT_MS,
    skip: skipUnless(platformatic),
  }, async (t) => {
    requireTool(platformatic);
    t.diagnostic(`@platformatic/kafka ${platformatic.version} on Node ${platformatic.details.nodeVersion}`);
    const topic = 'idem-platformatic';
    await createTopics(broker, [topic], PARTITIONS);
    const producerId = await platformaticProducer(broker.bootstrap, topic, 3000);
    const summary = await checkIdempotentLog(broker.port, topic, PARTITIONS, 3000);
    assert.deepEqual(summary.producerIds, [producerId]);
    t.diagnostic(`${summary.batches} batches, messages per partition ${summary.perPartition.join('/')}`);
  });

  describe('through a proxy that drops connections after the broker answered', () => {
    let proxy: FaultProxy;
    before(async () => {
      proxy = await FaultProxy.start({ host: broker.host, port: broker.port });
    });
    after(async () => {
      await proxy?.close();
    });

    /** Drops the answer of every `every`th Produce request from the 3rd on, `drops` times. */
    function dropAnswers(every: number, drops: number): void {
      proxy.droppedAnswers = 0;
      const first = proxy.produceRequests + 3;
      proxy.answerFault = (_req, n) =>
        n >= first && (n - first) % every === 0 && proxy.droppedAnswers < drops ? 'drop' : null;
    }

    const check = async (t: TestContext, topic: string, count: number, where?: ConfluentReport['delivered']) => {
      const summary = await checkIdempotentLog(broker.port, topic, PARTITIONS, count, where);
      assert.equal(summary.producerIds.length, 1, 'one producer id: no fresh start after the drops');
      t.diagnostic(
        `${proxy.droppedAnswers} answers dropped; ${summary.batches} batches, per partition ${summary.perPartition.join('/')}`,
      );
    };

    it('librdkafka: every message once and in order', {
      timeout: TEST_TIMEOUT_MS,
      skip: skipUnless(confluent),
    }, async (t) => {
      requireTool(confluent);
      const topic = 'idem-librdkafka-faults';
      await createTopics(broker, [topic], PARTITIONS);
      dropAnswers(10, 10);
      const report = await librdkafka(proxy.bootstrap, topic, 3000);
      assert.ok(proxy.droppedAnswers >= 5, `only ${proxy.droppedAnswers} answers dropped`);
      await check(t, topic, 3000, report.delivered);
    });

    it('KafkaJS: every message once and in order', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const topic = 'idem-kafkajs-faults';
      await createTopics(broker, [topic], PARTITIONS);
      dropAnswers(7, 8);
      await kafkajs(proxy.bootstrap, topic, 1500, 30);
      assert.ok(proxy.droppedAnswers >= 5, `only ${proxy.droppedAnswers} answers dropped`);
      await check(t, topic, 1500);
    });

    it('@platformatic/kafka: every message once and in order', {
      timeout: TEST_TIMEOUT_MS,
      skip: skipUnless(platformatic),
    }, async (t) => {
      requireTool(platformatic);
      const topic = 'idem-platformatic-faults';
      await createTopics(broker, [topic], PARTITIONS);
      dropAnswers(4, 5);
      await platformaticProducer(proxy.bootstrap, topic, 1500);
      assert.ok(proxy.droppedAnswers >= 3, `only ${proxy.droppedAnswers} answers dropped`);
      await check(t, topic, 1500);
    });
  });
});
