/**
 * The Consumer against a real broker in process, partitions assigned by hand (no group membership): reading back
 * every codec byte for byte (keys, values, headers, timestamps), seeks (offset, beginning, end, timestamp), pause
 * and resume, autoOffsetReset (earliest, latest, none, out of range), a long poll completed by an arriving message,
 * AbortSignal ending the iterator and consume() cleanly, commit/committed, typed deserializers, a broker restart, the
 * next fetch travelling while the application holds a message (pipelining) with the prefetch bounded, incremental
 * fetch sessions as seen on the wire (and without them; a lost session replaced), and fetch answers turned into
 * NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH by a proxy (metadata refreshed, nothing lost).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StartedBroker } from '../../src/broker/start-broker.js';
import { Consumer, type ConsumerMessage, type ConsumerOptions } from '../../src/client/consumer/index.js';
import { KafkaClientError } from '../../src/client/errors.js';
import { stringDeserializer } from '../../src/client/serde.js';
import {
  apiSpec,
  ErrorCode,
  type FetchRequest,
  type FetchResponse,
  KafkaError,
  Reader,
  readRequestHeader,
  readResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeResponseHeader,
} from '../../src/protocol/index.js';
import {
  assertSameRecord,
  BASE_TIMESTAMP,
  CODEC_ID,
  CODECS,
  createTopic,
  produceRecords,
  RawProducer,
  startTestBroker,
  take,
  waitFor,
} from './consumer-helpers.js';

let kafka: StartedBroker;
let producer: RawProducer;

before(async () => {
  kafka = await startTestBroker();
  producer = await RawProducer.connect(kafka);
});

after(async () => {
  producer.close();
  await kafka.stop();
});

function consumer(options: Partial<ConsumerOptions> = {}): Consumer {
  return new Consumer<Buffer | null, Buffer | null>({
    bootstrapServers: [kafka.bootstrap],
    clientId: 'consumer-test',
    fetchMaxWaitMs: 100,
    ...options,
  });
}

describe('Consumer (assigned partitions)', () => {
  it('reads back keys, values, headers and timestamps byte for byte with every codec', async () => {
    for (const codec of CODECS) {
      const topic = `codec-${codec}`;
      await createTopic(kafka, topic, 2);
      const produced = [
        await produceRecords(producer, topic, 0, { count: 300, batchSize: 37, compression: CODEC_ID[codec] }),
        await produceRecords(producer, topic, 1, { count: 120, batchSize: 50, compression: CODEC_ID[codec] }),
      ];
      await using c = consumer({ maxPartitionFetchBytes: 8192 });
      c.assign([
        { topic, partition: 0, offset: 0n },
        { topic, partition: 1, offset: 0n },
      ]);
      const got = await take(c[Symbol.asyncIterator](), 420);
      const next = [0n, 0n];
      for (const m of got) {
        assertSameRecord(m, produced[m.partition]![Number(next[m.partition])]!, next[m.partition]!, codec);
        next[m.partition]!++;
      }
      assert.deepEqual(next, [300n, 120n], `${codec}: every record once`);
    }
  });

  it('seeks to an offset inside a compressed batch, to the beginning, to the end and to a timestamp', async () => {
    const topic = 'seeks';
    await createTopic(kafka, topic, 1);
    const produced = await produceRecords(producer, topic, 0, { count: 100, batchSize: 20, compression: CODEC_ID.lz4 });
    await using c = consumer();
    c.assign([{ topic, partition: 0, offset: 0n }]);
    const it = c[Symbol.asyncIterator]();
    assert.equal((await take(it, 1))[0]!.offset, 0n);

    c.seek(topic, 0, 47n);
    const fromSeek = await take(it, 5);
    for (const [i, m] of fromSeek.entries()) assertSameRecord(m, produced[47 + i]!, 47n + BigInt(i), 'seek');
    assert.equal(await c.position(topic, 0), 52n);

    c.seekToBeginning();
    assertSameRecord((await take(it, 1))[0]!, produced[0]!, 0n, 'seekToBeginning');

    // Record i has timestamp BASE + 10i: BASE + 615 falls between records 61 and 62.
    c.seekToTimestamp(BASE_TIMESTAMP + 615n);
    assertSameRecord((await take(it, 1))[0]!, produced[62]!, 62n, 'seekToTimestamp');
    c.seekToTimestamp(BASE_TIMESTAMP + 10n * 33n);
    assertSameRecord((await take(it, 1))[0]!, produced[33]!, 33n, 'seekToTimestamp (exact)');

    const [between] = await c.offsetsForTimes([{ topic, partition: 0, timestamp: BASE_TIMESTAMP + 615n }]);
    assert.deepEqual(between, { topic, partition: 0, offset: 62n, timestamp: BASE_TIMESTAMP + 620n, leaderEpoch: 0 });
    const [afterAll] = await c.offsetsForTimes([{ topic, partition: 0, timestamp: BASE_TIMESTAMP + 5000n }]);
    assert.equal(afterAll!.offset, null);

    c.seekToEnd();
    assert.equal(await c.position(topic, 0), 100n);
    await produceRecords(producer, topic, 0, { count: 1, batchSize: 1, from: 100 });
    assert.equal((await take(it, 1))[0]!.offset, 100n, 'after seekToEnd only new messages come');
    // A timestamp after every message: the end.
    c.seekToTimestamp(BASE_TIMESTAMP + 1_000_000n);
    assert.equal(await c.position(topic, 0), 101n);
    assert.deepEqual(await c.beginningOffsets([{ topic, partition: 0 }]), [{ topic, partition: 0, offset: 0n }]);
    assert.deepEqual(await c.endOffsets([{ topic, partition: 0 }]), [{ topic, partition: 0, offset: 101n }]);
    await it.return?.();
  });

  it('pause stops a partition without losing its place; resume continues from there', async () => {
    const topic = 'pausing';
    await createTopic(kafka, topic, 2);
    await produceRecords(producer, topic, 0, { count: 30, batchSize: 10 });
    await produceRecords(producer, topic, 1, { count: 30, batchSize: 10 });
    await using c = consumer({ maxPartitionFetchBytes: 1024 });
    c.assign([
      { topic, partition: 0, offset: 0n },
      { topic, partition: 1, offset: 0n },
    ]);
    const it = c[Symbol.asyncIterator]();
    const first = (await take(it, 1))[0]!;
    const paused = { topic, partition: first.partition };
    const other = 1 - first.partition;
    c.pause([paused]);
    assert.deepEqual(c.paused(), [paused]);
    const whilePaused = await take(it, 30);
    assert.ok(
      whilePaused.every((m) => m.partition === other),
      'only the other partition is delivered while one is paused',
    );
    assert.equal(await c.position(topic, first.partition), 1n);
    c.resume([paused]);
    const rest = await take(it, 29);
    assert.deepEqual(
      rest.map((m) => [m.partition, m.offset]),
      Array.from({ length: 29 }, (_, i) => [first.partition, BigInt(i + 1)]),
    );
    await it.return?.();
  });

  it('starts by autoOffsetReset without a committed offset, and resets an out-of-range position', async () => {
    const topic = 'resets';
    await createTopic(kafka, topic, 1);
    await produceRecords(producer, topic, 0, { count: 10, batchSize: 10 });
    const tp = { topic, partition: 0 };
    {
      await using c = consumer({ autoOffsetReset: 'earliest' });
      c.assign([tp]);
      assert.equal((await take(c[Symbol.asyncIterator](), 1))[0]!.offset, 0n);
    }
    {
      await using c = consumer({ autoOffsetReset: 'latest' });
      c.assign([tp]);
      assert.equal(await c.position(topic, 0), 10n);
    }
    {
      await using c = consumer({ autoOffsetReset: 'none' });
      c.assign([tp]);
      await assert.rejects(c.position(topic, 0), KafkaClientError);
    }
    {
      // Out of range: with 'earliest' back to the start, with 'none' an OFFSET_OUT_OF_RANGE error.
      await using c = consumer({ autoOffsetReset: 'earliest' });
      c.assign([{ ...tp, offset: 1_000_000n }]);
      assert.equal((await take(c[Symbol.asyncIterator](), 1))[0]!.offset, 0n);
    }
    {
      await using c = consumer({ autoOffsetReset: 'none' });
      c.assign([{ ...tp, offset: 1_000_000n }]);
      await assert.rejects(
        take(c[Symbol.asyncIterator](), 1),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE,
      );
      // A seek makes the partition readable again.
      c.seek(topic, 0, 9n);
      assert.equal((await take(c[Symbol.asyncIterator](), 1))[0]!.offset, 9n);
    }
  });

  it('a long poll is completed by a message arriving while the fetch waits', async () => {
    const topic = 'long-poll';
    await createTopic(kafka, topic, 1);
    // The fetch waits up to 10 minutes: only an answer on arrival gets the message to us within the test's bound.
    await using c = consumer({ fetchMaxWaitMs: 600_000, requestTimeoutMs: 30_000 });
    c.assign([{ topic, partition: 0, offset: 0n }]);
    const it = c[Symbol.asyncIterator]();
    const next = it.next();
    await sleep(300);
    await producer.produce(topic, 0, { records: [{ value: 'arrived' }] });
    const bound = new AbortController();
    const r = await Promise.race([
      next,
      sleep(20_000, undefined, { signal: bound.signal }).then(
        () => 'timeout' as const,
        () => 'timeout' as const,
      ),
    ]);
    bound.abort();
    assert.notEqual(r, 'timeout', 'the waiting fetch was not answered when the message arrived');
    assert.equal((r as IteratorResult<ConsumerMessage>).value?.value?.toString(), 'arrived');
    await it.return?.();
  });

  it('an AbortSignal ends the iterator and consume() cleanly', async () => {
    const topic = 'abort';
    await createTopic(kafka, topic, 1);
    await produceRecords(producer, topic, 0, { count: 20, batchSize: 5 });
    await using c = consumer();
    c.assign([{ topic, partition: 0, offset: 0n }]);
    const ac = new AbortController();
    const seen: bigint[] = [];
    for await (const m of c.messages({ signal: ac.signal })) {
      seen.push(m.offset);
      if (seen.length === 5) ac.abort();
    }
    assert.deepEqual(seen, [0n, 1n, 2n, 3n, 4n]);
    // Waiting for messages that never come: the abort ends the wait.
    const idle = new AbortController();
    const waiting = (async () => {
      for await (const _ of c.messages({ signal: idle.signal })) {
        if (seen.push(_.offset) === 20) break;
      }
    })();
    await waitFor('the remaining 15 messages', () => seen.length === 20);
    await waiting;
    const ac2 = new AbortController();
    const done = c.consume({ eachMessage: () => {}, signal: ac2.signal });
    await sleep(200);
    ac2.abort();
    await done;
    // Batches: the first call gets the five messages from the position on, then the signal stops consume().
    c.seek(topic, 0, 15n);
    const ac3 = new AbortController();
    const batches: bigint[][] = [];
    await c.consume({
      eachBatch: (b) => {
        batches.push(b.messages.map((m) => m.offset));
        if (batches.flat().length === 5) ac3.abort();
      },
      signal: ac3.signal,
    });
    assert.deepEqual(batches.flat(), [15n, 16n, 17n, 18n, 19n]);
  });

  it('commits and reads back committed offsets; a new consumer of the group starts there', async () => {
    const topic = 'commits';
    await createTopic(kafka, topic, 2);
    await produceRecords(producer, topic, 0, { count: 10, batchSize: 10 });
    await produceRecords(producer, topic, 1, { count: 10, batchSize: 10 });
    const groupId = 'commit-group';
    {
      await using c = consumer({ groupId, enableAutoCommit: false, autoOffsetReset: 'earliest' });
      c.assign([
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);
      assert.deepEqual(
        (await c.committed([{ topic, partition: 0 }])).map((o) => o.offset),
        [null],
      );
      const it = c[Symbol.asyncIterator]();
      const got = await take(it, 20);
      assert.equal(got.length, 20);
      await c.commit([
        { topic, partition: 0, offset: 4n, metadata: 'four' },
        { topic, partition: 1, offset: 7n },
      ]);
      const committed = await c.committed([
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);
      assert.deepEqual(
        committed.map((o) => [o.partition, o.offset, o.metadata]),
        [
          [0, 4n, 'four'],
          [1, 7n, ''],
        ],
      );
      await it.return?.();
    }
    {
      await using c = consumer({ groupId, enableAutoCommit: false });
      c.assign([
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);
      assert.equal(await c.position(topic, 0), 4n);
      assert.equal(await c.position(topic, 1), 7n);
      const it = c[Symbol.asyncIterator]();
      await take(it, 3);
      await c.commit();
      await it.return?.();
    }
    {
      // commit() stored the positions: the message in hand counted.
      await using c = consumer({ groupId, autoCommitIntervalMs: 60_000 });
      c.assign([{ topic, partition: 0 }]);
      const it = c[Symbol.asyncIterator]();
      const first = (await take(it, 3)).map((m) => m.offset);
      assert.deepEqual(first, [7n, 8n, 9n]);
      // Leaving the loop leaves the message in hand unprocessed: auto commit on close stores the offset after the
      // last message the application asked past (at-least-once: message 9 comes again).
      await it.return?.();
      await c.close();
      const check = consumer({ groupId, enableAutoCommit: false });
      const [o] = await check.committed([{ topic, partition: 0 }]);
      await check.close();
      assert.equal(o!.offset, 9n, 'committed on close: after the last processed message');
    }
  });

  it('carries on after the broker restarts (connections lost and reopened)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-consumer-restart-'));
    let broker = await startTestBroker({}, { dataDir });
    const port = broker.port;
    try {
      await createTopic(broker, 'restart', 1);
      let raw = await RawProducer.connect(broker);
      await produceRecords(raw, 'restart', 0, { count: 20, batchSize: 10 });
      raw.close();
      await using c = new Consumer({ bootstrapServers: [broker.bootstrap], fetchMaxWaitMs: 100, retryBackoffMs: 50 });
      c.assign([{ topic: 'restart', partition: 0, offset: 0n }]);
      const it = c[Symbol.asyncIterator]();
      assert.equal((await take(it, 20)).at(-1)!.offset, 19n);
      await broker.stop();
      broker = await startTestBroker({}, { dataDir, port });
      raw = await RawProducer.connect(broker);
      await produceRecords(raw, 'restart', 0, { count: 5, batchSize: 5, from: 20 });
      raw.close();
      assert.deepEqual(
        (await take(it, 5)).map((m) => m.offset),
        [20n, 21n, 22n, 23n, 24n],
      );
      await it.return?.();
    } finally {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a partition of a missing topic does not hold up the others, and is read once the topic exists', async () => {
    await createTopic(kafka, 'present', 1);
    await produceRecords(producer, 'present', 0, { count: 3, batchSize: 3 });
    await using c = consumer({ autoOffsetReset: 'earliest', retryBackoffMs: 50 });
    c.assign([
      { topic: 'absent-for-now', partition: 0 },
      { topic: 'present', partition: 0 },
    ]);
    const it = c[Symbol.asyncIterator]();
    assert.deepEqual(
      (await take(it, 3)).map((m) => `${m.topic}:${m.offset}`),
      ['present:0', 'present:1', 'present:2'],
    );
    await createTopic(kafka, 'absent-for-now', 1);
    await produceRecords(producer, 'absent-for-now', 0, { count: 2, batchSize: 2 });
    assert.deepEqual(
      (await take(it, 2)).map((m) => `${m.topic}:${m.offset}`),
      ['absent-for-now:0', 'absent-for-now:1'],
    );
    await it.return?.();
  });

  it('deserializes keys and values with the given deserializers', async () => {
    const topic = 'typed';
    await createTopic(kafka, topic, 1);
    await producer.produce(topic, 0, {
      records: [
        { key: 'k1', value: '{"a":1}' },
        { key: null, value: null },
      ],
    });
    await using c = new Consumer<string | null, { a: number } | null>({
      bootstrapServers: [kafka.bootstrap],
      keyDeserializer: stringDeserializer,
      valueDeserializer: (b) => (b === null ? null : (JSON.parse(b.toString()) as { a: number })),
    });
    c.assign([{ topic, partition: 0, offset: 0n }]);
    const [a, b] = await take(c[Symbol.asyncIterator](), 2);
    assert.equal(a!.key, 'k1');
    assert.deepEqual(a!.value, { a: 1 });
    assert.equal(b!.key, null);
    assert.equal(b!.value, null);
  });
});

type Rewrite = (apiKey: number, body: Record<string, unknown>) => Record<string, unknown> | undefined;
interface ProxiedRequest {
  apiKey: number;
  body: Record<string, unknown>;
}

/**
 * A TCP relay to the port `target()` gives that notes the api key of every request passing through and lets
 * `rewrite` replace the broker's answers (decoded and re-encoded at the same version).
 */
async function kafkaProxy(
  target: () => number,
  rewrite: Rewrite = () => undefined,
): Promise<{ port: number; apiKeys: number[]; requests: ProxiedRequest[]; close(): void }> {
  const apiKeys: number[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  /** Splits a byte stream into size-prefixed frames. */
  const framer = (onFrame: (frame: Buffer) => void) => {
    let pending = Buffer.alloc(0);
    return (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        onFrame(pending.subarray(0, 4 + size));
        pending = pending.subarray(4 + size);
      }
    };
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target() });
    sockets.add(client).add(upstream);
    const asked = new Map<number, { apiKey: number; version: number }>();
    client.on(
      'data',
      framer((frame) => {
        const apiKey = frame.readInt16BE(4);
        const version = frame.readInt16BE(6);
        apiKeys.push(apiKey);
        asked.set(frame.readInt32BE(8), { apiKey, version });
        const r = new Reader(frame, 4);
        readRequestHeader(r, requestHeaderVersion(apiKey, version));
        requests.push({ apiKey, body: apiSpec(apiKey)!.readRequest(r, version) });
        upstream.write(frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const correlationId = frame.readInt32BE(4);
        const req = asked.get(correlationId);
        asked.delete(correlationId);
        const spec = req === undefined ? undefined : apiSpec(req.apiKey);
        if (req === undefined || spec === undefined) {
          client.write(frame);
          return;
        }
        const hv = responseHeaderVersion(req.apiKey, req.version);
        const r = new Reader(frame, 4);
        readResponseHeader(r, hv);
        const replaced = rewrite(req.apiKey, spec.readResponse(r, req.version));
        if (replaced === undefined) {
          client.write(frame);
          return;
        }
        const w = new Writer();
        const at = w.reserveInt32();
        writeResponseHeader(w, hv, { correlationId });
        spec.writeResponse(w, req.version, replaced);
        w.patchInt32(at, w.length - 4);
        client.write(w.toBuffer());
      }),
    );
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    apiKeys,
    requests,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A broker whose clients all go through a proxy (it advertises the proxy's port). */
async function proxiedBroker(rewrite?: Rewrite) {
  let brokerPort = 0;
  const proxy = await kafkaProxy(() => brokerPort, rewrite);
  const broker = await startTestBroker({ 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` });
  brokerPort = broker.broker.listeners[0]!.port;
  const raw = await RawProducer.connect({ ...broker, port: brokerPort });
  return {
    broker,
    proxy,
    raw,
    async stop() {
      raw.close();
      proxy.close();
      await broker.stop();
    },
  };
}

describe('Consumer fetch sessions', () => {
  const fetchRequests = (requests: ProxiedRequest[]): FetchRequest[] =>
    requests.filter((r) => r.apiKey === 1).map((r) => r.body as unknown as FetchRequest);
  const partitionCount = (f: FetchRequest): number => f.topics.reduce((n, t) => n + t.partitions.length, 0);

  /** Assigns 4 partitions, reads 10 records of partition 0, then 5 produced later to partition 2. */
  async function readAcrossFour(env: Awaited<ReturnType<typeof proxiedBroker>>, fetchSessions: boolean): Promise<void> {
    await createTopic(env.broker, 'sessions', 4);
    const first = await produceRecords(env.raw, 'sessions', 0, { count: 10, batchSize: 2 });
    await using c = new Consumer({
      bootstrapServers: [`127.0.0.1:${env.proxy.port}`],
      fetchMaxWaitMs: 50,
      maxPartitionFetchBytes: 256,
      fetchSessions,
    });
    c.assign([0, 1, 2, 3].map((partition) => ({ topic: 'sessions', partition, offset: 0n })));
    const it = c[Symbol.asyncIterator]();
    for (const [i, m] of (await take(it, 10)).entries()) assertSameRecord(m, first[i]!, BigInt(i), 'partition 0');
    const later = await produceRecords(env.raw, 'sessions', 2, { count: 5, batchSize: 5 });
    for (const [i, m] of (await take(it, 5)).entries()) assertSameRecord(m, later[i]!, BigInt(i), 'partition 2');
    await it.return?.();
  }

  it('incremental requests carry only the partitions that changed', async () => {
    const env = await proxiedBroker();
    try {
      await readAcrossFour(env, true);
      const fetches = fetchRequests(env.proxy.requests);
      assert.deepEqual([fetches[0]!.sessionId, fetches[0]!.sessionEpoch, partitionCount(fetches[0]!)], [0, 0, 4]);
      const incremental = fetches.filter((f) => f.sessionId !== 0);
      assert.ok(incremental.length > 0, 'a session was opened');
      assert.deepEqual(
        incremental.slice(0, 3).map((f) => f.sessionEpoch),
        [1, 2, 3],
        'epochs count up',
      );
      assert.ok(
        incremental.some((f) => partitionCount(f) < 4),
        `some request lists fewer than the 4 partitions: ${incremental.map(partitionCount)}`,
      );
    } finally {
      await env.stop();
    }
  });

  it('without sessions every request is a full one', async () => {
    const env = await proxiedBroker();
    try {
      await readAcrossFour(env, false);
      for (const f of fetchRequests(env.proxy.requests)) {
        assert.deepEqual([f.sessionId, f.sessionEpoch], [0, -1]);
        assert.ok(partitionCount(f) >= 1);
      }
    } finally {
      await env.stop();
    }
  });

  it('a session the broker lost (FETCH_SESSION_ID_NOT_FOUND) is replaced by a new one, nothing lost', async () => {
    let answered = 0;
    let lostAt = -1;
    const env = await proxiedBroker((apiKey, body) => {
      if (apiKey !== 1 || ++answered !== 3) return undefined;
      lostAt = answered;
      const res = body as unknown as FetchResponse;
      res.errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
      res.sessionId = 0;
      res.responses = [];
      return res as unknown as Record<string, unknown>;
    });
    try {
      await readAcrossFour(env, true);
      assert.equal(lostAt, 3);
      const fetches = fetchRequests(env.proxy.requests);
      // The request after the lost session's answer opens a new one with a full request.
      assert.deepEqual([fetches[3]!.sessionId, fetches[3]!.sessionEpoch], [0, 0]);
    } finally {
      await env.stop();
    }
  });
});

describe('Consumer fetch errors', () => {
  for (const error of ['NOT_LEADER_OR_FOLLOWER', 'FENCED_LEADER_EPOCH'] as const) {
    it(`${error}: refreshes the metadata and fetches again from the same offset`, async () => {
      let faults = 3;
      const env = await proxiedBroker((apiKey, body) => {
        if (apiKey !== 1 || faults === 0) return undefined;
        const res = body as unknown as FetchResponse;
        if (!res.responses.some((t) => t.partitions.some((p) => p.records !== null && p.records.length > 0))) {
          return undefined;
        }
        faults--;
        for (const t of res.responses) {
          for (const p of t.partitions) {
            p.errorCode = ErrorCode[error];
            p.records = null;
          }
        }
        return res as unknown as Record<string, unknown>;
      });
      try {
        await createTopic(env.broker, 'faults', 1);
        const produced = await produceRecords(env.raw, 'faults', 0, { count: 30, batchSize: 10 });
        await using c = new Consumer({
          bootstrapServers: [`127.0.0.1:${env.proxy.port}`],
          fetchMaxWaitMs: 100,
          retryBackoffMs: 20,
        });
        c.assign([{ topic: 'faults', partition: 0, offset: 0n }]);
        const got = await take(c[Symbol.asyncIterator](), 30);
        for (const [i, m] of got.entries()) assertSameRecord(m, produced[i]!, BigInt(i), error);
        assert.equal(faults, 0, 'every injected error was answered');
        // After the first failed fetch the consumer asked for metadata again before fetching on.
        const keys = env.proxy.apiKeys;
        const firstFetch = keys.indexOf(1);
        assert.ok(keys.slice(firstFetch + 1).includes(3), `a metadata refresh after the error: ${keys.join(',')}`);
      } finally {
        await env.stop();
      }
    });
  }
});

describe('Consumer pipelining', () => {
  it('fetches ahead while the application holds a message, and stops at the buffer bound', async () => {
    // The broker advertises the proxy, so that every connection of the consumer goes through it.
    const env = await proxiedBroker();
    const { broker, proxy, raw } = env;
    try {
      await createTopic(broker, 'pipelined', 1);
      // 200 batches of 10 small records: about 100 KiB in all.
      await produceRecords(raw, 'pipelined', 0, { count: 2000, batchSize: 10 });
      const fetches = (): number => proxy.apiKeys.filter((k) => k === 1).length;
      await using c = new Consumer({
        bootstrapServers: [`127.0.0.1:${proxy.port}`],
        maxPartitionFetchBytes: 4096,
        fetchMaxBytes: 4096,
        fetchMaxWaitMs: 100,
      });
      c.assign([{ topic: 'pipelined', partition: 0, offset: 0n }]);
      const it = c[Symbol.asyncIterator]();
      await take(it, 1);
      // The application holds message 0 and asks for nothing: the consumer fetches the next answer anyway.
      await waitFor('a second fetch while the application holds a message', () => fetches() >= 2);
      await sleep(500);
      assert.ok(fetches() <= 3, `prefetch is bounded by the buffer: ${fetches()} fetches while holding one message`);
      const rest = await take(it, 1999);
      assert.equal(rest.at(-1)!.offset, 1999n);
      await it.return?.();
    } finally {
      await env.stop();
    }
  });
});
