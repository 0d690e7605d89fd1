/**
 * Turning a buffered fetch answer into messages (decodeFetch): records below the position skipped inside the first
 * batch, control batches never delivered, and under read_committed the records of aborted transactions left out
 * (the answer's aborted-transaction list says where each starts; its abort marker ends it) while committed
 * transactions and plain records come through; deserializers applied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFetch } from '../../src/client/consumer/fetcher.js';
import { PartitionState } from '../../src/client/consumer/state.js';
import { encodeRecordBatch, type RecordBatchInput } from '../../src/protocol/index.js';

/** A transaction marker: key = version 0, type (0 abort, 1 commit); value = version 0, coordinator epoch 0. */
function marker(baseOffset: bigint, producerId: bigint, commit: boolean): RecordBatchInput {
  return {
    baseOffset,
    producerId,
    producerEpoch: 0,
    isTransactional: true,
    isControl: true,
    records: [{ key: Buffer.from([0, 0, 0, commit ? 1 : 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }],
  };
}

function data(baseOffset: bigint, values: string[], producerId = -1n, transactional = false): RecordBatchInput {
  return {
    baseOffset,
    producerId,
    producerEpoch: producerId < 0n ? -1 : 0,
    isTransactional: transactional,
    records: values.map((v) => ({ value: v })),
  };
}

function fetched(batches: RecordBatchInput[], aborted: { producerId: bigint; firstOffset: bigint }[] | null) {
  return {
    state: new PartitionState('t', 0),
    epoch: 0,
    records: Buffer.concat(batches.map(encodeRecordBatch)),
    abortedTransactions: aborted,
    highWatermark: 100n,
    messages: null,
    next: 0,
  };
}

const values = (ms: { value: unknown }[]): string[] => ms.map((m) => String(m.value));

describe('decodeFetch', () => {
  // Offsets: 0-1 plain, 2-3 txn of producer 7 (aborted, marker at 4), 5-6 txn of producer 8 (committed, marker
  // at 7), 8 plain.
  const batches = [
    data(0n, ['p0', 'p1']),
    data(2n, ['a2', 'a3'], 7n, true),
    marker(4n, 7n, false),
    data(5n, ['c5', 'c6'], 8n, true),
    marker(7n, 8n, true),
    data(8n, ['p8']),
  ];
  const options = { checkCrcs: true, keyDeserializer: null, valueDeserializer: (b: Buffer | null) => b?.toString() };

  it('read_uncommitted: every data record, no markers', () => {
    const ms = decodeFetch(fetched(batches, null), 0n, { ...options, readCommitted: false });
    assert.deepEqual(values(ms), ['p0', 'p1', 'a2', 'a3', 'c5', 'c6', 'p8']);
    assert.deepEqual(
      ms.map((m) => m.offset),
      [0n, 1n, 2n, 3n, 5n, 6n, 8n],
    );
  });

  it('read_committed: the aborted transaction left out', () => {
    const ms = decodeFetch(fetched(batches, [{ producerId: 7n, firstOffset: 2n }]), 0n, {
      ...options,
      readCommitted: true,
    });
    assert.deepEqual(values(ms), ['p0', 'p1', 'c5', 'c6', 'p8']);
  });

  it('skips records below the position inside the first batch', () => {
    const ms = decodeFetch(fetched(batches, null), 3n, { ...options, readCommitted: false });
    assert.deepEqual(values(ms), ['a3', 'c5', 'c6', 'p8']);
  });
});
