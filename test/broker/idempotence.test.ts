/**
 * Idempotent producers over the wire, against the broker in this process: InitProducerId in every version, and
 * Produce with producer ids and sequences: retries answered with the original offset and not stored twice, gaps
 * and stale epochs refused without changing anything, pipelined requests and several batches for one partition in
 * one request handled in order, acks=-1 and acks=0, and plain batches unaffected. The log is read back with Fetch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import {
  type ApiVersionsResponse,
  decodeRecordBatches,
  ErrorCode,
  encodeRecordBatch,
  type FetchResponse,
  type InitProducerIdResponse,
  type ProduceResponse,
} from '../../src/protocol/index.js';
import { RawClient } from './raw-client.js';

interface Send {
  pid: bigint;
  epoch: number;
  seq: number;
  count?: number;
  tag?: string;
}

function batch(s: Send): Buffer {
  const count = s.count ?? 1;
  return encodeRecordBatch({
    producerId: s.pid,
    producerEpoch: s.epoch,
    baseSequence: s.seq,
    baseTimestamp: BigInt(Date.now()),
    records: Array.from({ length: count }, (_, i) => ({ key: null, value: `${s.tag ?? 'v'}-${s.seq + i}` })),
  });
}

function produceBody(topic: string, parts: { index: number; records: Buffer }[], acks = -1) {
  return { acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: parts }] };
}

function first(res: ProduceResponse) {
  return res.responses[0]!.partitionResponses[0]!;
}

describe('idempotent producers over the wire', () => {
  let kafka: StartedBroker;
  let client: RawClient;

  before(async () => {
    kafka = await startBroker({ config: { 'num.partitions': '2' } });
    client = await RawClient.connect(kafka.port);
  });

  after(async () => {
    client.close();
    await kafka.stop();
  });

  async function initProducerId(version: number, body: Record<string, unknown> = {}) {
    return client.request<InitProducerIdResponse>(22, version, {
      transactionalId: null,
      transactionTimeoutMs: 60000,
      ...body,
    });
  }

  async function createTopic(name: string): Promise<void> {
    await client.metadata(12, { topics: [{ name }], allowAutoTopicCreation: true });
  }

  /** Every record value of a partition from offset 0, in order. */
  async function values(topic: string, partition: number): Promise<string[]> {
    const res: FetchResponse = await client.fetch(12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 24,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 24 }] }],
    });
    const records = res.responses[0]!.partitions[0]!.records!;
    return decodeRecordBatches(records).flatMap((b) => b.records.map((r) => r.value!.toString()));
  }

  it('advertises InitProducerId v0..v5', async () => {
    const res = await client.request<ApiVersionsResponse>(18, 3, {
      clientSoftwareName: 'idem-test',
      clientSoftwareVersion: '1',
    });
    assert.deepEqual(
      res.apiKeys.find((k) => k.apiKey === 22),
      { apiKey: 22, minVersion: 0, maxVersion: 5 },
    );
  });

  it('InitProducerId gives a new producer id with epoch 0 in every version, whatever id a v3+ request names', async () => {
    const ids = new Set<bigint>();
    for (let v = 0; v <= 5; v++) {
      const res = await initProducerId(v, v >= 3 ? { producerId: 7n, producerEpoch: 3 } : {});
      assert.equal(res.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(res.producerEpoch, 0);
      assert.ok(res.producerId >= 0n);
      ids.add(res.producerId);
    }
    assert.equal(ids.size, 6, 'a fresh id each time');
  });

  it('InitProducerId with a transactional id: COORDINATOR_NOT_AVAILABLE (no transaction coordinator); empty: INVALID_REQUEST', async () => {
    for (const v of [0, 2, 5]) {
      const res = await initProducerId(v, { transactionalId: 'tx-1' });
      assert.equal(res.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
      assert.equal(res.producerId, -1n);
      assert.equal(res.producerEpoch, -1);
      assert.equal((await initProducerId(v, { transactionalId: '' })).errorCode, ErrorCode.INVALID_REQUEST);
    }
    assert.equal(client.closed, false);
  });

  it('answers a retry with the original offset and stores it once; refuses gaps and stale epochs', async () => {
    await createTopic('idem');
    const { producerId: pid } = await initProducerId(4);
    const p = (s: Omit<Send, 'pid'>, acks = -1) =>
      client.produce(9, produceBody('idem', [{ index: 0, records: batch({ pid, ...s }) }], acks));
    const r0 = first(await p({ epoch: 0, seq: 0, count: 3 }));
    assert.equal(r0.errorCode, ErrorCode.NONE);
    assert.equal(r0.baseOffset, 0n);
    const retry = first(await p({ epoch: 0, seq: 0, count: 3 }));
    assert.equal(retry.errorCode, ErrorCode.NONE);
    assert.equal(retry.baseOffset, 0n);
    assert.equal(first(await p({ epoch: 0, seq: 3 })).baseOffset, 3n);
    const gap = first(await p({ epoch: 0, seq: 5 }));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(gap.baseOffset, -1n);
    assert.match(gap.errorMessage ?? '', /Out of order sequence number/);
    assert.equal(first(await p({ epoch: 1, seq: 4 })).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(first(await p({ epoch: 1, seq: 0, tag: 'e1' })).baseOffset, 4n);
    assert.equal(first(await p({ epoch: 0, seq: 4 })).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    // acks=1 and acks=-1 duplicates alike.
    assert.equal(first(await p({ epoch: 1, seq: 0, tag: 'e1' }, 1)).baseOffset, 4n);
    assert.deepEqual(await values('idem', 0), ['v-0', 'v-1', 'v-2', 'v-3', 'e1-0']);
  });

  it('handles five pipelined requests on one connection in order, and their pipelined retries as duplicates', async () => {
    await createTopic('pipelined');
    const { producerId: pid } = await initProducerId(5);
    const send = () =>
      Promise.all(
        Array.from({ length: 5 }, (_, seq) =>
          client.produce(
            9,
            produceBody('pipelined', [{ index: 1, records: batch({ pid, epoch: 0, seq: seq * 2, count: 2 }) }]),
          ),
        ),
      );
    const firstRound = (await send()).map(first);
    assert.deepEqual(
      firstRound.map((r) => [r.errorCode, r.baseOffset]),
      [0n, 2n, 4n, 6n, 8n].map((o) => [ErrorCode.NONE, o]),
    );
    const retries = (await send()).map(first);
    assert.deepEqual(
      retries.map((r) => [r.errorCode, r.baseOffset]),
      [0n, 2n, 4n, 6n, 8n].map((o) => [ErrorCode.NONE, o]),
    );
    assert.deepEqual(
      await values('pipelined', 1),
      Array.from({ length: 10 }, (_, i) => `v-${i}`),
    );
  });

  it('checks several batches for one partition in one request in order', async () => {
    await createTopic('multi');
    const { producerId: pid } = await initProducerId(1);
    const b = (seq: number) => ({ index: 0, records: batch({ pid, epoch: 0, seq }) });
    const res = await client.produce(9, produceBody('multi', [b(0), b(1), b(1), b(3), b(2)]));
    assert.deepEqual(
      res.responses[0]!.partitionResponses.map((r) => [r.errorCode, r.baseOffset]),
      [
        [ErrorCode.NONE, 0n],
        [ErrorCode.NONE, 1n],
        [ErrorCode.NONE, 1n],
        [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1n],
        [ErrorCode.NONE, 2n],
      ],
    );
    assert.deepEqual(await values('multi', 0), ['v-0', 'v-1', 'v-2']);
  });

  it('acks=0: a duplicate is dropped silently and the connection stays open', async () => {
    await createTopic('fire');
    const { producerId: pid } = await initProducerId(3);
    const c = await RawClient.connect(kafka.port);
    for (const seq of [0, 1, 1, 0, 2]) {
      // No response comes; the promise only settles when the connection is closed.
      c.produce(9, produceBody('fire', [{ index: 0, records: batch({ pid, epoch: 0, seq }) }], 0)).catch(() => {});
    }
    // A request with a response after them: it is answered after the five were handled.
    await c.metadata(12, { topics: [{ name: 'fire' }] });
    assert.equal(c.closed, false);
    c.close();
    assert.deepEqual(await values('fire', 0), ['v-0', 'v-1', 'v-2']);
  });

  it('leaves batches without a producer id alone: the same bytes twice are stored twice', async () => {
    await createTopic('plain');
    const records = encodeRecordBatch({ records: [{ value: 'x' }] });
    for (let i = 0; i < 2; i++) {
      const r = first(await client.produce(9, produceBody('plain', [{ index: 0, records: Buffer.from(records) }])));
      assert.equal(r.baseOffset, BigInt(i));
    }
    assert.deepEqual(await values('plain', 0), ['x', 'x']);
  });

  it('forgets producers idle for producer.id.expiration.ms (broker config), by their last batch timestamp', async () => {
    const short = await startBroker({ config: { 'producer.id.expiration.ms': '60000' } });
    const c = await RawClient.connect(short.port);
    try {
      assert.equal(short.broker.config.producerIdExpirationMs, 60000);
      await c.metadata(12, { topics: [{ name: 'expiring' }], allowAutoTopicCreation: true });
      const send = (pid: bigint, seq: number, ts: number) =>
        c.produce(9, {
          acks: -1,
          timeoutMs: 5000,
          topicData: [
            {
              name: 'expiring',
              partitionData: [
                {
                  index: 0,
                  records: encodeRecordBatch({
                    producerId: pid,
                    producerEpoch: 0,
                    baseSequence: seq,
                    baseTimestamp: BigInt(ts),
                    records: [{ value: `${pid}-${seq}` }],
                  }),
                },
              ],
            },
          ],
        });
      const now = Date.now();
      await send(1n, 0, now - 120_000);
      await send(2n, 0, now);
      assert.equal(first(await send(1n, 5, now)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      // What the periodic check (producer.id.expiration.check.interval.ms) runs.
      assert.equal(short.broker.logs.removeExpiredProducers(), 1);
      // Producer 1 is unknown again: like Kafka, any sequence is accepted; producer 2 is still checked.
      assert.equal(first(await send(1n, 5, now)).errorCode, ErrorCode.NONE);
      assert.equal(first(await send(2n, 5, now)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    } finally {
      c.close();
      await short.stop();
    }
  });

  it('refuses a batch with a producer id but no sequence as INVALID_RECORD', async () => {
    await createTopic('noseq');
    const r = first(
      await client.produce(9, produceBody('noseq', [{ index: 0, records: batch({ pid: 99n, epoch: 0, seq: -1 }) }])),
    );
    assert.equal(r.errorCode, ErrorCode.INVALID_RECORD);
  });
});
