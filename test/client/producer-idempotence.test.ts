/**
 * The idempotent Producer (the default with acks=all) against the in-process broker, with a fault-injecting proxy
 * between them for the failures: answers lost after the broker wrote the batch, batches refused before it did,
 * a batch that fails for good in the middle of a pipelined stream, and a broker without InitProducerId. Every check
 * reads the stored batches back: each record exactly once, in send order, with the producer id, epoch and sequence
 * numbers the broker stored, and the delivery reports' offsets where the records really are.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { KafkaClientError } from '../../src/client/errors.js';
import { type DeliveryReport, Producer, type ProducerOptions } from '../../src/client/producer/index.js';
import { ErrorCode, KafkaError, type RecordBatch } from '../../src/protocol/index.js';
import { FaultProxy } from './producer-fault-proxy.js';
import { readStoredBatches } from './stored-batches.js';

const INIT_PRODUCER_ID = 22;

let kafka: StartedBroker;
let proxy: FaultProxy;

before(async () => {
  kafka = await startBroker({ config: { 'num.partitions': '1' } });
  proxy = await FaultProxy.start({ host: kafka.host, port: kafka.port });
});

after(async () => {
  await proxy.close();
  await kafka.stop();
});

async function createTopic(name: string, numPartitions: number): Promise<void> {
  await kafka.broker.topics.createTopic({ name, numPartitions, replicationFactor: 1, assignments: [], configs: {} });
}

function viaProxy(options: Partial<ProducerOptions> = {}): Producer {
  return new Producer({ bootstrapServers: [proxy.bootstrap], clientId: 'idempotence-test', ...options });
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Sends `count` records numbered from 0 to one partition, a few at a time so that several requests are in flight. */
async function sendNumbered(p: Producer, topic: string, partition: number, count: number): Promise<DeliveryReport[]> {
  const sent: Promise<DeliveryReport>[] = [];
  for (let i = 0; i < count; i++) {
    sent.push(p.send({ topic, partition, value: text(String(i)) }));
    if (i % 25 === 24) await new Promise((r) => setImmediate(r));
  }
  return Promise.all(sent);
}

/** Asserts that the batches' sequence numbers count the records from 0 under each producer id, without gaps. */
function assertSequences(batches: RecordBatch[]): void {
  const next = new Map<bigint, number>();
  for (const b of batches) {
    assert.ok(b.producerId >= 0n, `batch at ${b.baseOffset} has a producer id`);
    const expected = next.get(b.producerId) ?? 0;
    assert.equal(b.baseSequence, expected, `sequence of the batch at offset ${b.baseOffset}`);
    next.set(b.producerId, expected + b.records.length);
  }
}

const values = (batches: RecordBatch[]): number[] =>
  batches.flatMap((b) => b.records.map((r) => Number(r.value!.toString())));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('the idempotent producer', () => {
  it('numbers each partition batches from sequence 0 under one producer id, epoch 0', async () => {
    await createTopic('idem-numbered', 3);
    const p = new Producer({ bootstrapServers: [kafka.bootstrap], batchSize: 600, lingerMs: 0 });
    const sent: Promise<DeliveryReport>[] = [];
    for (let i = 0; i < 1500; i++) {
      sent.push(p.send({ topic: 'idem-numbered', partition: i % 3, value: text(`${i}`) }));
      if (i % 30 === 29) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sent);
    await p.close();
    const ids = new Set<bigint>();
    for (const partition of [0, 1, 2]) {
      const batches = await readStoredBatches(kafka, 'idem-numbered', partition);
      assert.ok(batches.length > 5, `several batches in partition ${partition}`);
      assertSequences(batches);
      for (const b of batches) {
        ids.add(b.producerId);
        assert.equal(b.producerEpoch, 0);
      }
      assert.deepEqual(
        values(batches),
        range(500).map((i) => i * 3 + partition),
      );
    }
    assert.equal(ids.size, 1, 'one producer id for the whole producer');
  });

  it('is off by default with acks=1 and refused when asked for with settings that do not allow it', async () => {
    await createTopic('idem-acks1', 1);
    const p = new Producer({ bootstrapServers: [kafka.bootstrap], acks: 1 });
    await p.send({ topic: 'idem-acks1', value: text('x') });
    await p.close();
    const [batch] = await readStoredBatches(kafka, 'idem-acks1', 0);
    assert.equal(batch!.producerId, -1n);
    assert.equal(batch!.baseSequence, -1);
    const refused = (options: Partial<ProducerOptions>, pattern: RegExp) =>
      assert.throws(
        () => new Producer({ bootstrapServers: [kafka.bootstrap], enableIdempotence: true, ...options }),
        (e: unknown) => e instanceof KafkaClientError && pattern.test(e.message),
      );
    refused({ acks: 1 }, /acks=all/);
    refused({ retries: 0 }, /retries/);
    refused({ maxInFlightRequestsPerConnection: 6 }, /at most 5/);
  });

  it('a batch written whose answer was lost is resent and not written twice (error answers and cut connections)', async () => {
    await createTopic('idem-lost-answers', 1);
    const p = viaProxy({ batchSize: 400, lingerMs: 0, retryBackoffMs: 5 });
    const start = proxy.produceRequests;
    // The broker writes these requests; the client gets an error instead of their answer, or loses the connection.
    proxy.answerFault = (_req, n) =>
      n - start === 3 || n - start === 9 ? ErrorCode.NOT_LEADER_OR_FOLLOWER : n - start === 6 ? 'drop' : null;
    const reports = await sendNumbered(p, 'idem-lost-answers', 0, 1000);
    proxy.answerFault = null;
    await p.close();
    assert.ok(p.metrics().retries >= 3, `retries: ${p.metrics().retries}`);
    const batches = await readStoredBatches(kafka, 'idem-lost-answers', 0);
    assert.deepEqual(values(batches), range(1000), 'every record once, in order');
    assertSequences(batches);
    assert.deepEqual(
      reports.map((r) => r.offset),
      range(1000).map(BigInt),
      'each report has the offset the record is stored at',
    );
  });

  it('a batch refused before the write goes first again: those sent behind it are refused as out of order and follow', async () => {
    await createTopic('idem-refused', 1);
    const p = viaProxy({ batchSize: 400, lingerMs: 0, retryBackoffMs: 5 });
    const start = proxy.produceRequests;
    proxy.produceFault = (_req, n) => (n - start === 2 || n - start === 8 ? ErrorCode.REQUEST_TIMED_OUT : null);
    const outOfOrder = proxy.produceErrors.get(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) ?? 0;
    const reports = await sendNumbered(p, 'idem-refused', 0, 1000);
    proxy.produceFault = null;
    await p.close();
    // Batches were in flight behind the refused ones (the case this is about), and the broker refused them.
    assert.ok((proxy.produceErrors.get(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) ?? 0) > outOfOrder, 'out of order');
    const batches = await readStoredBatches(kafka, 'idem-refused', 0);
    assert.deepEqual(values(batches), range(1000));
    assertSequences(batches);
    assert.deepEqual(
      reports.map((r) => r.offset),
      range(1000).map(BigInt),
    );
  });

  it('a batch that fails for good leaves a gap: the producer takes a new id and the rest is written in order', async () => {
    await createTopic('idem-gap', 1);
    const p = viaProxy({ batchSize: 400, lingerMs: 0, retryBackoffMs: 5 });
    const start = proxy.produceRequests;
    let injected = 0;
    proxy.produceFault = (_req, n) => {
      if (n - start !== 3) return null;
      injected++;
      return ErrorCode.INVALID_RECORD;
    };
    const sent: Promise<DeliveryReport | Error>[] = [];
    for (let i = 0; i < 1000; i++) {
      sent.push(p.send({ topic: 'idem-gap', value: text(String(i)) }).catch((e: Error) => e));
      if (i % 25 === 24) await new Promise((r) => setImmediate(r));
    }
    const outcomes = await Promise.all(sent);
    proxy.produceFault = null;
    await p.close();
    assert.equal(injected, 1, 'the fault was injected');
    const failed = range(1000).filter((i) => outcomes[i] instanceof Error);
    assert.ok(failed.length > 0, 'the refused batch failed');
    for (const i of failed) {
      const e = outcomes[i];
      assert.ok(e instanceof KafkaError && e.code === ErrorCode.INVALID_RECORD, String(e));
    }
    // The failed records are one run (one batch); everything else is stored once, in order.
    assert.equal(failed[failed.length - 1]! - failed[0]! + 1, failed.length, 'one batch failed');
    const batches = await readStoredBatches(kafka, 'idem-gap', 0);
    assert.deepEqual(
      values(batches),
      range(1000).filter((i) => !failed.includes(i)),
    );
    assertSequences(batches);
    const ids = new Set(batches.map((b) => b.producerId));
    assert.equal(ids.size, 2, 'a new producer id after the gap');
    const delivered = outcomes.filter((o): o is DeliveryReport => !(o instanceof Error));
    assert.deepEqual(
      delivered.map((r) => r.offset),
      range(delivered.length).map(BigInt),
    );
  });

  it('a broker without InitProducerId: idempotence is off by default, and an error when asked for', async () => {
    await createTopic('idem-old-broker', 1);
    const old = await FaultProxy.start({ host: kafka.host, port: kafka.port });
    old.hiddenApis = [INIT_PRODUCER_ID];
    try {
      const p = new Producer({ bootstrapServers: [old.bootstrap] });
      await sendNumbered(p, 'idem-old-broker', 0, 50);
      await p.close();
      const batches = await readStoredBatches(kafka, 'idem-old-broker', 0);
      assert.deepEqual(values(batches), range(50));
      for (const b of batches) assert.equal(b.producerId, -1n);

      const q = new Producer({ bootstrapServers: [old.bootstrap], enableIdempotence: true });
      await assert.rejects(
        q.send({ topic: 'idem-old-broker', value: text('x') }),
        (e: unknown) =>
          e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION && /enableIdempotence/.test(e.message),
      );
      await q.close();
    } finally {
      await old.close();
    }
  });
});
