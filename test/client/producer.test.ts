/**
 * The Producer against the in-process broker. What it wrote is read back with raw Fetch requests and decoded with
 * decodeRecordBatches, so every check is on the stored batches: keys, values, headers and timestamps byte for byte,
 * the partition each record landed on (murmur2 for keys, KIP-480 stickiness for null keys, the other partitioners),
 * the codec in each stored batch's attributes, offsets against the delivery reports; then acks 0/1/all, flush and
 * close, LogAppendTime, the errors users get, and ordering across a broker restart in the middle of a stream.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { KafkaClientError, KafkaTimeoutError } from '../../src/client/errors.js';
import { type DeliveryReport, Producer, type ProducerOptions } from '../../src/client/producer/index.js';
import { stringSerializer } from '../../src/client/serde.js';
import {
  ErrorCode,
  KafkaError,
  type KafkaRecord,
  partitionForKey,
  type RecordBatch,
} from '../../src/protocol/index.js';
import { FaultProxy } from './producer-fault-proxy.js';
import { readStoredBatches } from './stored-batches.js';

let kafka: StartedBroker;

before(async () => {
  kafka = await startBroker({ config: { 'num.partitions': '3', 'auto.create.topics.enable': 'true' } });
});

after(async () => {
  await kafka.stop();
});

async function createTopic(
  name: string,
  numPartitions: number,
  configs: Record<string, string> = {},
  broker: StartedBroker = kafka,
): Promise<void> {
  await broker.broker.topics.createTopic({ name, numPartitions, replicationFactor: 1, assignments: [], configs });
}

function producer<K = Buffer | null, V = Buffer | null>(
  options: Partial<ProducerOptions<K, V>> = {},
  broker: StartedBroker = kafka,
): Producer<K, V> {
  return new Producer<K, V>({ bootstrapServers: [broker.bootstrap], clientId: 'producer-test', ...options });
}

/** Every batch stored in a partition. */
function readBatches(topic: string, partition: number, broker: StartedBroker = kafka): Promise<RecordBatch[]> {
  return readStoredBatches(broker, topic, partition);
}

async function readRecords(topic: string, partition: number, broker?: StartedBroker): Promise<KafkaRecord[]> {
  return (await readBatches(topic, partition, broker)).flatMap((b) => b.records);
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sameBytes(a: Buffer | null, b: Buffer | null, what: string): void {
  if (a === null || b === null) assert.equal(a, b, what);
  else assert.ok(a.equals(b), `${what}: ${a.toString('latin1')} != ${b.toString('latin1')}`);
}

describe('Producer', () => {
  it('round trip: keyed and unkeyed records with headers and timestamps, keys on partitionForKey', async () => {
    await createTopic('rt', 3);
    await using p = producer();
    const BASE = 1_700_000_000_000;
    const keyed = Array.from({ length: 60 }, (_, i) => ({
      key: text(`key-${i}`),
      value: i % 7 === 3 ? null : text(`value ${i} ünïcødé ✓`),
      headers: [
        { key: 'h', value: text(`h${i}`) },
        { key: 'dup', value: 'first' },
        { key: 'dup', value: 'second' },
        { key: 'empty', value: Buffer.alloc(0) },
        { key: 'null', value: null },
      ],
      timestamp: BASE + i * 1000,
    }));
    const before = Date.now();
    const sent = await Promise.all([
      ...keyed.map((r) => p.send({ topic: 'rt', ...r })),
      ...Array.from({ length: 20 }, (_, i) =>
        p.send({
          topic: 'rt',
          value: text(`unkeyed ${i}`),
          headers: { a: 'x', multi: ['1', text('2')], skipped: undefined },
        }),
      ),
    ]);
    const afterSend = Date.now();
    const stored = await Promise.all([0, 1, 2].map((part) => readRecords('rt', part)));
    assert.equal(stored.flat().length, 80);
    for (const [i, r] of keyed.entries()) {
      const report = sent[i]!;
      assert.equal(report.topic, 'rt');
      assert.equal(report.partition, partitionForKey(r.key, 3), `record ${i}: partition`);
      assert.equal(report.timestamp, r.timestamp);
      const rec = stored[report.partition]!.find((s) => s.offset === report.offset)!;
      assert.ok(rec !== undefined, `record ${i} at ${report.partition}/${report.offset}`);
      sameBytes(rec.key, r.key, `record ${i} key`);
      sameBytes(rec.value, r.value, `record ${i} value`);
      assert.equal(rec.timestamp, BigInt(r.timestamp));
      assert.deepEqual(
        rec.headers.map((h) => [h.key, h.value?.toString('latin1') ?? null]),
        [
          ['h', `h${i}`],
          ['dup', 'first'],
          ['dup', 'second'],
          ['empty', ''],
          ['null', null],
        ],
      );
    }
    for (let i = 0; i < 20; i++) {
      const report = sent[60 + i]!;
      const rec = stored[report.partition]!.find((s) => s.offset === report.offset)!;
      assert.equal(rec.key, null);
      assert.equal(rec.value?.toString(), `unkeyed ${i}`);
      assert.ok(report.timestamp >= before && report.timestamp <= afterSend, 'default timestamp is the send time');
      assert.equal(rec.timestamp, BigInt(report.timestamp));
      assert.deepEqual(
        rec.headers.map((h) => [h.key, h.value?.toString() ?? null]),
        [
          ['a', 'x'],
          ['multi', '1'],
          ['multi', '2'],
        ],
      );
    }
    // Offsets are contiguous per partition and each one was reported once.
    for (let part = 0; part < 3; part++) {
      const offsets = sent.filter((r) => r.partition === part).map((r) => r.offset);
      offsets.sort((a, b) => (a < b ? -1 : 1));
      assert.deepEqual(
        offsets,
        stored[part]!.map((r) => r.offset),
      );
    }
  });

  it('typed keys and values through serializers; sendBatch reports in order', async () => {
    await createTopic('typed', 2);
    await using p = producer<string | null, { n: number }>({
      keySerializer: stringSerializer,
      valueSerializer: (v) => text(JSON.stringify(v)),
    });
    const reports = await p.sendBatch(
      Array.from({ length: 30 }, (_, n) => ({ topic: 'typed', key: `k${n}`, value: { n } })),
    );
    assert.equal(reports.length, 30);
    const stored = [...(await readRecords('typed', 0)), ...(await readRecords('typed', 1))];
    for (const [n, r] of reports.entries()) {
      assert.equal(r.partition, partitionForKey(text(`k${n}`), 2));
      const rec = stored.find((s) => s.key?.toString() === `k${n}`)!;
      assert.deepEqual(JSON.parse(rec.value!.toString()), { n });
      assert.equal(rec.offset, r.offset);
    }
  });

  it('null keys stick to one partition until its batch is sent, then move to another (KIP-480)', async () => {
    await createTopic('sticky', 4);
    await using p = producer({ lingerMs: 20 });
    let previous = -1;
    for (let burst = 0; burst < 6; burst++) {
      const reports = await Promise.all(
        Array.from({ length: 25 }, (_, i) => p.send({ topic: 'sticky', value: text(`b${burst}-${i}`) })),
      );
      const parts = new Set(reports.map((r) => r.partition));
      assert.equal(parts.size, 1, `burst ${burst} went to partitions ${[...parts]}`);
      const [part] = parts;
      assert.notEqual(part, previous, `burst ${burst} stayed on partition ${part}`);
      previous = part!;
    }

    // Bursts larger than a batch: a full batch moves the sticky partition on, as long as the partition could send
    // it at once. A partition whose closed batch still waits (here: the whole burst comes in one tick, before the
    // sender runs) lets its next batch grow, as keyed batches do, up to 16 times batchSize.
    await createTopic('sticky-full', 4);
    await using small = producer({ lingerMs: 20, batchSize: 1000 });
    const reports = await Promise.all(
      Array.from({ length: 200 }, (_, i) => small.send({ topic: 'sticky-full', value: Buffer.alloc(200, i) })),
    );
    const runs: number[][] = [];
    for (const r of reports) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[0] === r.partition) last.push(r.partition);
      else runs.push([r.partition]);
    }
    // The first batch was sent at batchSize (nothing waited before it) and moved the partition on.
    assert.ok(runs.length >= 2, `${runs.length} runs`);
    assert.ok(runs[0]!.length <= 5, `a first run of ${runs[0]!.length} records of 200 bytes in 1000-byte batches`);
    const stored = await Promise.all([0, 1, 2, 3].map((part) => readBatches('sticky-full', part)));
    const batchSizes = stored.flatMap((batches) => batches.map((b) => b.records.length));
    assert.equal(
      batchSizes.reduce((a, n) => a + n, 0),
      200,
    );
    assert.ok(Math.max(...batchSizes) > 5, `a waiting partition's next batch grew: ${batchSizes}`);
    for (const n of batchSizes) assert.ok(n <= 16 * 5, `batches stay within 16 x batchSize: ${batchSizes}`);
  });

  it("murmur2_random (librdkafka's), round-robin and custom partitioners", async () => {
    await createTopic('parts', 3);
    await using m = producer({ partitioner: 'murmur2_random' });
    const keyed = await Promise.all(
      Array.from({ length: 30 }, (_, i) => m.send({ topic: 'parts', key: text(`k-${i}`), value: null })),
    );
    for (const [i, r] of keyed.entries()) assert.equal(r.partition, partitionForKey(text(`k-${i}`), 3));
    const unkeyed = await Promise.all(Array.from({ length: 60 }, () => m.send({ topic: 'parts', value: text('x') })));
    assert.ok(new Set(unkeyed.map((r) => r.partition)).size > 1, 'random null-key placement');

    await using rr = producer({ partitioner: 'round-robin' });
    const spread = await Promise.all(
      Array.from({ length: 9 }, (_, i) => rr.send({ topic: 'parts', key: text('same key'), value: text(`${i}`) })),
    );
    assert.deepEqual(
      spread.map((r) => r.partition),
      [0, 1, 2, 0, 1, 2, 0, 1, 2],
    );

    await using custom = producer({
      partitioner: ({ key, partitionCount }) => (key === null ? 0 : partitionCount - 1),
    });
    const c = await Promise.all([
      custom.send({ topic: 'parts', key: text('a'), value: null }),
      custom.send({ topic: 'parts', value: null }),
      custom.send({ topic: 'parts', key: text('b'), value: null, partition: 1 }),
    ]);
    assert.deepEqual(
      c.map((r) => r.partition),
      [2, 0, 1],
    );
  });

  it('every codec: stored batches carry it and the records come back intact', async () => {
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
    for (const [id, compression] of codecs.entries()) {
      const topic = `codec-${compression}`;
      await createTopic(topic, 1);
      await using p = producer({ compression, lingerMs: 10 });
      const values = Array.from({ length: 300 }, (_, i) => text(`record ${i} ${'lorem ipsum '.repeat(i % 20)}`));
      const reports = await p.sendBatch(
        values.map((value, i) => ({ topic, key: text(`k${i}`), value, headers: [{ key: 'i', value: `${i}` }] })),
      );
      assert.deepEqual(
        reports.map((r) => Number(r.offset)),
        values.map((_, i) => i),
      );
      const batches = await readBatches(topic, 0);
      assert.ok(batches.length >= 1);
      for (const b of batches) assert.equal(b.compression, id, `${compression}: stored batch compression`);
      const records = batches.flatMap((b) => b.records);
      assert.equal(records.length, values.length);
      for (const [i, r] of records.entries()) {
        sameBytes(r.value, values[i]!, `${compression} record ${i}`);
        assert.equal(r.key?.toString(), `k${i}`);
        assert.equal(r.headers[0]?.value?.toString(), `${i}`);
      }
    }
  });

  it('a partition that waits for its batch in flight lets the next batch grow past batchSize', async () => {
    await createTopic('grow', 1);
    await using p = producer({ batchSize: 1000, lingerMs: 0 });
    const reports = await p.sendBatch(
      Array.from({ length: 600 }, (_, i) => ({
        topic: 'grow',
        key: i % 2 ? null : text(`${i}`),
        value: Buffer.alloc(100, i),
      })),
    );
    assert.deepEqual(
      reports.map((r) => Number(r.offset)),
      reports.map((_, i) => i),
    );
    const batches = await readBatches('grow', 0);
    const sizes = batches.map((b) => b.records.length);
    assert.ok(sizes[0]! <= 9, `the first batch (nothing in flight yet) keeps to batchSize: ${sizes[0]} records`);
    assert.ok(Math.max(...sizes) > 9, `later batches grew: ${sizes}`);
    assert.ok(batches.length < 30, `${batches.length} batches for 600 records of 100 bytes`);
    assert.equal(p.metrics().requests, batches.length);
  });

  it('a batch larger than max.message.bytes is split and sent again, in order', async () => {
    await createTopic('split', 1, { 'max.message.bytes': '5000' });
    await using p = producer({ batchSize: 20_000, lingerMs: 20 });
    const reports = await p.sendBatch(
      Array.from({ length: 40 }, (_, i) => ({ topic: 'split', value: Buffer.alloc(500, i) })),
    );
    assert.deepEqual(
      reports.map((r) => Number(r.offset)),
      reports.map((_, i) => i),
    );
    assert.ok(p.metrics().splits >= 2, `splits: ${p.metrics().splits}`);
    const batches = await readBatches('split', 0);
    for (const b of batches) assert.ok(b.batchLength + 12 <= 5000, `a stored batch of ${b.batchLength + 12} bytes`);
    const records = batches.flatMap((b) => b.records);
    assert.equal(records.length, 40);
    for (const [i, r] of records.entries()) assert.ok(r.value!.equals(Buffer.alloc(500, i)), `record ${i}`);
  });

  it('acks 0 (no answer, offset -1), 1 and all', async () => {
    for (const acks of [0, 1, 'all'] as const) {
      const topic = `acks-${acks}`;
      await createTopic(topic, 1);
      const p = producer({ acks });
      const reports = await Promise.all(
        Array.from({ length: 20 }, (_, i) => p.send({ topic, value: text(`${acks}-${i}`) })),
      );
      await p.close();
      if (acks === 0) for (const r of reports) assert.equal(r.offset, -1n);
      else
        assert.deepEqual(
          reports.map((r) => r.offset),
          Array.from({ length: 20 }, (_, i) => BigInt(i)),
        );
      // acks=0 has no answer to wait for: the records arrive shortly after they are written.
      let stored: KafkaRecord[] = [];
      for (let i = 0; i < 50 && stored.length < 20; i++) {
        stored = await readRecords(topic, 0);
        if (stored.length < 20) await sleep(20);
      }
      assert.deepEqual(
        stored.map((r) => r.value!.toString()),
        Array.from({ length: 20 }, (_, i) => `${acks}-${i}`),
      );
    }
  });

  it('flush sends at once and resolves after every delivery; close flushes and then refuses records', async () => {
    await createTopic('flush', 2);
    const p = producer({ lingerMs: 60_000 });
    const settled: DeliveryReport[] = [];
    const pending = Array.from({ length: 10 }, (_, i) =>
      p.send({ topic: 'flush', key: text(`${i}`), value: text(`v${i}`) }).then((r) => {
        settled.push(r);
        return r;
      }),
    );
    await p.flush();
    assert.equal(settled.length, 10, 'every record was acknowledged when flush resolved');
    await Promise.all(pending);
    await p.flush(); // nothing pending: resolves at once

    const late = Array.from({ length: 5 }, (_, i) => p.send({ topic: 'flush', value: text(`late ${i}`) }));
    await p.close();
    const reports = await Promise.all(late);
    assert.equal(reports.length, 5);
    await assert.rejects(p.send({ topic: 'flush', value: null }), KafkaClientError);
    await p.close(); // closing twice is fine
    const stored = [...(await readRecords('flush', 0)), ...(await readRecords('flush', 1))];
    assert.equal(stored.length, 15);
  });

  it('topics with LogAppendTime report the broker append time', async () => {
    await createTopic('append-time', 1, { 'message.timestamp.type': 'LogAppendTime' });
    await using p = producer();
    const before = Date.now();
    const r = await p.send({ topic: 'append-time', value: text('x'), timestamp: 1000 });
    assert.ok(r.timestamp >= before && r.timestamp <= Date.now(), `timestamp ${r.timestamp}`);
    const [rec] = await readRecords('append-time', 0);
    assert.equal(rec!.timestamp, BigInt(r.timestamp));
  });

  it('auto-creates unknown topics through metadata, as the Java producer does', async () => {
    await using p = producer();
    const reports = await Promise.all(
      Array.from({ length: 9 }, (_, i) => p.send({ topic: 'auto-created', key: text(`${i}`), value: text(`${i}`) })),
    );
    for (const [i, r] of reports.entries()) assert.equal(r.partition, partitionForKey(text(`${i}`), 3));
    assert.equal(kafka.broker.metadata.topic('auto-created')?.partitions.length, 3);

    // Records that wait for their topic's metadata keep their order and their bytes (the caller reuses its buffer).
    const buf = Buffer.alloc(8);
    const waited = [];
    for (let i = 0; i < 100; i++) {
      buf.writeBigInt64BE(BigInt(i));
      waited.push(p.send({ topic: 'auto-created-2', partition: 1, value: buf, headers: [{ key: 'i', value: buf }] }));
    }
    await Promise.all(waited);
    const stored = await readRecords('auto-created-2', 1);
    assert.deepEqual(
      stored.map((r) => [Number(r.value!.readBigInt64BE()), Number(r.headers[0]!.value!.readBigInt64BE())]),
      Array.from({ length: 100 }, (_, i) => [i, i]),
    );
  });

  it('errors: MESSAGE_TOO_LARGE from the broker and from maxRequestSize, bad records, unknown partitions', async () => {
    await createTopic('small', 2, { 'max.message.bytes': '1000' });
    await using p = producer({ maxRequestSize: 100_000 });
    const [big, fine] = await Promise.allSettled([
      p.send({ topic: 'small', value: Buffer.alloc(3000), partition: 0 }),
      p.send({ topic: 'small', value: Buffer.alloc(10), partition: 1 }),
    ]);
    assert.equal(big.status, 'rejected');
    const e = (big as PromiseRejectedResult).reason;
    assert.ok(e instanceof KafkaError, String(e));
    assert.equal(e.code, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(e.retriable, false);
    assert.equal(fine.status, 'fulfilled');

    await assert.rejects(
      p.send({ topic: 'small', value: Buffer.alloc(200_000) }),
      (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.MESSAGE_TOO_LARGE,
    );
    await assert.rejects(
      p.send({ topic: 'small', value: null, partition: 5 }),
      (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    await assert.rejects(
      p.send({ topic: 'small', value: null, headers: { bad: 42 as unknown as string } }),
      KafkaClientError,
    );
    await assert.rejects(p.send({ topic: 'small', value: 7 as unknown as Buffer }), KafkaClientError);
    await assert.rejects(p.send({ topic: 'small', value: null, timestamp: -5 }), KafkaClientError);
    assert.throws(() => producer({ acks: 2 as 1 }), KafkaClientError);
    assert.throws(() => producer({ compression: 'brotli' as 'gzip' }), KafkaClientError);
    assert.throws(() => producer({ deliveryTimeoutMs: 1000 }), KafkaClientError);
  });

  it('unknown topic with auto-creation off: UNKNOWN_TOPIC_OR_PARTITION; no broker: a timeout', async () => {
    const strict = await startBroker({ config: { 'auto.create.topics.enable': 'false' } });
    try {
      await using p = producer({}, strict);
      await assert.rejects(
        p.send({ topic: 'missing', value: text('x') }),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
      // The topic appears later: the next send finds it.
      await createTopic('missing', 1, {}, strict);
      const r = await p.send({ topic: 'missing', value: text('y') });
      assert.equal(r.offset, 0n);
    } finally {
      await strict.stop();
    }

    const nobody = new Producer({
      bootstrapServers: ['127.0.0.1:1'],
      maxBlockMs: 300,
      reconnectBackoffMs: 20,
      reconnectBackoffMaxMs: 50,
    });
    await assert.rejects(nobody.send({ topic: 't', value: null }), KafkaTimeoutError);
    await nobody.close();
  });

  it('retries keep the order: a broker restart mid-stream loses, duplicates and reorders nothing', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-producer-'));
    let broker = await startBroker({ dataDir });
    const port = broker.port;
    try {
      await createTopic('restart', 2, {}, broker);
      const p = producer({ lingerMs: 2, batchSize: 2000, retryBackoffMs: 20, reconnectBackoffMs: 20 }, broker);
      const sent: Promise<DeliveryReport>[] = [];
      const next = [0, 0];
      const keys = [text('a'), text('d')];
      const partOf = keys.map((k) => partitionForKey(k, 2));
      assert.notEqual(partOf[0], partOf[1], 'the two keys land on different partitions');
      const TOTAL = 3000;
      let stopping: Promise<void> = Promise.resolve();
      for (let i = 0; i < TOTAL; i++) {
        const k = i % 2;
        sent.push(p.send({ topic: 'restart', key: keys[k]!, value: text(`${next[k]!++}`) }));
        if (i % 100 === 99) await sleep(2);
        // The broker goes away while requests are in flight and records keep coming.
        if (i === 1000) stopping = broker.stop();
        if (i === 1500) {
          await stopping;
          await sleep(100);
          broker = await startBroker({ dataDir, port });
        }
      }
      const reports = await Promise.all(sent);
      await p.close();
      const m = p.metrics();
      assert.equal(m.recordsDelivered, TOTAL);
      assert.equal(m.recordsFailed, 0);
      // Whether a request was in flight when the connection dropped depends on timing (the proxy tests below make
      // retries happen for certain); either way nothing may be lost, doubled or reordered.
      t.diagnostic(`${m.requests} requests, ${m.retries} batches sent again`);
      for (let k = 0; k < 2; k++) {
        const stored = await readRecords('restart', partOf[k]!, broker);
        const values = stored.map((r) => Number(r.value!.toString()));
        assert.equal(values.length, TOTAL / 2, `partition ${partOf[k]}: ${values.length} records`);
        assert.deepEqual(
          values,
          values.map((_, i) => i),
          'in send order, once each',
        );
        const mine = reports.filter((r) => r.partition === partOf[k]).map((r) => r.offset);
        assert.deepEqual(
          mine,
          stored.map((r) => r.offset),
        );
      }
    } finally {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  describe('retriable and fatal broker errors (through a fault-injecting proxy)', () => {
    let proxy: FaultProxy;
    before(async () => {
      proxy = await FaultProxy.start({ host: kafka.host, port: kafka.port });
    });
    after(async () => {
      await proxy.close();
    });
    const viaProxy = (options: Partial<ProducerOptions> = {}): Producer =>
      new Producer({ bootstrapServers: [proxy.bootstrap], clientId: 'producer-fault-test', ...options });

    it('NOT_LEADER_OR_FOLLOWER: metadata refresh, retry, and the partition order is kept', async () => {
      await createTopic('moved', 2);
      const p = viaProxy({ lingerMs: 1, batchSize: 300, retryBackoffMs: 10 });
      const start = proxy.produceRequests;
      // The 2nd, 3rd and 7th Produce requests fail for every partition they carry.
      proxy.produceFault = (_req, n) => ([2, 3, 7].includes(n - start) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : null);
      const metadataBefore = proxy.counts.get(3) ?? 0;
      const sent: Promise<DeliveryReport>[] = [];
      for (let i = 0; i < 400; i++) {
        sent.push(p.send({ topic: 'moved', partition: i % 2, value: text(`${i >> 1}`) }));
        if (i % 40 === 39) await sleep(1);
      }
      const reports = await Promise.all(sent);
      await p.close();
      proxy.produceFault = null;
      assert.ok(p.metrics().retries >= 3, `retries: ${p.metrics().retries}`);
      assert.ok((proxy.counts.get(3) ?? 0) > metadataBefore + 1, 'metadata was refreshed after the errors');
      for (const part of [0, 1]) {
        const values = (await readRecords('moved', part)).map((r) => Number(r.value!.toString()));
        assert.deepEqual(
          values,
          Array.from({ length: 200 }, (_, i) => i),
          `partition ${part} in order, once each`,
        );
        assert.deepEqual(
          reports.filter((r) => r.partition === part).map((r) => r.offset),
          Array.from({ length: 200 }, (_, i) => BigInt(i)),
        );
      }
    });

    it('retries end after `retries` attempts with the last error; deliveryTimeoutMs bounds them', async () => {
      await createTopic('flaky', 1);
      const p = viaProxy({ retries: 2, retryBackoffMs: 5 });
      const start = proxy.produceRequests;
      proxy.produceFault = () => ErrorCode.NOT_ENOUGH_REPLICAS;
      await assert.rejects(
        p.send({ topic: 'flaky', value: text('x') }),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_ENOUGH_REPLICAS && e.retriable,
      );
      assert.equal(proxy.produceRequests - start, 3, 'one send and two retries');
      await p.close();

      const q = viaProxy({ retryBackoffMs: 20, requestTimeoutMs: 200, deliveryTimeoutMs: 400 });
      await assert.rejects(q.send({ topic: 'flaky', value: text('y') }), (e: unknown) => {
        assert.ok(e instanceof KafkaTimeoutError, String(e));
        assert.ok(e.cause instanceof KafkaError && e.cause.code === ErrorCode.NOT_ENOUGH_REPLICAS);
        return true;
      });
      await q.close();
      proxy.produceFault = null;
    });

    it('a non-retriable error fails the batch at once; the partition goes on with the next one', async () => {
      await createTopic('fatal', 1);
      const p = viaProxy();
      const start = proxy.produceRequests;
      proxy.produceFault = (_req, n) => (n === start + 1 ? ErrorCode.INVALID_RECORD : null);
      await assert.rejects(p.send({ topic: 'fatal', value: text('x') }), (e: unknown) => {
        assert.ok(e instanceof KafkaError && e.code === ErrorCode.INVALID_RECORD && !e.retriable, String(e));
        assert.match(e.message, /fatal-0/);
        return true;
      });
      assert.equal(proxy.produceRequests - start, 1, 'not retried');
      const r = await p.send({ topic: 'fatal', value: text('y') });
      proxy.produceFault = null;
      await p.close();
      assert.equal(r.offset, 0n);
      assert.deepEqual(
        (await readRecords('fatal', 0)).map((rec) => rec.value!.toString()),
        ['y'],
      );
    });
  });
});
