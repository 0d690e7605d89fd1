/**
 * What a partition holds, read the way a test wants to check it: every stored record batch from offset 0 to the
 * end, with raw Fetch v12 requests (no consumer library between the test and the log).
 */
import assert from 'node:assert/strict';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { decodeRecordBatches, type FetchResponse, type RecordBatch } from '../../src/protocol/index.js';

export async function readStoredBatches(
  broker: { host: string; port: number },
  topic: string,
  partition: number,
): Promise<RecordBatch[]> {
  const conn = await BrokerConnection.connect({ host: broker.host, port: broker.port, clientId: 'reader' });
  try {
    const batches: RecordBatch[] = [];
    let offset = 0n;
    for (;;) {
      const res = await conn.send<FetchResponse>(1, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 8 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 8 << 20 }] }],
      });
      const p = res.responses[0]!.partitions[0]!;
      assert.equal(p.errorCode, 0, `fetch ${topic}-${partition}`);
      const got = p.records === null ? [] : decodeRecordBatches(p.records);
      const fresh = got.filter((b) => b.baseOffset + BigInt(b.lastOffsetDelta) >= offset);
      if (fresh.length === 0) return batches;
      batches.push(...fresh);
      const last = fresh[fresh.length - 1]!;
      offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
    }
  } finally {
    conn.close();
  }
}
