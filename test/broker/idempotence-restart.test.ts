/**
 * Idempotent producers across broker restarts, with the broker in a child process: after a clean stop (SIGTERM)
 * and after kill -9, a retry of any of the producer's last 5 batches is answered with its original offset and not
 * stored again, the next sequence continues, a gap is still refused, and InitProducerId never hands out an id it
 * gave before the restart. Small segments make the state span rolls (and their snapshots).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  decodeRecordBatches,
  ErrorCode,
  encodeRecordBatch,
  type FetchResponse,
  type InitProducerIdResponse,
  type ProduceResponse,
} from '../../src/protocol/index.js';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { RawClient } from './raw-client.js';

const TOPIC = 'idem-restart';
const CONFIG = { 'num.partitions': '2', 'log.segment.bytes': '1024' };

function batch(pid: bigint, seq: number): Buffer {
  return encodeRecordBatch({
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
    baseTimestamp: BigInt(Date.now()),
    records: [0, 1].map((i) => ({ key: `k${seq}`, value: `m-${seq + i}-${'x'.repeat(40)}` })),
  });
}

async function produce(c: RawClient, partition: number, records: Buffer): Promise<[number, bigint]> {
  const res: ProduceResponse = await c.produce(9, {
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
  });
  const p = res.responses[0]!.partitionResponses[0]!;
  return [p.errorCode, p.baseOffset];
}

async function newProducerId(c: RawClient): Promise<bigint> {
  const res = await c.request<InitProducerIdResponse>(22, 4, { transactionalId: null, transactionTimeoutMs: 60000 });
  assert.equal(res.errorCode, ErrorCode.NONE);
  return res.producerId;
}

async function values(c: RawClient, partition: number): Promise<string[]> {
  const out: string[] = [];
  let offset = 0n;
  for (;;) {
    const res: FetchResponse = await c.fetch(12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 24,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 24 }] }],
    });
    const batches = decodeRecordBatches(res.responses[0]!.partitions[0]!.records ?? Buffer.alloc(0));
    if (batches.length === 0) return out;
    for (const b of batches) for (const r of b.records) out.push(r.value!.toString().split('-').slice(0, 2).join('-'));
    const last = batches.at(-1)!;
    offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
  }
}

async function scenario(restart: (broker: BrokerProcess) => Promise<void>): Promise<void> {
  let broker = await startBrokerProcess({ config: CONFIG });
  try {
    let c = await RawClient.connect(broker.port);
    await c.metadata(12, { topics: [{ name: TOPIC }], allowAutoTopicCreation: true });
    const pid = await newProducerId(c);
    const offsets: bigint[][] = [[], []];
    for (let seq = 0; seq < 40; seq += 2) {
      for (const p of [0, 1]) {
        const [code, offset] = await produce(c, p, batch(pid, seq));
        assert.equal(code, ErrorCode.NONE);
        offsets[p]!.push(offset);
      }
    }
    c.close();
    await restart(broker);
    const files = readdirSync(join(broker.dataDir, `${TOPIC}-0`));
    assert.ok(files.filter((f) => f.endsWith('.log')).length > 2, 'the batches span several segments');
    assert.ok(
      files.some((f) => f.endsWith('.snapshot')),
      'with producer snapshots',
    );
    broker = await startBrokerProcess({ config: CONFIG, dataDir: broker.dataDir });
    c = await RawClient.connect(broker.port);
    for (const p of [0, 1]) {
      // The last 5 batches (sequences 30..38), retried in the order a client would.
      for (let k = 15; k < 20; k++) {
        assert.deepEqual(
          await produce(c, p, batch(pid, k * 2)),
          [ErrorCode.NONE, offsets[p]![k]],
          `p${p} seq ${k * 2}`,
        );
      }
      assert.equal((await produce(c, p, batch(pid, 44)))[0], ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      assert.deepEqual(await produce(c, p, batch(pid, 40)), [ErrorCode.NONE, 40n]);
      assert.deepEqual(
        await values(c, p),
        Array.from({ length: 42 }, (_, i) => `m-${i}`),
      );
    }
    assert.ok((await newProducerId(c)) > pid, 'producer ids are not reused after a restart');
    c.close();
  } finally {
    await broker.kill();
    broker.cleanup();
  }
}

describe('idempotent producers across restarts (broker process)', () => {
  it('recognises retries after a clean stop', { timeout: 60_000 }, async () => {
    await scenario(async (b) => {
      assert.equal(await b.stop(), 0);
    });
  });

  it('recognises retries after kill -9', { timeout: 60_000 }, async () => {
    await scenario((b) => b.kill());
  });
});
