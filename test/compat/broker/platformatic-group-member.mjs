// A @platformatic/kafka process for broker/platformatic-consumer-protocol.test.ts, driven over stdin and reporting as
// JSON lines (the events of group-members.ts's MemberEvent). Plain JavaScript, run from the source tree on Node >=
// 22.22 (see platformatic-client.mjs for why). The first stdin line is the spec; `role` picks what the process is.
//
// role "member": one group member with the KIP-848 protocol (`groupProtocol: 'consumer'`): a Consumer in
// `groupId` (optionally static, `groupInstanceId`) consumes `topic` with `consume()` from the group's committed
// offsets (else the earliest), offsets never auto-committed. Records arrive one at a time; each burst is reported
// and then committed (Consumer.commit, i.e. OffsetCommit with the member epoch), one commit at a time. A record of a
// partition the consumer no longer owns (Consumer.assignments, which the library updates before it acknowledges a
// revocation to the coordinator) is not processed (`stray`), and a commit for such a partition is not sent: it is
// reported as failed, as a Java client's commit after losing the partition would be.
//   Printed:
//     {"ev": "joined", "memberId"}                        'consumer:group:join'
//     {"ev": "assign"|"revoke", "partitions", "owned"}    a change of Consumer.assignments (what was added/removed)
//     {"ev": "msgs", "recs": [[partition, offset], ...]}  records processed
//     {"ev": "stray", "recs": [...]}                      records of partitions not owned when they arrived
//     {"ev": "commit", "ok": [[p, next]], "failed": [[p, next, error]]}
//     {"ev": "error", "error"}                            heartbeat and stream errors, as the library reports them
//     {"ev": "nocommit"} {"ev": "paused"} {"ev": "resumed"} {"ev": "left", ...} {"ev": "closed"}
//   Commands (one a line): nocommit (keep consuming, stop committing); pause / resume (the stream); close
//   (Consumer.close: the library leaves with member epoch -1, static or not); leave-static (what Kafka's Java client
//   does when a static member closes: commit, then a ConsumerGroupHeartbeat with member epoch -2, a temporary leave
//   that keeps the member's partitions for its session timeout; then the process exits without another request).
//   End of stdin and the deadline also close. With `refreshMetadataForAssignments`, a shim for a library bug with
//   partitions added to a topic (see refreshMetadataForAssignments below).
//
// role "admin": no group membership; each command line is {"id", "op", ...} and is answered with
// {"ev": "result", "id", "ok"} or {"ev": "result", "id", "error"}. Ops: createTopics, createPartitions, produce
// (keyed messages `key-<i>`, the library's default partitioner or, with `spread`, partition i % spread; acks -1), describeGroups (Admin.describeGroups:
// DescribeGroups), consumerGroupDescribe (the library's ConsumerGroupDescribe v0 API, which its Admin does not
// use), committed (Admin.listConsumerGroupOffsets: OffsetFetch) and ends (Admin.listOffsets, latest).
//
// Bigints travel as decimal numbers (offsets here stay far below 2^53); the test makes every assertion.
import { createInterface } from 'node:readline';
import {
  Admin,
  Connection,
  Consumer,
  consumerGroupDescribeV0,
  consumerGroupHeartbeatV0,
  Producer,
} from '@platformatic/kafka';

// Lines are read in order through one iterator, so none is lost between the spec and the first command.
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const spec = JSON.parse((await lines.next()).value);
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const [host, port] = [
  spec.bootstrap.slice(0, spec.bootstrap.lastIndexOf(':')),
  Number(spec.bootstrap.slice(spec.bootstrap.lastIndexOf(':') + 1)),
];
const common = {
  clientId: spec.name,
  bootstrapBrokers: [spec.bootstrap],
  strict: true,
  connectTimeout: 2_000,
  timeout: 10_000,
  ...(spec.options ?? {}),
};

/** One line for an error and its nested errors: message [apiId: server message]. */
function describeError(e) {
  if (e === null || typeof e !== 'object') return String(e);
  let s = e.apiId === undefined ? e.message : `${e.apiId}${e.serverErrorMessage ? `: ${e.serverErrorMessage}` : ''}`;
  if (Array.isArray(e.errors) && e.errors.length > 0) s += ` (${e.errors.map(describeError).join('; ')})`;
  else if (e.cause !== undefined) s += ` (cause: ${describeError(e.cause)})`;
  return s;
}

/** JSON for results: bigints as numbers, Maps as objects, Buffers as base64. */
function plain(value) {
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (value instanceof Set) return [...value].map(plain);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Set by the first close (or leave-static): later commands are ignored. */
let closing = false;
let onCommand = () => {};
/** Every later stdin line, in order, to `onCommand`; the end of stdin and the deadline close. */
async function readCommands() {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) break;
    if (value.trim() !== '') onCommand(value.trim());
  }
  onCommand('close');
}
setTimeout(() => onCommand('close'), spec.deadlineSeconds * 1000).unref();

/**
 * A test-only shim for a library bug (spec.refreshMetadataForAssignments): the library reads partitions from its
 * metadata cache (up to metadataMaxAge old, 5 s by default) without refreshing it when the coordinator assigns a
 * partition the cache does not have yet (partitions just added to the topic): its stream then throws a TypeError
 * reading the partition's leader, which kills the process (and with metadataMaxAge 0 it sent a fetch without fetch
 * offset instead, a validation error that destroyed the stream). Here every internal metadata lookup that lacks an
 * assigned partition is redone with forceUpdate.
 */
function refreshMetadataForAssignments(consumer) {
  let proto = Object.getPrototypeOf(consumer);
  let kMetadata;
  while (proto !== null && kMetadata === undefined) {
    kMetadata = Object.getOwnPropertySymbols(proto).find((k) => k.description === 'plt.kafka.base.metadata');
    proto = Object.getPrototypeOf(proto);
  }
  if (kMetadata === undefined) throw new Error('@platformatic/kafka: no metadata symbol to shim');
  const lookup = consumer[kMetadata].bind(consumer);
  const lacksAssigned = (metadata) =>
    (consumer.assignments ?? []).some((a) => {
      const t = metadata.topics.get(a.topic);
      return t !== undefined && a.partitions.some((p) => t.partitions[p] === undefined);
    });
  consumer[kMetadata] = (options, callback) =>
    lookup(options, (error, metadata) => {
      if (!error && !options.forceUpdate && lacksAssigned(metadata)) {
        lookup({ ...options, forceUpdate: true }, callback);
        return;
      }
      callback(error, metadata);
    });
}

if (spec.role === 'admin') {
  const admin = new Admin(common);
  const producer = new Producer({ ...common, idempotent: false });
  const ops = {
    createTopics: (c) => admin.createTopics({ topics: [c.topic], partitions: c.partitions, replicas: 1 }),
    createPartitions: (c) => admin.createPartitions({ topics: [{ name: c.topic, count: c.count }] }),
    produce: async (c) => {
      // Fresh metadata: the topic may have gained partitions since the last send.
      await producer.metadata({ topics: [c.topic], forceUpdate: true });
      const messages = [];
      for (let i = c.from; i < c.from + c.count; i++) {
        const m = { topic: c.topic, key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}`) };
        // `spread`: partition i % spread instead of the partitioner's choice.
        if (c.spread !== undefined) m.partition = i % c.spread;
        messages.push(m);
      }
      const r = await producer.send({ messages, acks: -1 });
      return r.offsets;
    },
    describeGroups: (c) => admin.describeGroups({ groups: [c.groupId] }),
    consumerGroupDescribe: async (c) => {
      const connection = new Connection(spec.name);
      try {
        await connection.connect(host, port);
        const r = await consumerGroupDescribeV0.api.async(connection, [c.groupId], false);
        return r.groups[0];
      } finally {
        await connection.close();
      }
    },
    committed: async (c) => {
      const groups = await admin.listConsumerGroupOffsets({
        groups: [{ groupId: c.groupId, topics: [{ name: c.topic, partitionIndexes: c.partitions }] }],
      });
      return groups[0].topics.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.committedOffset]));
    },
    ends: async (c) => {
      const topics = await admin.listOffsets({
        topics: [
          { name: c.topic, partitions: c.partitions.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) },
        ],
      });
      return topics[0].partitions.map((p) => [p.partitionIndex, p.offset]);
    },
  };
  onCommand = async (line) => {
    if (closing) return;
    if (line === 'close') {
      closing = true;
      await Promise.allSettled([admin.close(), producer.close()]);
      out({ ev: 'closed' });
      process.exit(0);
    }
    const c = JSON.parse(line);
    try {
      out({ ev: 'result', id: c.id, ok: plain((await ops[c.op](c)) ?? null) });
    } catch (e) {
      out({ ev: 'result', id: c.id, error: describeError(e) });
    }
  };
  void readCommands();
} else {
  const topic = spec.topic;
  const consumer = new Consumer({
    ...common,
    groupId: spec.groupId,
    groupProtocol: 'consumer',
    ...(spec.groupInstanceId === undefined ? {} : { groupInstanceId: spec.groupInstanceId }),
    autocommit: false,
    maxWaitTime: 200,
    sessionTimeout: spec.sessionTimeout,
    rebalanceTimeout: spec.rebalanceTimeout,
    heartbeatInterval: spec.heartbeatInterval,
  });
  if (spec.refreshMetadataForAssignments) refreshMetadataForAssignments(consumer);
  consumer.on('consumer:group:join', (p) => out({ ev: 'joined', memberId: p.memberId }));
  consumer.on('consumer:heartbeat:error', (p) => out({ ev: 'error', error: `heartbeat: ${describeError(p?.error)}` }));

  /** Partitions of `topic` the library says this consumer owns. */
  const current = () => new Set(consumer.assignments?.find((a) => a.topic === topic)?.partitions ?? []);
  let reported = new Set();
  let reportedOnce = false;
  /**
   * Reports a change of ownership since the last report: revocations (unless `additionsOnly`, used before reporting
   * records, so that a revocation is reported after the records processed while the partition was owned and after
   * their commit), then additions. An idle member's first (empty) assignment is reported too.
   */
  const sync = (additionsOnly = false) => {
    const now = current();
    const revoked = additionsOnly ? [] : [...reported].filter((p) => !now.has(p)).sort((a, b) => a - b);
    const added = [...now].filter((p) => !reported.has(p)).sort((a, b) => a - b);
    reported = new Set([...now, ...(additionsOnly ? [...reported] : [])]);
    const owned = [...reported].sort((a, b) => a - b);
    if (revoked.length > 0) out({ ev: 'revoke', partitions: revoked, owned });
    if (added.length > 0 || (!reportedOnce && consumer.assignments !== null)) {
      out({ ev: 'assign', partitions: added, owned });
    }
    if (consumer.assignments !== null) reportedOnce = true;
  };

  let commit = true;
  let pending = []; // [partition, offset, leaderEpoch] processed since the last flush
  let strays = [];
  let flushing = false;
  let flushAgain = false;
  /** Reports the burst processed so far and commits it; one flush at a time, ownership reported after it. */
  const flush = async () => {
    if (flushing) {
      flushAgain = true;
      return;
    }
    flushing = true;
    try {
      do {
        flushAgain = false;
        const recs = pending;
        pending = [];
        if (strays.length > 0) {
          out({ ev: 'stray', recs: strays });
          strays = [];
        }
        if (recs.length > 0) {
          sync(true);
          out({ ev: 'msgs', recs: recs.map(([p, o]) => [p, o]) });
          if (commit) {
            const next = new Map();
            for (const [p, o, epoch] of recs) next.set(p, { offset: o + 1, epoch });
            const owned = current();
            const offsets = [];
            const failed = [];
            for (const [p, { offset, epoch }] of [...next].sort((a, b) => a[0] - b[0])) {
              if (owned.has(p)) offsets.push({ topic, partition: p, offset: BigInt(offset), leaderEpoch: epoch });
              else failed.push([p, offset, 'not sent: the partition was revoked before the commit']);
            }
            let ok = offsets.map((o) => [o.partition, Number(o.offset)]);
            if (offsets.length > 0) {
              try {
                await consumer.commit({ offsets });
              } catch (e) {
                const why = describeError(e);
                for (const [p, o] of ok) failed.push([p, o, why]);
                ok = [];
              }
            }
            out({ ev: 'commit', ok, failed });
          }
        }
      } while (flushAgain || pending.length > 0);
    } finally {
      flushing = false;
    }
    sync();
  };
  let flushTimer = null;
  const scheduleFlush = () => {
    flushTimer ??= setTimeout(() => {
      flushTimer = null;
      void flush();
    }, 20);
  };
  // Ownership changes with no record in flight are reported from here (with records, flush() reports them).
  const poll = setInterval(() => {
    if (!flushing && flushTimer === null && pending.length === 0) sync();
  }, 50);

  let stream;
  const close = async () => {
    clearInterval(poll);
    clearTimeout(flushTimer);
    await flush();
    await stream?.close().catch((e) => out({ ev: 'error', error: `stream close: ${describeError(e)}` }));
  };
  onCommand = async (cmd) => {
    if (closing) return;
    if (cmd === 'nocommit') {
      commit = false;
      out({ ev: 'nocommit' });
    } else if (cmd === 'pause') {
      stream?.pause();
      out({ ev: 'paused' });
    } else if (cmd === 'resume') {
      stream?.resume();
      out({ ev: 'resumed' });
    } else if (cmd === 'close') {
      closing = true;
      await close();
      await consumer.close().catch((e) => out({ ev: 'error', error: `close: ${describeError(e)}` }));
      out({ ev: 'closed' });
      process.exit(0);
    } else if (cmd === 'leave-static') {
      closing = true;
      await close();
      const memberId = consumer.memberId;
      const connection = new Connection(spec.name);
      try {
        await connection.connect(host, port);
        // group, member, epoch -2, instance, rack, rebalance timeout (-1: unchanged), topics, regex, assignor,
        // owned partitions: Kafka's client sends nulls for what did not change.
        const r = await consumerGroupHeartbeatV0.api.async(
          connection,
          spec.groupId,
          memberId,
          -2,
          spec.groupInstanceId,
          null,
          -1,
          null,
          null,
          null,
          null,
        );
        out({ ev: 'left', memberId, memberEpoch: r.memberEpoch });
      } catch (e) {
        out({ ev: 'left', memberId, error: describeError(e) });
      }
      process.exit(0);
    }
  };
  void readCommands();

  try {
    stream = await consumer.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    stream.on('error', (e) => out({ ev: 'error', error: `stream: ${describeError(e)}` }));
    stream.on('data', (m) => {
      const rec = [m.partition, Number(m.offset), m.leaderEpoch ?? -1];
      if (current().has(m.partition)) pending.push(rec);
      else strays.push([rec[0], rec[1]]);
      scheduleFlush();
    });
  } catch (e) {
    out({ ev: 'error', error: `consume: ${describeError(e)}` });
  }
}
