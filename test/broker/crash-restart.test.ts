/**
 * A broker process killed with SIGKILL under load, with samsa.flush.before.ack on: every produce it acknowledged
 * is there after a restart on the same data directory (recovery truncates only what was never acknowledged), and
 * topics and their configs survive.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/index.js';
import { startBrokerProcess } from '../compat/broker/broker-process.js';
import { RawClient } from './raw-client.js';

describe('kill -9 and restart', () => {
  it('keeps every acknowledged message with fsync before ack', { timeout: 90_000 }, async () => {
    const config = { 'samsa.flush.before.ack': 'true', 'num.partitions': '2' };
    const first = await startBrokerProcess({ config });
    const acked = new Set<string>();
    try {
      const c = await RawClient.connect(first.port);
      await c.metadata(12, { topics: [{ name: 'durable' }], allowAutoTopicCreation: true });
      await c.request(44, 1, {
        resources: [
          {
            resourceType: 2,
            resourceName: 'durable',
            configs: [{ name: 'retention.bytes', configOperation: 0, value: '987654321' }],
          },
        ],
        validateOnly: false,
      });
      // Several producers in flight at once, so the kill lands while appends and fsyncs are under way.
      let n = 0;
      let stop = false;
      const producers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const i = n++;
          const value = `msg-${i}`;
          const records = encodeRecordBatch({ records: [{ value, key: `k${i}` }] });
          try {
            const res = await c.produce(9, {
              acks: -1,
              timeoutMs: 5000,
              topicData: [{ name: 'durable', partitionData: [{ index: i % 2, records }] }],
            });
            if (res.responses[0]!.partitionResponses[0]!.errorCode === 0) acked.add(value);
          } catch {
            return; // the broker died
          }
        }
      });
      while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
      await first.kill();
      stop = true;
      await Promise.all(producers);
      c.close();
    } catch (err) {
      await first.kill();
      first.cleanup();
      throw err;
    }

    const second = await startBrokerProcess({ dataDir: first.dataDir });
    try {
      const c = await RawClient.connect(second.port);
      const found = new Set<string>();
      for (const partition of [0, 1]) {
        let offset = 0n;
        for (;;) {
          const res = await c.fetch(12, {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              { topic: 'durable', partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] },
            ],
          });
          const p = res.responses[0]!.partitions[0]!;
          assert.equal(p.errorCode, 0);
          const records = decodeRecordBatches(p.records!).flatMap((b) => b.records);
          if (records.length === 0) break;
          for (const r of records) {
            assert.equal(r.offset, offset, 'offsets stay contiguous after recovery');
            found.add(r.value!.toString());
            offset++;
          }
        }
      }
      const lost = [...acked].filter((v) => !found.has(v));
      assert.deepEqual(lost, [], `${lost.length} acknowledged messages lost of ${acked.size}`);
      const cfg = await c.request<{ results: { configs: { name: string; value: string | null }[] }[] }>(32, 4, {
        resources: [{ resourceType: 2, resourceName: 'durable', configurationKeys: ['retention.bytes'] }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      assert.equal(cfg.results[0]!.configs[0]!.value, '987654321');
      c.close();
    } finally {
      await second.stop();
      second.cleanup();
    }
  });
});
