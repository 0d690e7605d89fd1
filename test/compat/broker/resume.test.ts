/**
 * "Consumers continue from where they were" across broker restarts, with KafkaJS against the real broker process
 * (`samsa start`) on a fixed data directory and a fixed port (so the clients find it again after a restart), with
 * `samsa.flush.before.ack=true` and `group.initial.rebalance.delay.ms=0`:
 *
 * - a 3-partition topic gets 300 messages (message i on partition i % 3, so at offset floor(i / 3)), acks -1;
 * - a consumer group reads exactly the first N of each partition (different N per partition; it pauses a partition
 *   after its N-th message), commits them (autoCommit plus an explicit `commitOffsets`) and leaves;
 * - (a) SIGTERM and a restart on the same directory and port: OffsetFetch answers the same committed offsets, and a
 *   new consumer in the group gets exactly the messages after them (none before, none missing, in order), then 30
 *   more produced after the restart; its commits reach the log end;
 * - (b) 30 more messages, then SIGKILL (no clean shutdown) and a restart: the topic, its log end and the committed
 *   offsets are all still there, and the group resumes again with exactly the 30 messages it had not read.
 *
 * Waiting is by polling for a state, with a deadline that only bounds a failing run: no timing is asserted.
 * KafkaJS logs nothing on a passing run: its log lines are buffered and printed only when the test fails (with the
 * warnings and errors of every broker process the test started).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Admin, type Consumer, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { waitFor } from './workload.js';

const require = createRequire(import.meta.url);
const KAFKAJS_VERSION = (require('kafkajs/package.json') as { version: string }).version;
const CLIENT_ID = 'samsa-compat-kafkajs-resume';
const TIMEOUT_MS = 90_000;
const TOPIC = 'kafkajs-resume';
const GROUP = 'kafkajs-resume-consumers';
const PARTITIONS = 3;
const FIRST_BATCH = 300;
const MORE = 30;
/** How many messages of each partition the first consumer reads (and commits). */
const FIRST_READ = [20, 45, 70] as const;
const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': '0', 'samsa.flush.before.ack': 'true' };

let dataDir = '';
let port = 0;
/** Every broker process started, the current one last. */
const brokers: BrokerProcess[] = [];
let kafka: Kafka;
const clientLogs: string[] = [];

const current = (): BrokerProcess | undefined => brokers[brokers.length - 1];

/** Runs `fn`; when it fails, prints the buffered KafkaJS lines and the brokers' warnings and errors. */
async function logged<T>(t: TestContext, fn: () => Promise<T>): Promise<T> {
  const from = clientLogs.length;
  try {
    return await fn();
  } catch (e) {
    for (const line of clientLogs.slice(from).slice(-60)) t.diagnostic(`client: ${line}`);
    brokers.forEach((b, i) => {
      const lines = b.logs.filter((l) => Number(l.level) >= 40).slice(-30);
      for (const line of lines) t.diagnostic(`broker #${i + 1}: ${JSON.stringify(line)}`);
    });
    throw e;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function startBroker(): Promise<BrokerProcess> {
  const broker = await startBrokerProcess({ dataDir, port, config: BROKER_CONFIG });
  brokers.push(broker);
  assert.equal(broker.port, port, 'the broker listens on the fixed port');
  return broker;
}

/** Message i: key and value name it, partition i % 3, so its offset is floor(i / 3) (every batch is a multiple of 3). */
const keyAt = (partition: number, offset: number): string => `key-${offset * PARTITIONS + partition}`;
const valueAt = (partition: number, offset: number): string => `value-${offset * PARTITIONS + partition}`;

async function produce(from: number, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: false });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, j) => {
      const i = from + j;
      return { key: `key-${i}`, value: `value-${i}`, partition: i % PARTITIONS, headers: { n: String(i) } };
    });
    await producer.send({ topic: TOPIC, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Committed offset per partition for the group (OffsetFetch), as numbers (-1: none). */
async function committed(admin: Admin): Promise<number[]> {
  const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  const byPartition = new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return Array.from({ length: PARTITIONS }, (_, p) => byPartition.get(p) ?? -1);
}

/** Log end offset per partition. */
async function logEnds(admin: Admin): Promise<number[]> {
  const byPartition = new Map((await admin.fetchTopicOffsets(TOPIC)).map((o) => [o.partition, Number(o.high)]));
  return Array.from({ length: PARTITIONS }, (_, p) => byPartition.get(p) ?? -1);
}

/** Waits until the group's committed offsets are `want`. */
async function waitForCommitted(want: readonly number[]): Promise<void> {
  let last: number[] = [];
  await withAdmin((admin) =>
    waitFor(
      `committed offsets ${JSON.stringify(want)}`,
      async () => {
        last = await committed(admin);
        return JSON.stringify(last) === JSON.stringify(want);
      },
      () => JSON.stringify(last),
    ),
  );
}

interface Consumed {
  partition: number;
  offset: number;
  key: string;
  value: string;
  header: string;
}

/** A group member that records what it consumes; `stopAfter[p]` pauses partition p after its offset stopAfter[p]-1. */
interface Member {
  consumer: Consumer;
  consumed: Consumed[];
}

async function startMember(stopAfter?: readonly number[]): Promise<Member> {
  const consumer = kafka.consumer({
    groupId: GROUP,
    heartbeatInterval: 300,
    sessionTimeout: 10_000,
    maxWaitTimeInMs: 300,
    retry: { retries: 5 },
  });
  const member: Member = { consumer, consumed: [] };
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    eachMessage: async ({ partition, message, pause }) => {
      const offset = Number(message.offset);
      member.consumed.push({
        partition,
        offset,
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        header: message.headers?.n?.toString() ?? '',
      });
      // Pausing inside eachMessage stops KafkaJS's loop over the rest of the batch for that partition.
      if (stopAfter !== undefined && offset + 1 >= stopAfter[partition]!) pause();
    },
  });
  return member;
}

/** The member got exactly offsets from[p]..to[p]-1 of each partition, in order, with the produced contents. */
function assertExactly(member: Member, from: readonly number[], to: readonly number[]): void {
  for (let p = 0; p < PARTITIONS; p++) {
    const got = member.consumed.filter((c) => c.partition === p);
    const want = Array.from({ length: to[p]! - from[p]! }, (_, j) => {
      const offset = from[p]! + j;
      return { partition: p, offset, key: keyAt(p, offset), value: valueAt(p, offset), header: String(offset * 3 + p) };
    });
    assert.deepEqual(
      got.map((c) => c.offset),
      want.map((c) => c.offset),
      `partition ${p}: offsets ${from[p]}..${to[p]! - 1}, each once, in order`,
    );
    assert.deepEqual(got, want, `partition ${p}: the produced messages`);
  }
}

const total = (counts: readonly number[]): number => counts.reduce((n, c) => n + c, 0);

describe(`KafkaJS ${KAFKAJS_VERSION} consumers resume across broker restarts`, { timeout: 2 * TIMEOUT_MS }, () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'samsa-compat-resume-'));
    port = await freePort();
    await startBroker();
    kafka = new Kafka({
      clientId: CLIENT_ID,
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.INFO,
      logCreator: () => (entry) => {
        clientLogs.push(`${entry.label} [${entry.namespace}] ${entry.log.message} ${JSON.stringify(entry.log)}`);
      },
      retry: { retries: 5 },
      requestTimeout: 20_000,
    });
  });

  after(async () => {
    await current()?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('committed offsets and the group position survive SIGTERM and SIGKILL restarts', {
    timeout: TIMEOUT_MS,
  }, async (t) => {
    const members: Member[] = [];
    const leave = async (member: Member): Promise<void> => {
      await member.consumer.disconnect();
      members.splice(members.indexOf(member), 1);
    };
    try {
      await logged(t, async () => {
        await withAdmin(async (admin) => {
          assert.equal(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] }), true);
        });
        await produce(0, FIRST_BATCH);
        const perPartition = FIRST_BATCH / PARTITIONS;
        assert.deepEqual(await withAdmin(logEnds), [perPartition, perPartition, perPartition]);

        // The first member reads exactly FIRST_READ[p] messages of partition p, commits and leaves.
        const first = await startMember(FIRST_READ);
        members.push(first);
        await waitFor(
          `the first ${JSON.stringify(FIRST_READ)} messages per partition`,
          () => first.consumed.length >= total(FIRST_READ),
          () => `${first.consumed.length}`,
        );
        await first.consumer.commitOffsets(
          FIRST_READ.map((n, partition) => ({ topic: TOPIC, partition, offset: String(n) })),
        );
        await waitForCommitted(FIRST_READ);
        await leave(first);
        assertExactly(first, [0, 0, 0], FIRST_READ);

        // (a) A clean restart (SIGTERM) on the same directory and port.
        assert.equal(await current()!.stop(), 0, 'the broker exits cleanly on SIGTERM');
        await startBroker();
        assert.deepEqual(await withAdmin(committed), [...FIRST_READ], 'committed offsets after SIGTERM + restart');
        assert.deepEqual(await withAdmin(logEnds), [perPartition, perPartition, perPartition]);

        const second = await startMember();
        members.push(second);
        const ends = [perPartition, perPartition, perPartition];
        await waitFor(
          'the rest of the first batch',
          () => second.consumed.length >= FIRST_BATCH - total(FIRST_READ),
          () => `${second.consumed.length}`,
        );
        await produce(FIRST_BATCH, MORE);
        const endsA = ends.map((e) => e + MORE / PARTITIONS);
        await waitFor(
          `${MORE} messages produced after the restart`,
          () => second.consumed.length >= total(endsA) - total(FIRST_READ),
          () => `${second.consumed.length}`,
        );
        await waitForCommitted(endsA);
        await leave(second);
        assertExactly(second, FIRST_READ, endsA);

        // (b) More messages, then a crash (SIGKILL) and a restart.
        await produce(FIRST_BATCH + MORE, MORE);
        const endsB = endsA.map((e) => e + MORE / PARTITIONS);
        await current()!.kill();
        await startBroker();
        await withAdmin(async (admin) => {
          assert.ok((await admin.listTopics()).includes(TOPIC), 'the topic is still there');
          const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
          assert.equal(topics[0]?.partitions.length, PARTITIONS);
          assert.deepEqual(await logEnds(admin), endsB, 'every acknowledged message survived the crash');
          assert.deepEqual(await committed(admin), endsA, 'committed offsets after SIGKILL + restart');
        });

        const third = await startMember();
        members.push(third);
        await waitFor(
          `the ${MORE} messages produced before the crash`,
          () => third.consumed.length >= MORE,
          () => `${third.consumed.length}`,
        );
        await waitForCommitted(endsB);
        await leave(third);
        assertExactly(third, endsA, endsB);
        t.diagnostic(`broker runs: ${brokers.length}; committed at the end: ${JSON.stringify(endsB)}`);
      });
    } finally {
      await Promise.all(members.map((m) => m.consumer.disconnect()));
    }
  });
});
