/**
 * What the idempotent-producer tests check in the log itself, read with raw Fetch requests (no consumer library in
 * between): every message 0..count-1 exactly once over all partitions, each partition's messages in the order they
 * were sent, every batch carrying a producer id, and per producer id and epoch the batch sequences running from 0
 * without gap or repetition, which is what the broker's checks promise. Delivery reports, when the client gives
 * them, must name the offset where the message really is.
 */
import assert from 'node:assert/strict';
import { decodeRecordBatches, type FetchResponse, type RecordBatch } from '../../../src/protocol/index.js';
import { RawClient } from '../../broker/raw-client.js';

/** Every batch of a partition from offset 0, in order. */
export async function storedBatches(port: number, topic: string, partition: number): Promise<RecordBatch[]> {
  const c = await RawClient.connect(port);
  try {
    const out: RecordBatch[] = [];
    let offset = 0n;
    for (;;) {
      const res: FetchResponse = await c.fetch(12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 16 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 16 << 20 }] }],
      });
      const p = res.responses[0]!.partitions[0]!;
      assert.equal(p.errorCode, 0, `fetch ${topic}-${partition}`);
      const batches = decodeRecordBatches(p.records ?? Buffer.alloc(0)).filter(
        (b) => b.baseOffset + BigInt(b.lastOffsetDelta) >= offset,
      );
      if (batches.length === 0) return out;
      out.push(...batches);
      const last = batches.at(-1)!;
      offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
    }
  } finally {
    c.close();
  }
}

export interface IdempotentSummary {
  batches: number;
  producerIds: bigint[];
  /** Messages per partition. */
  perPartition: number[];
}

/**
 * Checks the partitions of a topic an idempotent producer wrote values "0".."count-1" to, in that order. `where`
 * maps each message index to the [partition, offset] its delivery report named (when known).
 */
export async function checkIdempotentLog(
  port: number,
  topic: string,
  partitions: number,
  count: number,
  where?: ([number, number] | string | null)[],
): Promise<IdempotentSummary> {
  const seen = new Map<number, [number, bigint]>();
  const producerIds = new Set<bigint>();
  const perPartition: number[] = [];
  let batchCount = 0;
  for (let p = 0; p < partitions; p++) {
    const batches = await storedBatches(port, topic, p);
    batchCount += batches.length;
    let previous = -1;
    let run: { pid: bigint; epoch: number; nextSeq: number } | null = null;
    let n = 0;
    for (const b of batches) {
      assert.ok(b.producerId >= 0n, `partition ${p}: batch at ${b.baseOffset} has no producer id`);
      producerIds.add(b.producerId);
      if (run === null || run.pid !== b.producerId || run.epoch !== b.producerEpoch) {
        assert.equal(
          b.baseSequence,
          0,
          `partition ${p}: producer ${b.producerId} epoch ${b.producerEpoch} starts at 0`,
        );
        run = { pid: b.producerId, epoch: b.producerEpoch, nextSeq: 0 };
      }
      assert.equal(
        b.baseSequence,
        run.nextSeq,
        `partition ${p}: batch at offset ${b.baseOffset} continues the sequence`,
      );
      run.nextSeq += b.records.length;
      for (const r of b.records) {
        const i = Number(r.value!.toString());
        assert.ok(Number.isInteger(i) && i >= 0 && i < count, `unexpected value ${r.value}`);
        const dup = seen.get(i);
        assert.equal(
          dup,
          undefined,
          `message ${i} stored twice: partition ${dup?.[0]} offset ${dup?.[1]} and ${p}/${r.offset}`,
        );
        seen.set(i, [p, r.offset]);
        assert.ok(i > previous, `partition ${p}: message ${i} after ${previous} (out of order)`);
        previous = i;
        n++;
      }
    }
    perPartition.push(n);
  }
  const missing = [];
  for (let i = 0; i < count && missing.length < 10; i++) if (!seen.has(i)) missing.push(i);
  assert.deepEqual(missing, [], 'every message is stored');
  if (where !== undefined) {
    for (let i = 0; i < count; i++) {
      const [p, offset] = seen.get(i)!;
      assert.deepEqual(where[i], [p, Number(offset)], `delivery report of message ${i}`);
    }
  }
  return { batches: batchCount, producerIds: [...producerIds], perPartition };
}
