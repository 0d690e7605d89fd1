// Cross-checks against an independent implementation: KafkaJS's record batch and message set codecs (a dev
// dependency), used only as a black box here.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { Compression, decodeRecordBatches, encodeRecordBatch } from '../../../src/protocol/records/index.js';

const require = createRequire(import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS internals of KafkaJS
type Any = any;
const KafkaRecordBatch: (args: Any) => Promise<Any> = require('kafkajs/src/protocol/recordBatch/v0').RecordBatch;
const KafkaRecord: (args: Any) => Any = require('kafkajs/src/protocol/recordBatch/record/v0');
const KafkaRecordBatchDecoder: (decoder: Any) => Promise<Any> = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const KafkaMessageSet: (args: Any) => Any = require('kafkajs/src/protocol/messageSet');
const KafkaDecoder: new (buf: Buffer) => Any = require('kafkajs/src/protocol/decoder');
const Long: Any = require('kafkajs/src/utils/long');

describe('KafkaJS interop', () => {
  test('batches encoded by KafkaJS (none, gzip) decode here', async () => {
    for (const compression of [Compression.none, Compression.gzip]) {
      const records = [
        KafkaRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1') }),
        KafkaRecord({
          offsetDelta: 1,
          timestampDelta: 7,
          key: null,
          value: Buffer.from('v2'),
          headers: { trace: Buffer.from('t') },
        }),
      ];
      const encoder = await KafkaRecordBatch({
        compression,
        firstOffset: Long.fromValue(40),
        firstTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_007,
        partitionLeaderEpoch: 2,
        lastOffsetDelta: 1,
        producerId: Long.fromValue(9),
        producerEpoch: 1,
        firstSequence: 3,
        records,
      });
      const [b, ...rest] = decodeRecordBatches(encoder.buffer);
      assert.equal(rest.length, 0);
      assert.equal(b!.compression, compression);
      assert.equal(b!.baseOffset, 40n);
      assert.equal(b!.partitionLeaderEpoch, 2);
      assert.equal(b!.producerId, 9n);
      assert.equal(b!.baseSequence, 3);
      assert.deepEqual(
        b!.records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString()]),
        [
          [40n, 1_700_000_000_000n, 'k1', 'v1'],
          [41n, 1_700_000_000_007n, null, 'v2'],
        ],
      );
      assert.deepEqual(b!.records[1]!.headers, [{ key: 'trace', value: Buffer.from('t') }]);
    }
  });

  test('batches encoded here (none, gzip) decode with KafkaJS', async () => {
    for (const compression of [Compression.none, Compression.gzip]) {
      const buf = encodeRecordBatch({
        baseOffset: 100n,
        compression,
        isTransactional: true,
        producerId: 5n,
        producerEpoch: 2,
        baseSequence: 0,
        baseTimestamp: 1_700_000_000_000n,
        records: [
          { key: 'a', value: 'x', headers: [{ key: 'h', value: 'hv' }], timestamp: 1_700_000_000_000n },
          { key: null, value: 'y', timestamp: 1_700_000_000_010n },
        ],
      });
      const decoded = await KafkaRecordBatchDecoder(new KafkaDecoder(buf));
      assert.equal(decoded.firstOffset, '100');
      assert.equal(decoded.inTransaction, true);
      assert.equal(decoded.producerId, '5');
      assert.equal(decoded.lastOffsetDelta, 1);
      assert.equal(decoded.maxTimestamp, '1700000000010');
      assert.deepEqual(
        decoded.records.map((r: Any) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value.toString()]),
        [
          ['100', '1700000000000', 'a', 'x'],
          ['101', '1700000000010', null, 'y'],
        ],
      );
      assert.deepEqual(decoded.records[0].headers, { h: Buffer.from('hv') });
    }
  });

  test('legacy message sets (v0 and v1) encoded by KafkaJS decode here', () => {
    for (const messageVersion of [0, 1]) {
      const set = KafkaMessageSet({
        messageVersion,
        compression: Compression.none,
        entries: [
          { key: Buffer.from('k'), value: Buffer.from('first'), timestamp: 111 },
          { key: null, value: Buffer.from('second'), timestamp: 222 },
        ],
      }).buffer as Buffer;
      const batches = decodeRecordBatches(set);
      assert.deepEqual(
        batches.map((b) => [b.magic, b.records[0]!.key?.toString() ?? null, b.records[0]!.value!.toString()]),
        [
          [messageVersion, 'k', 'first'],
          [messageVersion, null, 'second'],
        ],
      );
      assert.deepEqual(
        batches.map((b) => b.records[0]!.timestamp),
        messageVersion === 1 ? [111n, 222n] : [-1n, -1n],
      );
    }
  });
});
