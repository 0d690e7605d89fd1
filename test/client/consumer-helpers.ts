/**
 * Shared pieces of the Consumer tests: an in-process broker whose groups form at once, topics, a raw producer
 * (Produce requests with batches built by encodeRecordBatch, so every codec and every header shape can be written
 * exactly), varied test records, and bounded waits.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import type { ConsumerMessage } from '../../src/client/consumer/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import {
  ErrorCode,
  encodeRecordBatch,
  type ProduceResponse,
  type RecordBatchInput,
  type RecordInput,
} from '../../src/protocol/index.js';

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export const CODEC_ID = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** A bound on waits for a state (only a failing run reaches it). */
export const WAIT_MS = 30_000;

export function startTestBroker(
  config: Record<string, string> = {},
  options: { dataDir?: string; port?: number } = {},
): Promise<StartedBroker> {
  return startBroker({ ...options, config: { 'group.initial.rebalance.delay.ms': '0', ...config } });
}

export async function createTopic(kafka: StartedBroker, name: string, numPartitions: number): Promise<void> {
  await kafka.broker.topics.createTopic({ name, numPartitions, replicationFactor: 1, assignments: [], configs: {} });
}

/** Produce requests with hand-built batches (acks=all). */
export class RawProducer {
  private constructor(private readonly conn: BrokerConnection) {}

  static async connect(kafka: StartedBroker): Promise<RawProducer> {
    return new RawProducer(
      await BrokerConnection.connect({ host: kafka.host, port: kafka.port, clientId: 'raw-producer' }),
    );
  }

  /** Appends one batch; returns its base offset. */
  async produce(topic: string, partition: number, batch: RecordBatchInput): Promise<bigint> {
    const v = this.conn.version(0, 3, 11);
    const res = await this.conn.send<ProduceResponse>(0, v, {
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records: encodeRecordBatch(batch) }] }],
    });
    const p = res.responses[0]!.partitionResponses[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE, `produce to ${topic}-${partition}: error ${p.errorCode}`);
    return p.baseOffset;
  }

  close(): void {
    this.conn.close();
  }
}

export const BASE_TIMESTAMP = 1_700_000_000_000n;

/**
 * Record `i` of a partition: keys and values that are text, binary (all byte values), empty or null; headers with
 * a repeated name, an empty value, a null value and binary bytes; timestamp BASE_TIMESTAMP + 10 * i.
 */
export function testRecord(label: string, i: number): RecordInput & { timestamp: bigint } {
  const raw = Buffer.from(Array.from({ length: 40 + (i % 50) }, (_, j) => (i * 7 + j * 13) & 0xff));
  const key = i % 11 === 5 ? null : i % 7 === 3 ? raw.subarray(0, 9) : Buffer.from(`${label}-key-${i}`);
  const value =
    i % 13 === 4
      ? null
      : i % 17 === 6
        ? Buffer.alloc(0)
        : i % 3 === 0
          ? raw
          : Buffer.from(`value ${i} ✓ ${'x'.repeat(i % 90)}`);
  const headers: { key: string; value: Buffer | null }[] = [];
  if (i % 2 === 0) headers.push({ key: 'index', value: Buffer.from(String(i)) });
  if (i % 5 === 1) headers.push({ key: 'dup', value: Buffer.from('a') }, { key: 'dup', value: Buffer.from('b') });
  if (i % 4 === 2) headers.push({ key: 'empty', value: Buffer.alloc(0) }, { key: 'null', value: null });
  if (i % 6 === 3) headers.push({ key: 'bin', value: raw.subarray(3, 20) });
  return { key, value, headers, timestamp: BASE_TIMESTAMP + 10n * BigInt(i) };
}

/** Writes `count` test records to a partition in batches of `batchSize`; returns them in offset order. */
export async function produceRecords(
  producer: RawProducer,
  topic: string,
  partition: number,
  options: { count: number; batchSize: number; compression?: number; label?: string; from?: number },
): Promise<(RecordInput & { timestamp: bigint })[]> {
  const all: (RecordInput & { timestamp: bigint })[] = [];
  const from = options.from ?? 0;
  for (let i = from; i < from + options.count; i += options.batchSize) {
    const records: (RecordInput & { timestamp: bigint })[] = [];
    for (let j = i; j < Math.min(from + options.count, i + options.batchSize); j++) {
      records.push(testRecord(options.label ?? `${topic}-${partition}`, j));
    }
    await producer.produce(topic, partition, { compression: options.compression ?? 0, records });
    all.push(...records);
  }
  return all;
}

/** Compares a delivered message with the record produced at its offset, byte for byte. */
export function assertSameRecord(
  m: ConsumerMessage,
  expected: RecordInput & { timestamp: bigint },
  offset: bigint,
  what: string,
): void {
  const where = `${what}: ${m.topic}-${m.partition} offset ${m.offset}`;
  assert.equal(m.offset, offset, `${where}: offset`);
  const bytes = (b: Buffer | string | null | undefined): string | null =>
    b === null || b === undefined ? null : Buffer.from(b).toString('hex');
  assert.equal(bytes(m.key), bytes(expected.key), `${where}: key`);
  assert.equal(bytes(m.value), bytes(expected.value), `${where}: value`);
  assert.deepEqual(
    m.headers.map((h) => [h.key, bytes(h.value)]),
    (expected.headers ?? []).map((h) => [h.key, bytes(h.value)]),
    `${where}: headers`,
  );
  assert.equal(m.timestamp, expected.timestamp, `${where}: timestamp`);
}

/** Polls `check` until true; fails at the bound with `what`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, boundMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Reads `count` messages from an iterator; fails when they do not come within the bound. */
export async function take<T>(it: AsyncIterator<T>, count: number, boundMs = WAIT_MS): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + boundMs;
  while (out.length < count) {
    let timer: NodeJS.Timeout | undefined;
    let r: IteratorResult<T> | 'timeout';
    try {
      r = await Promise.race([
        it.next(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    if (r === 'timeout') assert.fail(`only ${out.length} of ${count} messages came within ${boundMs} ms`);
    if (r.done) assert.fail(`the iterator ended after ${out.length} of ${count} messages`);
    out.push(r.value);
  }
  return out;
}
