/**
 * samsa/kafkajs against KafkaJS 2.2.4 itself, on the in-process broker. Each example below is KafkaJS usage as its
 * documentation shows it (Getting Started; Consuming Messages: eachBatch with resolveOffset and heartbeat, manual
 * commits, seek, pause, failing handlers and crashes; Admin Client: createTopics, fetchTopicOffsets, fetchOffsets,
 * resetOffsets, configs, groups; Producing Messages: custom partitioners), written once as a function of the
 * `Kafka` class and run twice, with `kafkajs`'s Kafka and with ours, each on its own topics and group. What each run
 * observed (send results, messages received, committed offsets, admin answers, event payloads and sequences, error
 * classes, types and codes) must be the same, apart from values that differ between any two runs (member ids,
 * durations, timestamps) and the deliberate differences the adapter documents (resetOffsets commits real offsets).
 *
 * Also: our Kafka class type-checks as KafkaJS's (a drop-in import); KafkaJS's Default and Legacy partitioners
 * and ours place the same keys on the same partitions (the legacy hash differs from Java's for most keys); a group
 * mixing our consumers and KafkaJS's shares the partitions (ours offer KafkaJS's RoundRobinAssigner by default and
 * lead, assigning for the KafkaJS members too); every codec round-trips without codec packages; the logCreator sees
 * the adapter's log lines.
 *
 * Consumers are created with a short maxWaitTimeInMs (both implementations wait for a fetch in flight on stop);
 * waits poll with a bound only a failing run reaches; no timing is asserted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { type IHeaders, Kafka as KafkaJS, logLevel } from 'kafkajs';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import * as samsa from '../../src/client/kafkajs/index.js';
import { readStoredBatches } from './stored-batches.js';

type KafkaClass = typeof KafkaJS;
/** The point of the adapter: our class is KafkaJS's, as far as the type checker can tell. */
const Samsa: KafkaClass = samsa.Kafka;

const require = createRequire(import.meta.url);
// Not among the names Node's CommonJS export detection finds in kafkajs, so taken through require.
const real = require('kafkajs') as typeof import('kafkajs');

const IMPLEMENTATIONS: readonly (readonly [string, KafkaClass])[] = [
  ['kafkajs', KafkaJS],
  ['samsa', Samsa],
];

/** The same for both implementations: short fetch waits keep stops quick. */
const CONSUMER_TUNING = { maxWaitTimeInMs: 100, heartbeatInterval: 500, sessionTimeout: 10_000 };

let broker: StartedBroker;

before(async () => {
  broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
});

after(async () => {
  await broker?.stop();
});

interface Env {
  brokers: string[];
  /** A topic or group name of this run. */
  name(base: string): string;
  /** Disconnects the client when the run ends, however it ends (the example disconnects it too). */
  track<C extends { disconnect(): Promise<void> }>(client: C): C;
}

async function until(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the example with KafkaJS and with ours; names of the run are replaced by their base in the results. */
async function both<T>(example: (Kafka: KafkaClass, env: Env) => Promise<T>): Promise<{ kafkajs: T; samsa: T }> {
  const out: Record<string, T> = {};
  const id = randomBytes(3).toString('hex');
  for (const [impl, Kafka] of IMPLEMENTATIONS) {
    const suffix = `-${impl}-${id}`;
    const clients: { disconnect(): Promise<void> }[] = [];
    try {
      const result = await example(Kafka, {
        brokers: [broker.bootstrap],
        name: (base) => `${base}${suffix}`,
        track: (client) => {
          clients.push(client);
          return client;
        },
      });
      out[impl] = JSON.parse(JSON.stringify(result).split(suffix).join(''));
    } catch (e) {
      throw new Error(`${impl}: ${(e as Error).message}`, { cause: e });
    } finally {
      await Promise.allSettled(clients.map((c) => c.disconnect()));
    }
  }
  return out as { kafkajs: T; samsa: T };
}

const text = (b: Buffer | string | null | undefined): string | null => (b == null ? null : b.toString());

function headerText(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map((x) => x.toString()) : v.toString();
  }
  return out;
}

// ---- the documentation's examples -----------------------------------------------------------------------------

/** Getting Started: a producer sends, a consumer from the beginning reads with eachMessage. */
async function gettingStarted(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({ clientId: 'my-app', brokers: env.brokers, logLevel: logLevel.NOTHING });
  const topic = env.name('test-topic');
  const producer = env.track(kafka.producer());
  await producer.connect();
  const sent = await producer.send({ topic, messages: [{ value: 'Hello KafkaJS user!' }] });
  sent.push(
    ...(await producer.send({
      topic,
      messages: [
        { key: 'key1', value: 'hello world', headers: { 'correlation-id': '2bfb68bb', system: ['a', 'b'] } },
        { key: 'key2', value: 'hey hey!', timestamp: '1700000000000' },
      ],
    })),
  );
  await producer.disconnect();

  const consumer = env.track(kafka.consumer({ groupId: env.name('test-group'), ...CONSUMER_TUNING }));
  const joins: unknown[] = [];
  const commits: unknown[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joins.push({ ...payload, memberId: typeof payload.memberId, leaderId: typeof payload.leaderId, duration: 0 });
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
    commits.push(
      payload.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ partition: Number(p.partition), offset: p.offset })),
      })),
    );
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received: unknown[] = [];
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      received.push({
        topic,
        partition,
        offset: message.offset,
        key: text(message.key),
        value: text(message.value),
        headers: headerText(message.headers),
        timestamp: message.timestamp === '1700000000000' ? message.timestamp : /^\d{13}$/.test(message.timestamp),
        attributes: message.attributes,
      });
    },
  });
  await until('3 messages', () => received.length === 3);
  await consumer.disconnect();
  return { sent, received, joins, committed: commits.at(-1) };
}

/** Consuming Messages, eachBatch: resolveOffset and heartbeat per message, checking isRunning and isStale. */
async function eachBatchExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({ clientId: 'my-app', brokers: env.brokers, logLevel: logLevel.NOTHING });
  const topic = env.name('batch-topic');
  const groupId = env.name('batch-group');
  const admin = env.track(kafka.admin());
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  const producer = env.track(kafka.producer());
  await producer.connect();
  const messages = Array.from({ length: 30 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
  const sent = await producer.send({ topic, messages });
  await producer.disconnect();

  const consumer = env.track(kafka.consumer({ groupId, ...CONSUMER_TUNING }));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const received: {
    partition: number;
    highWatermark: string;
    offset: string;
    key: string | null;
    value: string | null;
  }[] = [];
  let batchesConsistent = true;
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const first = batch.messages[0]!.offset;
      const last = batch.messages[batch.messages.length - 1]!.offset;
      batchesConsistent &&=
        batch.firstOffset() === first &&
        batch.lastOffset() === last &&
        !batch.isEmpty() &&
        batch.offsetLag() === String(BigInt(batch.highWatermark) - 1n - BigInt(last)) &&
        batch.offsetLagLow() === String(BigInt(batch.highWatermark) - 1n - BigInt(first));
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        received.push({
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          offset: message.offset,
          key: text(message.key),
          value: text(message.value),
        });
        resolveOffset(message.offset);
        await heartbeat();
      }
    },
  });
  await until('30 messages', () => received.length === 30);
  await consumer.disconnect();
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  received.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  return { sent, received, batchesConsistent, committed };
}

/** The Admin Client: topics, offsets of topics and groups, group descriptions, configs, errors. */
async function adminExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({ clientId: 'my-app', brokers: env.brokers, logLevel: logLevel.NOTHING });
  const topic = env.name('admin-topic');
  const groupId = env.name('admin-group');
  const admin = env.track(kafka.admin());
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
  });
  const createdAgain = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  const listed = (await admin.listTopics()).includes(topic);
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });

  const producer = env.track(kafka.producer());
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.disconnect();
  const topicOffsets = await admin.fetchTopicOffsets(topic);
  const byTimestamp = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() + 60_000);
  const before = await admin.fetchOffsets({ groupId, topics: [topic] });

  const consumer = env.track(kafka.consumer({ groupId, ...CONSUMER_TUNING }));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  await consumer.run({
    eachMessage: async () => {
      count++;
    },
  });
  await until('10 messages', () => count === 10);
  const running = await admin.describeGroups([groupId]);
  const ownView = await consumer.describeGroup();
  let resetWhileRunning: unknown = null;
  await admin.resetOffsets({ groupId, topic, earliest: true }).catch((e: Error) => {
    resetWhileRunning = { name: e.name, message: e.message };
  });
  await consumer.disconnect();
  const afterConsuming = await admin.fetchOffsets({ groupId, topics: [topic] });
  // Without topics, partitions come in the broker's order: sorted here to compare.
  const allOffsets = (await admin.fetchOffsets({ groupId })).map((t) => ({
    ...t,
    partitions: t.partitions.sort((a, b) => a.partition - b.partition),
  }));
  const stopped = await admin.describeGroups([groupId, env.name('no-such-group')]);
  await admin.resetOffsets({ groupId, topic, earliest: true });
  const afterReset = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
  const afterSet = await admin.fetchOffsets({ groupId, topics: [topic] });
  const configs = await admin.describeConfigs({
    resources: [{ type: samsa.ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
    includeSynonyms: false,
  });
  const altered = await admin.alterConfigs({
    validateOnly: false,
    resources: [
      { type: samsa.ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '1000' }] },
    ],
  });
  // AlterConfigs replaces: cleanup.policy, not given again, is back to its default.
  const replaced = await admin.describeConfigs({
    resources: [
      { type: samsa.ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms'] },
    ],
    includeSynonyms: false,
  });
  const badTopic = await admin
    .createTopics({ topics: [{ topic: env.name('bad'), numPartitions: 1, replicationFactor: 3 }] })
    .catch((e: { name: string; errors?: { name: string; type: string; code: number }[] }) => ({
      name: e.name,
      errors: e.errors?.map((x) => ({ name: x.name, type: x.type, code: x.code })),
    }));
  const deleteGroup = await admin.deleteGroups([groupId]);
  const deleteMissing = await admin
    .deleteGroups([env.name('no-such-group')])
    .catch((e: { name: string; groups: { groupId: string; errorCode: number; error: { type: string } }[] }) => ({
      name: e.name,
      groups: e.groups.map((g) => ({ groupId: g.groupId, errorCode: g.errorCode, type: g.error.type })),
    }));
  await admin.deleteTopics({ topics: [topic] });
  const deleted = !(await admin.listTopics()).includes(topic);
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  const member = (g: { members: { clientId: string; clientHost: string; memberAssignment: Buffer }[] }) =>
    g.members.map((m) => ({ clientId: m.clientId, host: m.clientHost, assignment: m.memberAssignment.length > 0 }));
  return {
    created,
    createdAgain,
    listed,
    metadata,
    topicOffsets,
    byTimestamp,
    before,
    running: running.groups.map((g) => ({ ...g, members: member(g) })),
    ownView: { ...ownView, members: member(ownView) },
    resetWhileRunning,
    afterConsuming,
    allOffsets,
    stopped,
    afterReset,
    afterSet,
    configs,
    altered,
    replaced,
    badTopic,
    deleteGroup,
    deleteMissing,
    deleted,
    cluster: { brokers: cluster.brokers, controller: cluster.controller, clusterId: typeof cluster.clusterId },
  };
}

/** eachMessage failing once: the resolved offsets are committed, the failed message comes again after a wait. */
async function retryExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({
    clientId: 'my-app',
    brokers: env.brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 2 },
  });
  const topic = env.name('retry-topic');
  const producer = env.track(kafka.producer());
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
  await producer.disconnect();
  const consumer = env.track(
    kafka.consumer({
      groupId: env.name('retry-group'),
      ...CONSUMER_TUNING,
      retry: { initialRetryTime: 50 },
    }),
  );
  const crashes: unknown[] = [];
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crashes.push({ error: payload.error.name, restart: payload.restart });
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  let failed = false;
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.offset);
      if (message.offset === '1' && !failed) {
        failed = true;
        throw new Error('processing failed');
      }
    },
  });
  await until('the rest after the failure', () => seen.length === 4);
  await consumer.disconnect();
  return { seen, crashes };
}

/** eachMessage failing until the retries are spent: a crash, a restart, and the message again; then one that is not retriable. */
async function crashExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({
    clientId: 'my-app',
    brokers: env.brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 50, retries: 1 },
  });
  const topic = env.name('crash-topic');
  const producer = env.track(kafka.producer());
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
  await producer.disconnect();
  const consumer = env.track(
    kafka.consumer({
      groupId: env.name('crash-group'),
      ...CONSUMER_TUNING,
      retry: { initialRetryTime: 50, retries: 1 },
    }),
  );
  const events: string[] = [];
  const { CRASH, STOP, DISCONNECT, CONNECT, GROUP_JOIN } = consumer.events;
  for (const name of [CRASH, STOP, DISCONNECT, CONNECT, GROUP_JOIN]) {
    consumer.on(name, (e: { type: string; payload: { error?: Error; restart?: boolean } }) => {
      events.push(e.type === CRASH ? `${e.type} ${e.payload.error!.name} restart=${e.payload.restart}` : e.type);
    });
  }
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  let failures = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.offset);
      if (message.offset === '1' && failures < 2) {
        failures++;
        throw new Error('processing failed');
      }
      if (message.offset === '2' && failures === 2) {
        failures++;
        // Not retriable: the consumer crashes for good.
        throw new TypeError('a bug');
      }
    },
  });
  await until(
    () => `the crashes, seen ${seen}, events ${events}`,
    () => events.filter((e) => e.startsWith(CRASH)).length === 2,
  );
  await consumer.disconnect();
  return { seen, events };
}

/** Seeking back from eachMessage, and pausing from eachMessage with the resume function it hands back. */
async function seekAndPauseExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({ clientId: 'my-app', brokers: env.brokers, logLevel: logLevel.NOTHING });
  const topic = env.name('seek-topic');
  const producer = env.track(kafka.producer());
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 8 }, (_, i) => ({ value: `m${i}` })) });
  await producer.disconnect();
  const consumer = env.track(kafka.consumer({ groupId: env.name('seek-group'), ...CONSUMER_TUNING }));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let notRunning: string | null = null;
  try {
    consumer.seek({ topic, partition: 0, offset: '0' });
  } catch (e) {
    notRunning = `${(e as Error).name}: ${(e as Error).message}`;
  }
  const seen: string[] = [];
  let sought = false;
  let paused = false;
  let pausedView: unknown = null;
  await consumer.run({
    eachMessage: async ({ message, pause }) => {
      seen.push(message.offset);
      if (message.offset === '5' && !sought) {
        sought = true;
        consumer.seek({ topic, partition: 0, offset: '2' });
      } else if (message.offset === '3' && sought && !paused) {
        paused = true;
        const resume = pause();
        pausedView = consumer.paused();
        setTimeout(resume, 300);
      }
    },
  });
  await until(
    () => `0-5 and 2-7, seen ${seen}`,
    () => seen.length === 12,
  );
  const resumedView = consumer.paused();
  await consumer.disconnect();
  return { notRunning, seen, pausedView, resumedView };
}

/** Manual commits: autoCommit off, commitOffsets with the offset of the next message to read. */
async function manualCommitExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({ clientId: 'my-app', brokers: env.brokers, logLevel: logLevel.NOTHING });
  const topic = env.name('manual-topic');
  const groupId = env.name('manual-group');
  const producer = env.track(kafka.producer());
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ value: `m${i}` })) });
  await producer.disconnect();
  const consumer = env.track(kafka.consumer({ groupId, ...CONSUMER_TUNING }));
  const commits: unknown[] = [];
  consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
    commits.push(payload.topics.map((t) => t.partitions.map((p) => `${t.topic}:${p.partition}@${p.offset}`)));
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  await consumer.run({
    autoCommit: false,
    eachMessage: async () => {
      count++;
    },
  });
  await until('5 messages', () => count === 5);
  await consumer.commitOffsets([{ topic, partition: 0, offset: '3' }]);
  await consumer.disconnect();
  const admin = env.track(kafka.admin());
  await admin.connect();
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return { commits, committed };
}

/** Producing Messages: a custom partitioner gets KafkaJS's arguments and decides the partition. */
async function customPartitionerExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({ clientId: 'my-app', brokers: env.brokers, logLevel: logLevel.NOTHING });
  const topic = env.name('custom-topic');
  const admin = env.track(kafka.admin());
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
  await admin.disconnect();
  const calls: unknown[] = [];
  const MyPartitioner = () => {
    return ({
      topic,
      partitionMetadata,
      message,
    }: {
      topic: string;
      partitionMetadata: { partitionId: number; leader: number }[];
      message: { key?: Buffer | string | null; value: Buffer | string | null };
    }) => {
      calls.push({
        topic,
        partitions: partitionMetadata.map((p) => p.partitionId),
        leaders: partitionMetadata.map((p) => p.leader >= 0),
      });
      return Number(String(message.value).slice(1)) % partitionMetadata.length;
    };
  };
  const producer = env.track(kafka.producer({ createPartitioner: MyPartitioner }));
  await producer.connect();
  const sent = await producer.send({ topic, messages: Array.from({ length: 6 }, (_, i) => ({ value: `v${i}` })) });
  await producer.disconnect();
  return { sent, calls };
}

const describeError = (e: { name: string; type?: string; code?: number; retriable?: boolean; cause?: unknown }) => {
  const cause = e.cause as { name: string; type?: string; code?: number } | undefined;
  return {
    name: e.name,
    type: e.type,
    code: e.code,
    retriable: e.retriable,
    cause: cause === undefined ? null : { name: cause.name, type: cause.type, code: cause.code },
  };
};

/** Failures: what is thrown, under which name, type and code. */
async function errorsExample(Kafka: KafkaClass, env: Env) {
  const kafka = new Kafka({
    clientId: 'my-app',
    brokers: env.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 50 },
  });
  const admin = env.track(kafka.admin());
  await admin.connect();
  const topic = env.name('errors-topic');
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  const shrink = await admin
    .createPartitions({ topicPartitions: [{ topic, count: 1 }] })
    .then(() => null, describeError);
  const deleteMissing = await admin.deleteTopics({ topics: [env.name('missing')] }).then(() => null, describeError);
  await admin.disconnect();
  const producer = env.track(kafka.producer());
  const disconnected = await producer.send({ topic, messages: [{ value: 'x' }] }).then(() => null, describeError);
  await producer.connect();
  const noValue = await producer
    .send({ topic, messages: [{ key: 'k' } as unknown as { value: string }] })
    .then(() => null, describeError);
  await producer.disconnect();
  const consumer = env.track(kafka.consumer({ groupId: env.name('errors-group') }));
  const notRunning = (() => {
    try {
      consumer.pause([{ topic }]);
      return null;
    } catch (e) {
      return describeError(e as Error);
    }
  })();
  const badEvent = (() => {
    try {
      consumer.on('consumer.nope' as never, () => {});
      return null;
    } catch (e) {
      return { ...describeError(e as Error), message: (e as Error).message };
    }
  })();
  return { shrink, deleteMissing, disconnected, noValue, notRunning, badEvent, paused: consumer.paused() };
}

// ---- tests ----------------------------------------------------------------------------------------------------

describe('KafkaJS documentation examples, KafkaJS vs samsa/kafkajs', () => {
  it('getting started: send results, messages (keys, headers, timestamps), GROUP_JOIN and commits agree', async () => {
    const r = await both(gettingStarted);
    assert.equal(r.kafkajs.received.length, 3);
    assert.deepEqual(r.samsa, r.kafkajs);
  });

  it('eachBatch with resolveOffset and heartbeat: same messages, high watermarks and committed offsets', async () => {
    const r = await both(eachBatchExample);
    assert.equal(r.kafkajs.batchesConsistent, true);
    assert.deepEqual(r.samsa, r.kafkajs);
  });

  it('admin: topics, offsets, groups, configs and errors answer in the same shapes', async () => {
    const r = await both(adminExample);
    // Deliberate: KafkaJS commits the marker -2 for "earliest"; samsa/kafkajs commits the earliest offset.
    for (const p of r.kafkajs.afterReset[0]!.partitions) assert.equal(p.offset, '-2');
    for (const p of r.samsa.afterReset[0]!.partitions) assert.equal(p.offset, '0');
    const { afterReset: _a, afterSet: setKafkaJS, ...kafkajs } = r.kafkajs;
    const { afterReset: _b, afterSet: setSamsa, ...ours } = r.samsa;
    assert.deepEqual(setSamsa[0]!.partitions[0], setKafkaJS[0]!.partitions[0]);
    assert.deepEqual(ours, kafkajs);
  });

  it('a failing eachMessage: its message again after the retry wait, without a crash', async () => {
    const r = await both(retryExample);
    assert.deepEqual(r.kafkajs.seen, ['0', '1', '1', '2']);
    assert.deepEqual(r.samsa, r.kafkajs);
  });

  it('eachMessage failing for good: crash, restart, the message again; a TypeError stops the consumer', async () => {
    const r = await both(crashExample);
    assert.deepEqual(r.samsa, r.kafkajs);
  });

  it('seek and pause from eachMessage deliver the same sequence', async () => {
    const r = await both(seekAndPauseExample);
    assert.deepEqual(
      r.kafkajs.seen,
      ['0', '1', '2', '3', '4', '5', '2', '3', '4', '5', '6', '7'].concat(r.kafkajs.seen.slice(12)),
    );
    assert.deepEqual(r.samsa, r.kafkajs);
  });

  it('failures: the same error classes, types and codes', async () => {
    const r = await both(errorsExample);
    assert.equal(r.kafkajs.shrink?.type, 'INVALID_PARTITIONS');
    assert.deepEqual(r.samsa, r.kafkajs);
  });

  it('autoCommit off: only commitOffsets commits', async () => {
    const r = await both(manualCommitExample);
    assert.deepEqual(r.kafkajs.committed[0]!.partitions, [{ partition: 0, offset: '3', metadata: null }]);
    assert.deepEqual(r.samsa, r.kafkajs);
  });

  it('a custom partitioner is called with the partition metadata and obeyed', async () => {
    const r = await both(customPartitionerExample);
    assert.deepEqual(
      r.kafkajs.sent.map((m) => m.partition),
      [0, 1, 2, 3],
    );
    assert.deepEqual(r.samsa, r.kafkajs);
  });
});

describe('samsa/kafkajs beyond the examples', () => {
  it("places keys as KafkaJS's DefaultPartitioner and LegacyPartitioner do", () => {
    for (const name of ['DefaultPartitioner', 'LegacyPartitioner'] as const) {
      const theirs = real.Partitioners[name]();
      const ours = samsa.Partitioners[name]();
      for (let i = 0; i < 2000; i++) {
        const key = i % 2 === 0 ? randomBytes(1 + (i % 23)) : `key-${i}-${'é'.repeat(i % 5)}`;
        const partitions = 1 + (i % 13);
        const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({
          partitionErrorCode: 0,
          partitionId: p,
          leader: 1,
          replicas: [1],
          isr: [1],
        }));
        const args = { topic: 't', partitionMetadata, message: { key, value: null } };
        assert.equal(ours(args), theirs(args), `${name}: key ${String(key)} over ${partitions}`);
      }
    }
  });

  it('messages produced with the LegacyPartitioner land where KafkaJS puts them', async () => {
    const kafka = new samsa.Kafka({
      clientId: 'legacy',
      brokers: [broker.bootstrap],
      logLevel: samsa.logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `legacy-${randomBytes(3).toString('hex')}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 5 }] });
    const producer = kafka.producer({ createPartitioner: samsa.Partitioners.LegacyPartitioner });
    await producer.connect();
    const theirs = real.Partitioners.LegacyPartitioner();
    const partitionMetadata = Array.from({ length: 5 }, (_, p) => ({
      partitionErrorCode: 0,
      partitionId: p,
      leader: 1,
      replicas: [1],
      isr: [1],
    }));
    for (let i = 0; i < 40; i++) {
      const key = `user-${i * 7919}`;
      const [meta] = await producer.send({ topic, messages: [{ key, value: 'x' }] });
      assert.equal(meta!.partition, theirs({ topic, partitionMetadata, message: { key, value: 'x' } }), key);
    }
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('idempotent: true numbers the batches (acks -1 only), and idempotent: false writes plain ones', async () => {
    const kafka = new samsa.Kafka({ clientId: 'idem', brokers: [broker.bootstrap], logLevel: samsa.logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `idem-${randomBytes(3).toString('hex')}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const idempotent = kafka.producer({ idempotent: true });
    await idempotent.connect();
    for (let i = 0; i < 3; i++) await idempotent.send({ topic, messages: [{ value: `a${i}` }, { value: `b${i}` }] });
    await assert.rejects(
      idempotent.send({ topic, acks: 1, messages: [{ value: 'x' }] }),
      (e: Error) => e.name === 'KafkaJSNonRetriableError' && /acks/.test(e.message),
    );
    await idempotent.disconnect();
    const plain = kafka.producer({ idempotent: false });
    await plain.connect();
    await plain.send({ topic, messages: [{ value: 'c' }] });
    await plain.disconnect();
    const batches = await readStoredBatches(broker, topic, 0);
    assert.deepEqual(
      batches.map((b) => [b.producerId >= 0n, b.baseSequence, b.records.map((r) => r.value!.toString())]),
      [
        [true, 0, ['a0', 'b0']],
        [true, 2, ['a1', 'b1']],
        [true, 4, ['a2', 'b2']],
        [false, -1, ['c']],
      ],
    );
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('shares a group with KafkaJS consumers: RoundRobinAssigner by default, every message once by its owner', async () => {
    const id = randomBytes(3).toString('hex');
    const topic = `mixed-${id}`;
    const groupId = `mixed-group-${id}`;
    const logs: string[] = [];
    const config = {
      clientId: 'mixed',
      brokers: [broker.bootstrap],
      logLevel: logLevel.WARN,
      logCreator: () => (e: { label: string; log: { message: string } }) =>
        void logs.push(`${e.label} ${e.log.message}`),
    };
    const ours = new samsa.Kafka(config);
    const theirs = new KafkaJS(config);
    const admin = ours.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    interface Member {
      name: string;
      assignment: number[] | null;
      leader: boolean;
      heartbeats: number;
      rebalances: number;
      consumed: { partition: number; key: string }[];
      stop(): Promise<void>;
    }
    const members: Member[] = [];
    const start = async (name: string, kafka: { consumer: KafkaJS['consumer'] }) => {
      const consumer = kafka.consumer({ groupId, ...CONSUMER_TUNING });
      const m: Member = {
        name,
        assignment: null,
        leader: false,
        heartbeats: 0,
        rebalances: 0,
        consumed: [],
        stop: () => consumer.disconnect(),
      };
      consumer.on(consumer.events.HEARTBEAT, () => {
        m.heartbeats++;
      });
      consumer.on(consumer.events.REBALANCING, () => {
        m.rebalances++;
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        m.leader = payload.isLeader;
        m.assignment = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
        assert.equal(payload.groupProtocol, 'RoundRobinAssigner');
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          m.consumed.push({ partition, key: text(message.key)! });
        },
      });
      members.push(m);
    };
    try {
      await start('samsa-1', ours as unknown as KafkaJS);
      await start('kafkajs-1', theirs);
      await start('samsa-2', ours as unknown as KafkaJS);
      await start('kafkajs-2', theirs);
      const shares = () => members.map((m) => `${m.name}=${JSON.stringify(m.assignment)}`).join(' ');
      await until(
        `the four to share the six partitions (${shares()})`,
        async () => {
          const all = members.flatMap((m) => m.assignment ?? []);
          if (members.some((m) => (m.assignment?.length ?? 0) === 0) || all.length !== 6 || new Set(all).size !== 6) {
            return false;
          }
          const { groups } = await admin.describeGroups([groupId]);
          return groups[0]!.state === 'Stable' && groups[0]!.members.length === 4;
        },
        30_000,
      );
      assert.equal((await admin.describeGroups([groupId])).groups[0]!.protocol, 'RoundRobinAssigner');
      assert.deepEqual(
        members.filter((m) => m.leader).map((m) => m.name),
        ['samsa-1'],
        'the first member leads and assigns for the KafkaJS members too',
      );
      const owner = new Map<number, string>();
      for (const m of members) for (const p of m.assignment!) owner.set(p, m.name);
      const producer = ours.producer();
      await producer.connect();
      await producer.send({ topic, messages: Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: 'v' })) });
      await producer.disconnect();
      await until('60 messages', () => members.reduce((n, m) => n + m.consumed.length, 0) >= 60);
      const keys = members.flatMap((m) => m.consumed.map((c) => c.key)).sort();
      assert.equal(keys.length, 60);
      assert.equal(new Set(keys).size, 60, 'each message once');
      for (const m of members) for (const c of m.consumed) assert.equal(owner.get(c.partition), m.name);
      assert.ok(members.every((m) => m.consumed.length > 0));
      // The first member went through the rebalances the others' joins caused, and heartbeats.
      await until('heartbeats of the first member', () => members[0]!.heartbeats > 0);
      assert.ok(members[0]!.rebalances > 0);
    } catch (e) {
      console.error(logs.join('\n'));
      throw e;
    } finally {
      await Promise.allSettled(members.map((m) => m.stop()));
      await admin.disconnect();
    }
  });

  it('sends and reads back every compression codec without codec packages', async () => {
    const kafka = new samsa.Kafka({
      clientId: 'codecs',
      brokers: [broker.bootstrap],
      logLevel: samsa.logLevel.NOTHING,
    });
    const topic = `codecs-${randomBytes(3).toString('hex')}`;
    const producer = kafka.producer();
    await producer.connect();
    const codecs = Object.entries(samsa.CompressionTypes);
    for (const [name, compression] of codecs) {
      const messages = Array.from({ length: 3 }, (_, i) => ({ key: name, value: `${name}-${i}-${'x'.repeat(200)}` }));
      await producer.send({ topic, compression, messages });
    }
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `${topic}-group`, ...CONSUMER_TUNING });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(text(message.value)!);
      },
    });
    try {
      await until('every message', () => values.length === codecs.length * 3);
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(
      values,
      codecs.flatMap(([name]) => [0, 1, 2].map((i) => `${name}-${i}-${'x'.repeat(200)}`)),
    );
  });

  it('hands its own log lines to the logCreator, filtered by logLevel', async () => {
    const entries: { namespace: string; level: number; label: string; log: Record<string, unknown> }[] = [];
    const kafka = new samsa.Kafka({
      clientId: 'logs',
      brokers: [broker.bootstrap],
      logLevel: samsa.logLevel.INFO,
      logCreator: (level) => {
        assert.equal(level, samsa.logLevel.INFO);
        return (entry) => void entries.push(entry);
      },
    });
    const topic = `logs-${randomBytes(3).toString('hex')}`;
    const consumer = kafka.consumer({ groupId: `${topic}-group`, ...CONSUMER_TUNING });
    await consumer.connect();
    await consumer.subscribe({ topic });
    await consumer.run({ eachMessage: async () => {} });
    await consumer.disconnect();
    const joined = entries.find((e) => e.log.message === 'Consumer has joined the group');
    assert.ok(joined, JSON.stringify(entries));
    assert.equal(joined.namespace, 'Consumer');
    assert.equal(joined.label, 'INFO');
    assert.equal(joined.log.logger, 'kafkajs');
    assert.equal(typeof joined.log.timestamp, 'string');
    assert.equal(joined.log.groupProtocol, 'RoundRobinAssigner');
    assert.ok(
      entries.every((e) => e.level <= samsa.logLevel.INFO),
      'no DEBUG lines at INFO',
    );
  });

  it('refuses what it does not support, and misuse, with KafkaJS errors', () => {
    const kafka = new samsa.Kafka({ brokers: ['127.0.0.1:1'] });
    assert.throws(
      () => kafka.consumer({ groupId: 'g', heartbeatInterval: 5000, sessionTimeout: 3000 }),
      (x: Error) => x.name === 'KafkaJSNonRetriableError' && x instanceof samsa.KafkaJSError,
    );
    assert.throws(
      () => new samsa.Kafka({ brokers: ['x:1'], sasl: { mechanism: 'plain', username: 'u', password: 'p' } }),
      (x: Error) => x.name === 'KafkaJSNotImplemented',
    );
    assert.throws(
      () => kafka.producer({ transactionalId: 'tx' }),
      (x: Error) => x.name === 'KafkaJSNotImplemented',
    );
  });
});
