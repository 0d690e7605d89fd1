/**
 * The broker in this process (startBroker), driven over real sockets with the generated codecs: produce and fetch
 * round trips byte for byte, offsets, long polls, fetch sessions, ListOffsets, and Kafka's answers to bad input,
 * each while other clients keep being served.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import {
  decodeRecordBatches,
  ErrorCode,
  encodeRecordBatch,
  type FetchResponse,
  type ListOffsetsResponse,
} from '../../src/protocol/index.js';
import { RawClient } from './raw-client.js';

function batch(values: string[], opts: { compression?: number; timestamp?: bigint; key?: string } = {}): Buffer {
  const ts = opts.timestamp ?? 1_700_000_000_000n;
  return encodeRecordBatch({
    compression: opts.compression ?? 0,
    baseTimestamp: ts,
    records: values.map((v, i) => ({
      key: opts.key ?? null,
      value: v,
      timestamp: ts + BigInt(i),
      headers: [{ key: 'h', value: `hv-${v}` }],
    })),
  });
}

function produceBody(topic: string, partition: number, records: Buffer | null, acks = -1) {
  return { acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
}

function fetchBody(topic: string, partition: number, offset: bigint, extra: Record<string, unknown> = {}) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1024 * 1024 }] }],
    ...extra,
  };
}

function partitionOf(res: FetchResponse) {
  return res.responses[0]!.partitions[0]!;
}

describe('single-node broker, in process', () => {
  let kafka: StartedBroker;
  let client: RawClient;

  before(async () => {
    kafka = await startBroker({ config: { 'num.partitions': '3' } });
    client = await RawClient.connect(kafka.port);
  });

  after(async () => {
    client.close();
    await kafka.stop();
  });

  it('auto-creates a topic on Metadata and describes it with this node as leader', async () => {
    const md = await client.metadata(12, { topics: [{ name: 'auto' }], allowAutoTopicCreation: true });
    assert.equal(md.topics[0]!.errorCode, 0);
    assert.equal(md.topics[0]!.partitions.length, 3);
    assert.deepEqual(md.brokers, [{ nodeId: 1, host: '127.0.0.1', port: kafka.port, rack: null }]);
    assert.equal(md.controllerId, 1);
    for (const p of md.topics[0]!.partitions) {
      assert.equal(p.leaderId, 1);
      assert.deepEqual(p.isrNodes, [1]);
    }
    const byId = await client.metadata(12, { topics: [{ topicId: md.topics[0]!.topicId, name: null }] });
    assert.equal(byId.topics[0]!.name, 'auto');
    const no = await client.metadata(12, { topics: [{ name: 'not-created' }], allowAutoTopicCreation: false });
    assert.equal(no.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const bad = await client.metadata(12, { topics: [{ name: 'bad name!' }], allowAutoTopicCreation: true });
    assert.equal(bad.topics[0]!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it('stores batches byte for byte and serves them back with contiguous offsets', async () => {
    await client.metadata(12, { topics: [{ name: 'rt' }], allowAutoTopicCreation: true });
    const sent: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const b = batch([`a${i}`, `b${i}`, `c${i}`], { compression: i % 5 });
      sent.push(Buffer.from(b));
      const res = await client.produce(9, produceBody('rt', 1, b));
      const pr = res.responses[0]!.partitionResponses[0]!;
      assert.equal(pr.errorCode, 0);
      assert.equal(pr.baseOffset, BigInt(i * 3));
    }
    const res = await client.fetch(12, fetchBody('rt', 1, 0n));
    const p = partitionOf(res);
    assert.equal(p.errorCode, 0);
    assert.equal(p.highWatermark, 15n);
    const batches = decodeRecordBatches(p.records!);
    assert.deepEqual(
      batches.flatMap((b) => b.records.map((r) => [r.offset, r.value!.toString()])),
      Array.from({ length: 15 }, (_, i) => [BigInt(i), `${'abc'[i % 3]}${Math.floor(i / 3)}`]),
    );
    // The stored bytes are the producer's except base offset (0..7) and partition leader epoch (12..15).
    let pos = 0;
    for (const s of sent) {
      const size = s.length;
      const got = p.records!.subarray(pos, pos + size);
      assert.deepEqual(got.subarray(16), s.subarray(16));
      assert.deepEqual(got.subarray(8, 12), s.subarray(8, 12));
      pos += size;
    }
  });

  it('answers ListOffsets for earliest, latest, a timestamp and the max timestamp', async () => {
    await client.metadata(12, { topics: [{ name: 'lo' }], allowAutoTopicCreation: true });
    for (let i = 0; i < 3; i++) {
      await client.produce(9, produceBody('lo', 0, batch(['x', 'y'], { timestamp: 1_000_000n * BigInt(i + 1) })));
    }
    const ask = (timestamp: bigint) =>
      client.listOffsets(7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'lo', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
      });
    const get = (r: ListOffsetsResponse) => r.topics[0]!.partitions[0]!;
    assert.equal(get(await ask(-2n)).offset, 0n);
    assert.equal(get(await ask(-1n)).offset, 6n);
    assert.equal(get(await ask(2_000_000n)).offset, 2n);
    assert.equal(get(await ask(2_000_001n)).offset, 3n);
    assert.equal(get(await ask(9_000_000n)).offset, -1n);
    const max = get(await ask(-3n));
    assert.deepEqual([max.offset, max.timestamp], [5n, 3_000_001n]);
  });

  it('completes a long-poll fetch as soon as data arrives', async () => {
    await client.metadata(12, { topics: [{ name: 'lp' }], allowAutoTopicCreation: true });
    const other = await RawClient.connect(kafka.port);
    try {
      let done = false;
      const waiting = other.fetch(12, fetchBody('lp', 0, 0n, { maxWaitMs: 60_000, minBytes: 1 })).then((r) => {
        done = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(done, false, 'an empty partition must make the fetch wait');
      await client.produce(9, produceBody('lp', 0, batch(['wake'])));
      const res = await waiting;
      const recs = decodeRecordBatches(partitionOf(res).records!).flatMap((b) => b.records);
      assert.deepEqual(
        recs.map((r) => r.value!.toString()),
        ['wake'],
      );
    } finally {
      other.close();
    }
  });

  it('keeps a fetch session and sends only changed partitions in incremental fetches', async () => {
    await client.metadata(12, { topics: [{ name: 'fs' }], allowAutoTopicCreation: true });
    const parts = [0, 1, 2].map((partition) => ({ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }));
    const full = await client.fetch(12, {
      ...fetchBody('fs', 0, 0n),
      sessionEpoch: 0,
      topics: [{ topic: 'fs', partitions: parts }],
    });
    assert.ok(full.sessionId > 0);
    assert.equal(full.responses[0]!.partitions.length, 3);
    await client.produce(9, produceBody('fs', 2, batch(['s'])));
    const inc = await client.fetch(12, {
      ...fetchBody('fs', 0, 0n),
      sessionId: full.sessionId,
      sessionEpoch: 1,
      topics: [],
    });
    assert.equal(inc.errorCode, 0);
    assert.deepEqual(
      inc.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)),
      [2],
    );
    const stale = await client.fetch(12, {
      ...fetchBody('fs', 0, 0n),
      sessionId: full.sessionId,
      sessionEpoch: 1,
      topics: [],
    });
    assert.equal(stale.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    const unknown = await client.fetch(12, {
      ...fetchBody('fs', 0, 0n),
      sessionId: 12345,
      sessionEpoch: 3,
      topics: [],
    });
    assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('answers bad produce input with Kafka error codes and stores nothing', async () => {
    await client.metadata(12, { topics: [{ name: 'bad' }], allowAutoTopicCreation: true });
    const code = async (body: unknown) =>
      (await client.produce(9, body as never)).responses[0]!.partitionResponses[0]!.errorCode;
    const corrupt = batch(['x']);
    corrupt[corrupt.length - 1]! ^= 0xff;
    assert.equal(await code(produceBody('bad', 0, corrupt)), ErrorCode.CORRUPT_MESSAGE);
    const truncated = batch(['x']).subarray(0, 40);
    assert.equal(await code(produceBody('bad', 0, truncated)), ErrorCode.CORRUPT_MESSAGE);
    const big = batch(['x'.repeat(2 * 1024 * 1024)]);
    assert.equal(await code(produceBody('bad', 0, big)), ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(await code(produceBody('bad', -1, batch(['x']))), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(await code(produceBody('bad', 7, batch(['x']))), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(await code(produceBody('nope', 0, batch(['x']))), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(await code(produceBody('bad', 0, batch(['x']), 2)), ErrorCode.INVALID_REQUIRED_ACKS);
    const two = Buffer.concat([batch(['x']), batch(['y'])]);
    assert.equal(await code(produceBody('bad', 0, two)), ErrorCode.INVALID_RECORD);
    const res = await client.fetch(12, fetchBody('bad', 0, 0n));
    assert.equal(partitionOf(res).highWatermark, 0n, 'nothing was stored');
    assert.equal(partitionOf(res).records!.length, 0);
    const out = await client.fetch(12, fetchBody('bad', 0, 5n));
    assert.equal(partitionOf(out).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it('applies topic configs on produce: compression.type recompresses, timestamps are bounded or set by the broker', async () => {
    const create = (name: string, configs: Record<string, string>) =>
      client.request(19, 7, {
        topics: [
          {
            name,
            numPartitions: 1,
            replicationFactor: 1,
            assignments: [],
            configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
          },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
    await create('zstd-topic', { 'compression.type': 'zstd' });
    await create('bounded-ts', { 'message.timestamp.before.max.ms': '60000' });
    await create('append-time', { 'message.timestamp.type': 'LogAppendTime' });

    const sent = batch(['r1', 'r2', 'r3'], { compression: 1 });
    assert.equal(
      (await client.produce(9, produceBody('zstd-topic', 0, sent))).responses[0]!.partitionResponses[0]!.errorCode,
      0,
    );
    const [stored] = decodeRecordBatches(partitionOf(await client.fetch(12, fetchBody('zstd-topic', 0, 0n))).records!);
    assert.equal(stored!.compression, 4, 'stored with the topic codec');
    assert.deepEqual(
      stored!.records.map((r) => [r.value!.toString(), r.timestamp, r.headers[0]!.value!.toString()]),
      [0, 1, 2].map((i) => [`r${i + 1}`, 1_700_000_000_000n + BigInt(i), `hv-r${i + 1}`]),
    );

    const old = await client.produce(9, produceBody('bounded-ts', 0, batch(['old'], { timestamp: 1_000n })));
    assert.equal(old.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.INVALID_TIMESTAMP);
    const fresh = await client.produce(
      9,
      produceBody('bounded-ts', 0, batch(['new'], { timestamp: BigInt(Date.now()) })),
    );
    assert.equal(fresh.responses[0]!.partitionResponses[0]!.errorCode, 0);

    const before = BigInt(Date.now());
    const res = await client.produce(9, produceBody('append-time', 0, batch(['t'], { timestamp: 5n })));
    const appendTime = res.responses[0]!.partitionResponses[0]!.logAppendTimeMs;
    assert.ok(appendTime >= before, 'the broker reports its append time');
    const [b] = decodeRecordBatches(partitionOf(await client.fetch(12, fetchBody('append-time', 0, 0n))).records!);
    assert.equal(b!.timestampType, 1);
    assert.equal(b!.records[0]!.timestamp, appendTime);
  });

  it('closes a connection on garbage, unknown API keys, unsupported versions and oversized frames; others are unaffected', async () => {
    const frames = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0, 0, 0, 10, 0x7f, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]),
      Buffer.from([0, 0, 0, 10, 0, 3, 0, 99, 0, 0, 0, 1, 0, 0]),
      Buffer.from([0x7f, 0xff, 0xff, 0xff]),
    ];
    for (const bytes of frames) {
      const c = await RawClient.connect(kafka.port);
      c.writeRaw(bytes);
      await c.waitClosed();
    }
    // A client that disconnects in the middle of a request.
    const half = await RawClient.connect(kafka.port);
    half.writeRaw(Buffer.from([0, 0, 1, 0, 0, 3, 0, 1]));
    half.close();
    const md = await client.metadata(12, { topics: null });
    assert.ok(md.topics.length > 0, 'the broker still serves the first client');
  });

  it('closes an acks=0 connection whose produce failed, since it has no response to carry the error', async () => {
    const c = await RawClient.connect(kafka.port);
    void c.produce(9, produceBody('missing-topic', 0, batch(['x']), 0)).catch(() => {});
    await c.waitClosed();
  });
});

describe('restart', () => {
  it('keeps topics, configs and acknowledged data across a clean stop and start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-restart-'));
    const a = await startBroker({ dataDir: dir });
    let c = await RawClient.connect(a.port);
    await c.request(19, 7, {
      topics: [
        {
          name: 'kept',
          numPartitions: 2,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'retention.ms', value: '123456' }],
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    for (let i = 0; i < 10; i++) await c.produce(9, produceBody('kept', i % 2, batch([`m${i}`])));
    c.close();
    await a.stop();
    const b = await startBroker({ dataDir: dir });
    try {
      c = await RawClient.connect(b.port);
      const md = await c.metadata(12, { topics: [{ name: 'kept' }], allowAutoTopicCreation: false });
      assert.equal(md.topics[0]!.partitions.length, 2);
      const values: string[] = [];
      for (const p of [0, 1]) {
        const res = await c.fetch(12, fetchBody('kept', p, 0n));
        values.push(
          ...decodeRecordBatches(partitionOf(res).records!).flatMap((x) => x.records.map((r) => r.value!.toString())),
        );
      }
      assert.deepEqual(values.sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
      const info = b.broker.metadata.topic('kept')!;
      assert.equal(info.configs['retention.ms'], '123456');
      c.close();
    } finally {
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
