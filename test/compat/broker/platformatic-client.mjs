// A @platformatic/kafka client for broker/platformatic-kafka.test.ts, run as a child process because the library needs
// Node >= 22.22 and the test suite also runs on Node 20. Plain JavaScript (tsc does not compile it): the test runs it
// from its place in the source tree, where '@platformatic/kafka' resolves from the repository's node_modules.
//
//   node platformatic-client.mjs --version   prints {"node", "version"}
//   node platformatic-client.mjs < spec.json  runs the spec's steps in order and prints {"results": [...]}
//
// The spec: { bootstrap, clientId, steps: [{ op, ...arguments }] }. Every step runs even when an earlier one failed;
// its result is { ok: value } or { error: { name, code, message, apiId, serverErrorMessage, errors: [...] } }.
// Bytes travel as base64 and bigints as decimal strings, both ways. The test makes every assertion; this script only
// drives the library and reports what it returned.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Admin, Consumer, compatibilityPartitioner, Producer } from '@platformatic/kafka';

if (process.argv[2] === '--version') {
  // The package's exports hide package.json; it lies two levels above the entry point (dist/index.js).
  const entry = createRequire(import.meta.url).resolve('@platformatic/kafka');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', pathToFileURL(entry)), 'utf8'));
  console.log(JSON.stringify({ node: process.version, version: pkg.version }));
  process.exit(0);
}

const spec = JSON.parse(readFileSync(0, 'utf8'));
const common = {
  clientId: spec.clientId,
  bootstrapBrokers: [spec.bootstrap],
  strict: true,
  retries: 0,
  timeout: 20_000,
  connectTimeout: 5_000,
};

const bytes = (b64) => (b64 === null ? null : Buffer.from(b64, 'base64'));
const b64 = (b) => (b === null || b === undefined ? null : b.toString('base64'));

/** JSON for results: bigints as strings, Maps as objects, Buffers as base64. */
function plain(value) {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (value instanceof Set) return [...value].map(plain);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function describeError(e) {
  if (e === null || typeof e !== 'object') return { message: String(e) };
  return {
    name: e.name,
    code: e.code,
    message: e.message,
    apiId: e.apiId,
    apiCode: e.apiCode,
    serverErrorMessage: e.serverErrorMessage,
    errors: Array.isArray(e.errors) ? e.errors.map(describeError) : undefined,
    cause: e.cause === undefined ? undefined : describeError(e.cause),
  };
}

let admin;
let producer;
let consumer;
const getAdmin = () => {
  admin ??= new Admin(common);
  return admin;
};
const getProducer = () => {
  producer ??= new Producer({ ...common, idempotent: false, autocreateTopics: true });
  return producer;
};
// A consumer is only used for its group-less calls (metadata, fetch, listOffsets): it never joins its group.
const getConsumer = () => {
  consumer ??= new Consumer({ ...common, groupId: 'samsa-compat-never-joined', maxWaitTime: 200 });
  return consumer;
};

/** Produces messages (base64 bytes as the test wrote them) in sends of `chunk`; returns each send's offsets. */
async function produce(step) {
  const sends = [];
  const partitioner = step.partitioner === 'compatibility' ? compatibilityPartitioner : undefined;
  for (let at = 0; at < step.messages.length; at += step.chunk) {
    const messages = step.messages.slice(at, at + step.chunk).map((m) => ({
      topic: step.topic,
      key: bytes(m.key),
      value: bytes(m.value),
      // Distinct Buffer keys keep repeated header names as separate headers, in order.
      headers: new Map(m.headers.map(([k, v]) => [Buffer.from(k, 'utf8'), bytes(v)])),
      timestamp: BigInt(m.timestamp),
    }));
    const result = await getProducer().send({
      messages,
      acks: -1,
      compression: step.compression,
      ...(partitioner === undefined ? {} : { partitioner }),
    });
    sends.push(result.offsets.map((o) => ({ partition: o.partition, offset: o.offset.toString() })));
  }
  return sends;
}

/**
 * Reads every partition of a topic from `from[partition]` (default 0) to its high watermark with the consumer's
 * group-less fetch() (one Fetch request for all unfinished partitions, so the client's incremental fetch session is
 * used, at most `partitionMaxBytes` per partition and request), and returns the records with their batch's
 * compression codec. Records before the fetch offset (a batch may start earlier) are dropped, as consumers do.
 */
async function fetchAll(step) {
  const c = getConsumer();
  const metadata = await c.metadata({ topics: [step.topic], forceUpdate: true });
  const topic = metadata.topics.get(step.topic);
  const next = topic.partitions.map((_, p) => BigInt(step.from?.[p] ?? 0));
  const high = topic.partitions.map(() => -1n);
  const records = topic.partitions.map(() => []);
  const codecs = topic.partitions.map(() => new Set());
  let requests = 0;
  for (;;) {
    const pending = topic.partitions
      .map((p, partition) => ({ p, partition }))
      .filter(({ partition }) => high[partition] < 0n || next[partition] < high[partition]);
    if (pending.length === 0) break;
    if (++requests > 10_000) throw new Error('fetchAll: no progress');
    const response = await c.fetch({
      node: topic.partitions[pending[0].partition].leader,
      maxWaitTime: 200,
      topics: [
        {
          topicId: topic.id,
          partitions: pending.map(({ p, partition }) => ({
            partition,
            currentLeaderEpoch: p.leaderEpoch,
            fetchOffset: next[partition],
            lastFetchedEpoch: -1,
            partitionMaxBytes: step.partitionMaxBytes ?? 1_048_576,
          })),
        },
      ],
    });
    for (const t of response.responses) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw new Error(`fetch partition ${p.partitionIndex}: error ${p.errorCode}`);
        high[p.partitionIndex] = p.highWatermark;
        for (const batch of p.records ?? []) {
          codecs[p.partitionIndex].add(batch.attributes & 7);
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            if (offset < next[p.partitionIndex]) continue; // a batch may start before the fetch offset
            records[p.partitionIndex].push({
              offset: offset.toString(),
              timestamp: (batch.firstTimestamp + r.timestampDelta).toString(),
              key: b64(r.key),
              value: b64(r.value),
              headers: r.headers.map(([k, v]) => [k === null ? null : k.toString('utf8'), b64(v)]),
            });
            next[p.partitionIndex] = offset + 1n;
          }
        }
      }
    }
  }
  return {
    topicId: topic.id,
    requests,
    partitions: records.map((rs, partition) => ({
      partition,
      highWatermark: high[partition].toString(),
      codecs: [...codecs[partition]],
      records: rs,
    })),
  };
}

/**
 * Reads a whole topic with the library's group consumer: a Consumer in group `groupId` joins it (classic protocol:
 * JoinGroup, SyncGroup with the library's roundrobin assignor, Heartbeat), and `consume()` streams from the group's
 * committed offsets, falling back to the earliest offset (a new group has none), until partition p has given
 * `counts[p]` messages or `timeoutMs` passes. The last message of each partition is committed (OffsetCommit), the
 * committed offsets are read back (OffsetFetch), then the stream and the consumer are closed (LeaveGroup). Returns
 * the records per partition as fetchAll does (without codecs: the stream does not show batches), the join events
 * and the committed offsets.
 */
async function groupConsume(step) {
  const c = new Consumer({
    ...common,
    groupId: step.groupId,
    maxWaitTime: 200,
    autocommit: false,
    sessionTimeout: 10_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 500,
  });
  const joins = [];
  c.on('consumer:group:join', (p) => joins.push(plain(p)));
  const want = step.counts;
  const records = want.map(() => []);
  const commits = [];
  let stream;
  let committed;
  try {
    stream = await c.consume({ topics: [step.topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`groupConsume: timed out with ${records.map((r) => r.length).join('/')} messages`)),
        step.timeoutMs,
      );
      stream.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      stream.on('data', (m) => {
        const rs = records[m.partition];
        rs.push({
          offset: m.offset.toString(),
          timestamp: m.timestamp.toString(),
          key: b64(m.key),
          value: b64(m.value),
          headers: m.headerEntries.map(([k, v]) => [k === undefined ? null : k.toString('utf8'), b64(v)]),
        });
        if (rs.length === want[m.partition]) commits.push(m.commit());
        if (records.every((r, p) => r.length >= want[p])) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await Promise.all(commits);
    committed = await c.listCommittedOffsets({ topics: [{ topic: step.topic, partitions: want.map((_, p) => p) }] });
  } finally {
    await stream?.close();
    await c.close();
  }
  return {
    joins,
    committed: plain(committed),
    partitions: records.map((rs, partition) => ({ partition, records: rs })),
  };
}

/**
 * Long poll: a group-less Fetch waits at offset 0 of an empty partition with a max wait (120 s) far beyond this
 * process's time limit; one second later this process produces one message. The fetch can only return in time if
 * the broker answers the waiting Fetch when the data arrives. Returns the values fetched.
 */
async function longPoll(step) {
  const c = getConsumer();
  const metadata = await c.metadata({ topics: [step.topic], forceUpdate: true });
  const topic = metadata.topics.get(step.topic);
  const p = topic.partitions[0];
  const fetching = c.fetch({
    node: p.leader,
    maxWaitTime: 120_000,
    topics: [
      {
        topicId: topic.id,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: p.leaderEpoch,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await getProducer().send({ messages: [{ topic: step.topic, partition: 0, value: Buffer.from('wake up') }] });
  const response = await fetching;
  const values = [];
  for (const t of response.responses) {
    for (const part of t.partitions) {
      for (const batch of part.records ?? []) for (const r of batch.records) values.push(r.value.toString('utf8'));
    }
  }
  return values;
}

const ops = {
  longPoll,
  createTopics: (s) => getAdmin().createTopics(s.options),
  deleteTopics: (s) => getAdmin().deleteTopics(s.options),
  createPartitions: (s) => getAdmin().createPartitions(s.options),
  listTopics: () => getAdmin().listTopics(),
  metadata: async (s) => {
    const m = await getAdmin().metadata({ topics: s.topics, forceUpdate: true });
    return { brokers: m.brokers, controllerId: m.controllerId, topics: m.topics };
  },
  describeConfigs: (s) => getAdmin().describeConfigs(s.options),
  alterConfigs: (s) => getAdmin().alterConfigs(s.options),
  incrementalAlterConfigs: (s) => getAdmin().incrementalAlterConfigs(s.options),
  // Admin.listOffsets: one timestamp per partition (-1 latest, -2 earliest, -3 max timestamp, or a time in ms).
  adminListOffsets: (s) =>
    getAdmin().listOffsets({
      topics: s.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, timestamp: BigInt(p.timestamp) })),
      })),
    }),
  // Consumer.listOffsetsWithTimestamps: one timestamp for every partition of the topics.
  consumerListOffsets: (s) =>
    getConsumer().listOffsetsWithTimestamps({ topics: s.topics, timestamp: BigInt(s.timestamp) }),
  produce,
  fetchAll,
  groupConsume,
};

const results = [];
try {
  for (const step of spec.steps) {
    try {
      results.push({ ok: plain((await ops[step.op](step)) ?? null) });
    } catch (e) {
      results.push({ error: describeError(e) });
    }
  }
} finally {
  await Promise.allSettled([admin?.close(), producer?.close(), consumer?.close()]);
}
console.log(JSON.stringify({ results }));
