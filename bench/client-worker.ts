// One client library in a child process for the client benchmark (bench/client.ts): `node client-worker.js
// <library>` with library samsa, samsa-send, platformatic or kafkajs. Every library runs in a process of its own, on the same
// Node, driven by this same script with the same workload, so that the comparison is fair (@platformatic/kafka
// needs Node >= 22, so the parent starts all three on that Node).
//
// It reads one JSON command per line on stdin and answers one JSON line on stdout:
//   {"op":"open", bootstrap, topic, acks, size, chunk, window, lingerMs, batchSize, warmup}
//       creates and connects the library's producer, produces `warmup` messages; answers {"ok":true}
//   {"op":"run", count}   produces `count` messages, timed; answers {"ok":true, seconds, messages}
//   {"op":"close"}        closes the producer; answers {"ok":true}
//   {"op":"consume", bootstrap, topic, group, count}
//       opens the library's consumer in a new group `group`, reads `count` messages of `topic` from the beginning,
//       closes it; answers {"ok":true, seconds, messages, cpuSeconds}, the seconds from creating the consumer to the count-th
//       message: connecting and joining the group are part of it (timing from the first message would leave out
//       the decoding of whatever the first fetch brought, which KafkaJS does before its first eachBatch)
// Errors answer {"ok":false, error}.
//
// The workload: `count` values of `size` random bytes (a pool of 64 distinct buffers), null keys, no compression,
// handed to the library in arrays of `chunk` messages with at most `window` arrays outstanding (the application
// awaits the oldest before handing over another). KafkaJS and @platformatic/kafka neither linger nor size batches:
// each send() call is one Produce request per broker, so `chunk` is their batch and `window` their requests in
// flight. samsa's Producer gets the same arrays (sendBatch) and batches them itself with lingerMs and batchSize;
// `samsa-send` hands each message of the arrays to its own send() call (one promise per message, the Java-like
// way), to show what that costs.
// The clock runs from the first array handed over to the last delivery report.
// Consumers: each library's fastest documented way to see every message: samsa's consume() with eachBatch,
// KafkaJS's run() with eachBatch, @platformatic/kafka's consume() stream with 'data' events. All three join a fresh
// group (KafkaJS and @platformatic/kafka have no group-less consumer), start at the earliest offset and never
// commit; messages are counted, values not copied. `fetch-only` is the reference: a bare Fetch loop (below).
// Every consume answer carries the CPU time (user + system) the worker process used for it.

import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Consumer } from '../src/client/consumer/index.js';
import { BrokerConnection } from '../src/client/network/connection.js';
import { Producer } from '../src/client/producer/index.js';
import type { FetchResponse } from '../src/protocol/index.js';

export interface OpenCommand {
  op: 'open';
  bootstrap: string;
  topic: string;
  acks: -1 | 1;
  /** Value bytes per message. */
  size: number;
  /** Messages per array handed to the library. */
  chunk: number;
  /** Arrays outstanding at most. */
  window: number;
  lingerMs: number;
  batchSize: number;
  /** Messages produced (untimed) after connecting. */
  warmup: number;
}

export interface ConsumeCommand {
  op: 'consume';
  bootstrap: string;
  topic: string;
  /** The topic's partition count (the Fetch loop asks for all of them). */
  partitions: number;
  group: string;
  count: number;
}

export type Command = OpenCommand | ConsumeCommand | { op: 'run'; count: number } | { op: 'close' };

export type Answer =
  | { ok: true; seconds?: number; messages?: number; cpuSeconds?: number }
  | { ok: false; error: string };

/** What the workload needs from a library: send an array of values, close. */
interface Driver {
  send(values: Buffer[]): Promise<unknown>;
  close(): Promise<void>;
}

function samsaProducer(c: OpenCommand): Producer {
  return new Producer({
    bootstrapServers: [c.bootstrap],
    clientId: 'samsa-bench',
    acks: c.acks,
    lingerMs: c.lingerMs,
    batchSize: c.batchSize,
    compression: 'none',
  });
}

async function samsaDriver(c: OpenCommand): Promise<Driver> {
  const producer = samsaProducer(c);
  await producer.connect();
  const topic = c.topic;
  return {
    send: (values) => {
      const records = new Array(values.length);
      for (let i = 0; i < values.length; i++) records[i] = { topic, value: values[i] };
      return producer.sendBatch(records);
    },
    close: () => producer.close(),
  };
}

async function samsaSendDriver(c: OpenCommand): Promise<Driver> {
  const producer = samsaProducer(c);
  await producer.connect();
  const topic = c.topic;
  return {
    send: (values) => {
      const sent = new Array<Promise<unknown>>(values.length);
      for (let i = 0; i < values.length; i++) sent[i] = producer.send({ topic, value: values[i]! });
      return Promise.all(sent);
    },
    close: () => producer.close(),
  };
}

// The libraries are imported by name at run time so that only the one under test is loaded (and tsc does not need
// @platformatic/kafka's typings, which are written for newer Node).
const load = <T>(name: string): Promise<T> => import(name) as Promise<T>;

/** What this script uses of @platformatic/kafka. */
interface PlatformaticModule {
  Producer: new (options: object) => { send(options: object): Promise<unknown>; close(): Promise<void> };
  Consumer: new (
    options: object,
  ) => {
    consume(options: object): Promise<{ on(event: string, f: (m: unknown) => void): void; close(): Promise<void> }>;
    close(force?: boolean): Promise<void>;
  };
}

/** What this script uses of KafkaJS. */
interface KafkaJsModule {
  Kafka: new (
    options: object,
  ) => {
    producer(options: object): {
      connect(): Promise<void>;
      send(options: object): Promise<unknown>;
      disconnect(): Promise<void>;
    };
    consumer(options: object): {
      connect(): Promise<void>;
      subscribe(options: object): Promise<void>;
      run(options: object): Promise<void>;
      disconnect(): Promise<void>;
    };
  };
  logLevel: { NOTHING: number };
}

async function platformaticDriver(c: OpenCommand): Promise<Driver> {
  const { Producer: PlatformaticProducer } = await load<PlatformaticModule>('@platformatic/kafka');
  const producer = new PlatformaticProducer({
    clientId: 'samsa-bench',
    bootstrapBrokers: [c.bootstrap],
    // The broker has no InitProducerId yet: a plain producer, as samsa's and KafkaJS's.
    idempotent: false,
    autocreateTopics: false,
  });
  const topic = c.topic;
  return {
    send: (values) => {
      const messages = new Array(values.length);
      for (let i = 0; i < values.length; i++) messages[i] = { topic, value: values[i] };
      // acks and compression go with send() (a producer-level acks is not used by send in 2.12).
      return producer.send({ messages, acks: c.acks, compression: 'none' });
    },
    close: () => producer.close(),
  };
}

async function kafkajsDriver(c: OpenCommand): Promise<Driver> {
  const { Kafka, logLevel } = await load<KafkaJsModule>('kafkajs');
  const kafka = new Kafka({ clientId: 'samsa-bench', brokers: [c.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const topic = c.topic;
  return {
    send: (values) => {
      const messages = new Array(values.length);
      for (let i = 0; i < values.length; i++) messages[i] = { value: values[i] };
      return producer.send({ topic, acks: c.acks, messages });
    },
    close: () => producer.disconnect(),
  };
}

const DRIVERS: Record<string, (c: OpenCommand) => Promise<Driver>> = {
  samsa: samsaDriver,
  'samsa-send': samsaSendDriver,
  platformatic: platformaticDriver,
  kafkajs: kafkajsDriver,
};

/**
 * Counts messages until `count`; `done` resolves with the seconds from the start (the consumer created, before it
 * connects and joins) to the count-th message, and `firstSeconds` is when the first one came.
 */
class Counter {
  private seen = 0;
  private readonly started = performance.now();
  firstSeconds = 0;
  private resolve!: (seconds: number) => void;
  readonly done = new Promise<number>((r) => {
    this.resolve = r;
  });

  constructor(private readonly count: number) {}

  add(n: number): void {
    if (this.seen >= this.count) return;
    if (this.seen === 0) this.firstSeconds = (performance.now() - this.started) / 1000;
    this.seen += n;
    if (this.seen >= this.count) this.resolve((performance.now() - this.started) / 1000);
  }
}

async function samsaConsume(c: ConsumeCommand): Promise<number> {
  const counter = new Counter(c.count);
  const consumer = new Consumer({
    bootstrapServers: [c.bootstrap],
    clientId: 'samsa-bench',
    groupId: c.group,
    autoOffsetReset: 'earliest',
    enableAutoCommit: false,
  });
  const controller = new AbortController();
  void counter.done.then(() => controller.abort());
  try {
    consumer.subscribe([c.topic]);
    await consumer.consume({ eachBatch: (b) => counter.add(b.messages.length), signal: controller.signal });
    return await counter.done;
  } finally {
    await consumer.close();
  }
}

async function platformaticConsume(c: ConsumeCommand): Promise<number> {
  const { Consumer: PlatformaticConsumer } = await load<PlatformaticModule>('@platformatic/kafka');
  const counter = new Counter(c.count);
  const consumer = new PlatformaticConsumer({
    clientId: 'samsa-bench',
    groupId: c.group,
    bootstrapBrokers: [c.bootstrap],
  });
  try {
    const stream = await consumer.consume({ topics: [c.topic], mode: 'earliest', autocommit: false });
    stream.on('data', () => counter.add(1));
    const seconds = await counter.done;
    await stream.close();
    return seconds;
  } finally {
    await consumer.close(true);
  }
}

async function kafkajsConsume(c: ConsumeCommand): Promise<number> {
  const { Kafka, logLevel } = await load<KafkaJsModule>('kafkajs');
  const counter = new Counter(c.count);
  const kafka = new Kafka({ clientId: 'samsa-bench', brokers: [c.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: c.group });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: c.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }: { batch: { messages: unknown[] } }) => counter.add(batch.messages.length),
    });
    return await counter.done;
  } finally {
    await consumer.disconnect();
  }
}

/**
 * The reference for consuming: how fast the broker hands this topic to a client that does nothing with it. Fetch
 * requests as a consumer sends them (every partition, 1 MiB each, 50 MiB in all, one request at a time) over
 * samsa's connection, the next offsets and the record counts read from the batch headers; no group, no decoding, no
 * CRC check. Timed from connecting.
 */
async function fetchOnlyConsume(c: ConsumeCommand): Promise<number> {
  const started = performance.now();
  const [host = '', port = ''] = c.bootstrap.split(':');
  const conn = await BrokerConnection.connect({ host, port: Number(port), clientId: 'samsa-bench-fetch-only' });
  try {
    const offsets = new Array<bigint>(c.partitions).fill(0n);
    let seen = 0;
    while (seen < c.count) {
      const res = await conn.send<FetchResponse>(1, 11, {
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 52_428_800,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: c.topic,
            partitions: offsets.map((fetchOffset, partition) => ({
              partition,
              currentLeaderEpoch: -1,
              fetchOffset,
              logStartOffset: -1n,
              partitionMaxBytes: 1_048_576,
            })),
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      for (const t of res.responses) {
        for (const p of t.partitions) {
          const records = p.records;
          if (records === null) continue;
          // v2 batch header: batchLength at 8, lastOffsetDelta at 23, recordCount at 57.
          for (let pos = 0; records.length - pos >= 61; ) {
            const size = 12 + records.readInt32BE(pos + 8);
            if (size > records.length - pos) break;
            seen += records.readInt32BE(pos + 57);
            offsets[p.partitionIndex] = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + 23)) + 1n;
            pos += size;
          }
        }
      }
    }
    return (performance.now() - started) / 1000;
  } finally {
    conn.close();
  }
}

const CONSUMERS: Record<string, (c: ConsumeCommand) => Promise<number>> = {
  samsa: samsaConsume,
  'samsa-send': samsaConsume,
  platformatic: platformaticConsume,
  kafkajs: kafkajsConsume,
  'fetch-only': fetchOnlyConsume,
};

/** Produces `count` messages through `driver`; resolves with the seconds from the first array to the last report. */
async function produce(driver: Driver, c: OpenCommand, pool: Buffer[], count: number): Promise<number> {
  const outstanding: Promise<unknown>[] = [];
  let next = 0;
  const started = performance.now();
  for (let sent = 0; sent < count; ) {
    const n = Math.min(c.chunk, count - sent);
    const values = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) values[i] = pool[next++ & 63]!;
    if (outstanding.length >= c.window) await outstanding.shift();
    outstanding.push(driver.send(values));
    sent += n;
  }
  await Promise.all(outstanding);
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const library = process.argv[2] ?? '';
  const open = DRIVERS[library];
  if (open === undefined && CONSUMERS[library] === undefined) {
    throw new Error(`unknown library '${library}': one of ${Object.keys(CONSUMERS).join(', ')}`);
  }
  let driver: Driver | null = null;
  let config: OpenCommand | null = null;
  let pool: Buffer[] = [];
  const answer = (a: Answer): void => {
    process.stdout.write(`${JSON.stringify(a)}\n`);
  };
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    const command = JSON.parse(line) as Command;
    try {
      if (command.op === 'open') {
        if (driver !== null) await driver.close();
        if (open === undefined) throw new Error(`${library} does not produce`);
        config = command;
        pool = Array.from({ length: 64 }, () => randomBytes(command.size));
        driver = await open(command);
        if (command.warmup > 0) await produce(driver, command, pool, command.warmup);
        answer({ ok: true });
      } else if (command.op === 'consume') {
        const cpu = process.cpuUsage();
        const seconds = await CONSUMERS[library]!(command);
        const used = process.cpuUsage(cpu);
        answer({ ok: true, seconds, messages: command.count, cpuSeconds: (used.user + used.system) / 1e6 });
      } else if (command.op === 'run') {
        if (driver === null || config === null) throw new Error('run before open');
        const seconds = await produce(driver, config, pool, command.count);
        answer({ ok: true, seconds, messages: command.count });
      } else {
        if (driver !== null) await driver.close();
        driver = null;
        answer({ ok: true });
      }
    } catch (e) {
      answer({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }
  if (driver !== null) await driver.close();
}

await main();
