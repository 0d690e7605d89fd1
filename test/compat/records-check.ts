/**
 * Checks a client's record sets with our record-batch code: scanRecordSet accepts them (framing, magic, CRC-32C),
 * decodeRecordBatches finds the requested codec in every batch's attributes, the batch header fields a plain
 * (non-idempotent, non-transactional) producer writes, and exactly the keys, values, headers and timestamps the
 * client was asked to send, in order, across all the Produce requests it used.
 */
import assert from 'node:assert/strict';
import { decodeRecordBatches, scanRecordSet } from '../../src/protocol/records/index.js';
import { CODEC_ID, type Codec, type TestMessage } from './harness.js';

interface Comparable {
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

/** Buffers shown as hex (null stays null), so that a mismatch prints readably and compares by content. */
const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));
const view = (m: Comparable) => ({
  key: hex(m.key),
  value: hex(m.value),
  headers: m.headers.map((h) => [h.key, hex(h.value)]),
});

export interface RecordSetOptions {
  /** For clients that stamp the time themselves: every record's timestamp must fall in this window (ms). */
  timestampsBetween?: [bigint, bigint];
  /**
   * The producer epoch and base sequence a plain producer writes. Kafka's own clients and librdkafka write -1 (none)
   * for both; KafkaJS writes 0 and 0 (its initial state) next to producer id -1. Brokers do not look at either when
   * the producer id is -1.
   */
  producerEpoch?: number;
  baseSequence?: number;
}

export function assertRecordSets(
  recordSets: Buffer[],
  codec: Codec,
  expected: TestMessage[],
  options: RecordSetOptions,
): void {
  const got: Comparable[] = [];
  const timestamps: bigint[] = [];
  recordSets.forEach((set, s) => {
    const where = `record set ${s} of ${recordSets.length}`;
    let scanned: ReturnType<typeof scanRecordSet> = [];
    assert.doesNotThrow(() => {
      scanned = scanRecordSet(set);
    }, `${where}: scanRecordSet rejects it`);
    assert.equal(
      scanned.reduce((n, b) => n + b.size, 0),
      set.length,
      `${where}: scanned batches do not cover the set`,
    );
    const batches = decodeRecordBatches(set);
    assert.ok(batches.length > 0, `${where}: no batches`);
    assert.equal(batches.length, scanned.length, `${where}: scan and decode disagree on the batch count`);
    batches.forEach((batch, b) => {
      const at = `${where}, batch ${b}`;
      assert.equal(batch.magic, 2, `${at}: magic`);
      assert.equal(batch.compression, CODEC_ID[codec], `${at}: compression attribute (asked for ${codec})`);
      assert.equal(batch.crc, scanned[b]!.crc, `${at}: crc`);
      // A plain producer: no producer id, epoch or sequence, not transactional, create-time timestamps.
      assert.equal(batch.producerId, -1n, `${at}: producerId`);
      assert.equal(batch.producerEpoch, options.producerEpoch ?? -1, `${at}: producerEpoch`);
      assert.equal(batch.baseSequence, options.baseSequence ?? -1, `${at}: baseSequence`);
      assert.equal(batch.isTransactional, false, `${at}: transactional bit`);
      assert.equal(batch.isControl, false, `${at}: control bit`);
      assert.equal(batch.timestampType, 0, `${at}: timestamp type`);
      // Producers number records from base offset 0; the broker assigns the real offsets.
      assert.equal(batch.baseOffset, 0n, `${at}: baseOffset`);
      assert.equal(batch.recordCount, batch.records.length, `${at}: recordCount`);
      assert.equal(batch.lastOffsetDelta, batch.records.length - 1, `${at}: lastOffsetDelta`);
      assert.deepEqual(
        batch.records.map((r) => r.offset),
        batch.records.map((_, i) => BigInt(i)),
        `${at}: record offsets`,
      );
      let newest = -1n;
      for (const r of batch.records) {
        got.push(r);
        timestamps.push(r.timestamp);
        if (r.timestamp > newest) newest = r.timestamp;
      }
      assert.equal(batch.maxTimestamp, newest, `${at}: maxTimestamp`);
    });
  });
  assert.deepEqual(got.map(view), expected.map(view), 'records (keys, values, headers; bytes as hex)');
  expected.forEach((m, i) => {
    if (m.timestamp !== undefined) assert.equal(timestamps[i], m.timestamp, `timestamp of record ${i}`);
  });
  if (options.timestampsBetween !== undefined) {
    const [from, to] = options.timestampsBetween;
    for (const ts of timestamps) assert.ok(ts >= from && ts <= to, `timestamp ${ts} outside ${from}..${to}`);
  }
}
