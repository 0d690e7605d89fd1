import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { type StartedBroker, startBroker } from '../../../src/broker/start-broker.js';
import type { GroupCoordinator } from '../../../src/coordinator/group/group-coordinator.js';
import { offsetCommitRecord } from '../../../src/coordinator/group/offsets-topic-records.js';
import {
  type GroupLoadTarget,
  loadGroupsFromOffsetsTopic,
  OFFSETS_TOPIC,
  type OffsetsTopicAccess,
  type OffsetsTopicPartition,
  OffsetsTopicStore,
} from '../../../src/coordinator/group/offsets-topic-store.js';
import type { StoredOffset } from '../../../src/coordinator/group/types.js';
import type { Logger } from '../../../src/log/logger.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import type { GroupMetadataValue } from '../../../src/protocol/generated/data/group-metadata-value.js';
import { groupPartition } from '../../../src/protocol/hash.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../../src/protocol/records/index.js';
import type { AppendResult, ReadOptions, ReadResult } from '../../../src/storage/types.js';
import { joinRequest, subscription } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-offsets-'));
  dirs.push(d);
  return d;
}

/** A logger that keeps the messages of warn and error lines. */
function capturingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write(line: string) {
        const o = JSON.parse(line) as { msg: string };
        warnings.push(o.msg);
      },
    },
  );
  return { logger, warnings };
}

const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': '0' };

function start(dir: string, logger?: Logger, config: Record<string, string> = {}): Promise<StartedBroker> {
  return startBroker({ dataDir: dir, logger, config: { ...BROKER_CONFIG, ...config } });
}

interface TopicRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  compression: number;
}

/** Every record of one `__consumer_offsets` partition. */
function readRecords(kafka: StartedBroker, partition: number): TopicRecord[] {
  const p = kafka.broker.replicas.get(OFFSETS_TOPIC, partition)!;
  const out: TopicRecord[] = [];
  let offset = p.log.logStartOffset;
  while (offset < p.highWatermark) {
    const { records } = p.read(offset, { maxBytes: 1 << 20, maxOffset: p.highWatermark });
    for (const b of decodeRecordBatches(records)) {
      for (const r of b.records) out.push({ ...r, compression: b.compression });
      offset = b.baseOffset + BigInt(b.lastOffsetDelta) + 1n;
    }
  }
  return out;
}

const commit = (topic: string, partition: number, offset: bigint, metadata = '') => ({
  topic,
  partition,
  offset,
  leaderEpoch: -1,
  metadata,
});

/** JoinGroup (two steps, KIP-394) and SyncGroup of one consumer that assigns itself `assignment`. */
async function joinAndSync(groups: GroupCoordinator, groupId: string, assignment: Buffer): Promise<string> {
  const req = joinRequest({
    groupId,
    sessionTimeoutMs: 30_000,
    protocols: [{ name: 'range', metadata: subscription(['t']) }],
  });
  const first = await groups.joinGroup(req);
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const joined = await groups.joinGroup({ ...req, memberId: first.memberId });
  assert.equal(joined.errorCode, ErrorCode.NONE);
  const synced = await groups.syncGroup({
    groupId,
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: joined.memberId, assignment }],
  });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  return joined.memberId;
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('__consumer_offsets store on a broker', () => {
  it('is created on first use, internal and compacted, and holds commits in Kafka formats', async () => {
    const dir = dataDir();
    const kafka = await start(dir);
    try {
      assert.equal(kafka.broker.metadata.topic(OFFSETS_TOPIC), undefined, 'not created before a group needs it');
      const before = Date.now();
      const res = await kafka.broker.groups.commitOffsets('simple', [commit('t', 0, 42n, 'm'), commit('t', 1, 7n)]);
      assert.deepEqual(
        res.map((r) => r.errorCode),
        [0, 0],
      );
      const topic = kafka.broker.metadata.topic(OFFSETS_TOPIC)!;
      assert.equal(topic.internal, true);
      assert.equal(topic.partitions.length, 50);
      assert.deepEqual(topic.configs, {
        'cleanup.policy': 'compact',
        'compression.type': 'producer',
        'segment.bytes': '104857600',
      });
      assert.equal(topic.partitions[0]!.replicas.length, 1, 'replication factor 3 capped at the one live broker');

      const records = readRecords(kafka, groupPartition('simple', 50));
      assert.equal(records.length, 2);
      const [r0, r1] = records;
      assert.equal(r0!.compression, 0);
      assert.ok(r0!.timestamp >= BigInt(before) && r0!.timestamp <= BigInt(Date.now()));
      // OffsetCommitKey v1: version, group, topic, partition.
      assert.deepEqual(r0!.key, offsetCommitRecord('simple', 't', 0, null).key);
      assert.deepEqual(r1!.key, offsetCommitRecord('simple', 't', 1, null).key);
      // OffsetCommitValue v3: version, offset, leader epoch, metadata, commit timestamp.
      const v = r0!.value!;
      assert.equal(v.readInt16BE(0), 3);
      assert.equal(v.readBigInt64BE(2), 42n);
      assert.equal(v.readInt32BE(10), -1);
      assert.equal(v.readInt16BE(14), 1);
      assert.equal(v.toString('utf8', 16, 17), 'm');
      // Taken when the commit arrived; the record's timestamp is the (later) append, after the topic creation.
      const committed = v.readBigInt64BE(17);
      assert.ok(committed >= BigInt(before) && committed <= r0!.timestamp);
      assert.equal(v.length, 25);
    } finally {
      await kafka.stop();
    }
  });

  it('brings back offsets, Stable and Empty groups after a restart on the same data dir', async () => {
    const dir = dataDir();
    let kafka = await start(dir);
    let memberId: string;
    try {
      memberId = await joinAndSync(kafka.broker.groups, 'stable', Buffer.from('assignment-1'));
      const gen = kafka.broker.groups.inspect('stable')!.generationId;
      const res = await kafka.broker.groups.offsetCommit({
        groupId: 'stable',
        generationId: gen,
        memberId,
        groupInstanceId: null,
        offsets: [commit('t', 0, 100n, 'meta'), commit('t', 2, 200n)],
      });
      assert.deepEqual(
        res.map((r) => r.errorCode),
        [0, 0],
      );
      // A group whose only member left: it goes Empty and keeps its offsets.
      const leaver = await joinAndSync(kafka.broker.groups, 'emptied', Buffer.from('x'));
      await kafka.broker.groups.commitOffsets('emptied', [commit('t', 0, 5n)]);
      await kafka.broker.groups.leaveGroup({
        groupId: 'emptied',
        members: [{ memberId: leaver, groupInstanceId: null }],
      });
      await eventually(async () => {
        const [d] = await kafka.broker.groups.describeGroups(['emptied']);
        return d!.groupState === 'Empty';
      }, 'the left group to become Empty');
      await kafka.broker.groups.commitOffsets('simple', [commit('u', 3, 9n)]);

      // The group record: GroupMetadataKey v2, GroupMetadataValue v3 with the member and its assignment.
      const groupRecords = readRecords(kafka, groupPartition('stable', 50)).filter(
        (r) => r.key!.readInt16BE(0) === 2 && r.key!.toString('utf8', 4) === 'stable',
      );
      assert.ok(groupRecords.length >= 1);
      const value = groupRecords.at(-1)!.value!;
      assert.equal(value.readInt16BE(0), 3);
      assert.ok(value.includes(Buffer.from(memberId)));
      assert.ok(value.includes(Buffer.from('assignment-1')));
    } finally {
      await kafka.stop();
    }

    kafka = await start(dir);
    try {
      const groups = kafka.broker.groups;
      const fetched = await groups.fetchOffsets('stable', null);
      assert.equal(fetched.errorCode, 0);
      assert.deepEqual(fetched.offsets.map((o) => [o.topic, o.partition, o.offset, o.metadata]).sort(), [
        ['t', 0, 100n, 'meta'],
        ['t', 2, 200n, ''],
      ]);
      const [stable, emptied, simple] = await groups.describeGroups(['stable', 'emptied', 'simple']);
      assert.equal(stable!.groupState, 'Stable');
      assert.equal(stable!.protocolType, 'consumer');
      assert.equal(stable!.protocolData, 'range');
      assert.deepEqual(
        stable!.members.map((m) => [m.memberId, m.memberAssignment.toString()]),
        [[memberId, 'assignment-1']],
      );
      assert.equal(emptied!.groupState, 'Empty');
      assert.equal(emptied!.protocolType, 'consumer');
      assert.equal(emptied!.members.length, 0);
      assert.equal(simple!.groupState, 'Empty');
      assert.deepEqual(
        (await groups.fetchOffsets('emptied', [{ topic: 't', partition: 0 }])).offsets.map((o) => o.offset),
        [5n],
      );
      assert.deepEqual(
        (await groups.fetchOffsets('simple', null)).offsets.map((o) => [o.topic, o.partition, o.offset]),
        [['u', 3, 9n]],
      );
      // The restored member keeps its generation: it can heartbeat and commit without rejoining.
      const gen = groups.inspect('stable')!.generationId;
      assert.equal(
        (await groups.heartbeat({ groupId: 'stable', generationId: gen, memberId, groupInstanceId: null })).errorCode,
        0,
      );
    } finally {
      await kafka.stop();
    }
  });

  it('writes tombstones for deleted groups, which stay deleted after a restart', async () => {
    const dir = dataDir();
    let kafka = await start(dir);
    const p = groupPartition('doomed', 50);
    try {
      await kafka.broker.groups.commitOffsets('doomed', [commit('t', 0, 1n), commit('t', 1, 2n)]);
      const member = await joinAndSync(kafka.broker.groups, 'doomed', Buffer.from('a'));
      await kafka.broker.groups.leaveGroup({
        groupId: 'doomed',
        members: [{ memberId: member, groupInstanceId: null }],
      });
      await eventually(
        async () => (await kafka.broker.groups.describeGroups(['doomed']))[0]!.groupState === 'Empty',
        'Empty',
      );
      const before = readRecords(kafka, p).length;
      assert.deepEqual(await kafka.broker.groups.deleteGroups(['doomed']), [{ groupId: 'doomed', errorCode: 0 }]);
      const tombstones = readRecords(kafka, p).slice(before);
      assert.deepEqual(
        tombstones.map((r) => [r.key!.readInt16BE(0), r.value]),
        [
          [1, null],
          [1, null],
          [2, null],
        ],
      );
      assert.deepEqual(tombstones[2]!.key, Buffer.from([0, 2, 0, 6, ...Buffer.from('doomed')]));
    } finally {
      await kafka.stop();
    }
    kafka = await start(dir);
    try {
      assert.equal(kafka.broker.groups.inspect('doomed'), undefined);
      const [d] = await kafka.broker.groups.describeGroups(['doomed']);
      assert.equal(d!.groupState, 'Dead');
      const fetched = await kafka.broker.groups.fetchOffsets('doomed', [{ topic: 't', partition: 0 }]);
      assert.equal(fetched.offsets[0]!.offset, -1n);
    } finally {
      await kafka.stop();
    }
  });

  it('keeps call order for writes queued behind the topic creation', async () => {
    const dir = dataDir();
    let kafka = await start(dir);
    try {
      const groups = kafka.broker.groups;
      const writes = [1n, 2n, 3n].map((o) => groups.commitOffsets('ordered', [commit('t', 0, o)]));
      for (const r of await Promise.all(writes)) assert.equal(r[0]!.errorCode, 0);
      const values = readRecords(kafka, groupPartition('ordered', 50)).map((r) => r.value!.readBigInt64BE(2));
      assert.deepEqual(values, [1n, 2n, 3n]);
    } finally {
      await kafka.stop();
    }
    kafka = await start(dir);
    try {
      const fetched = await kafka.broker.groups.fetchOffsets('ordered', null);
      assert.equal(fetched.offsets[0]!.offset, 3n);
    } finally {
      await kafka.stop();
    }
  });

  it('expires old offsets on offsets.retention.check.interval.ms, writing tombstones', async () => {
    const dir = dataDir();
    const kafka = await start(dir, undefined, {
      'offsets.retention.minutes': '1',
      'offsets.retention.check.interval.ms': '20',
    });
    try {
      const groups = kafka.broker.groups;
      await groups.commitOffsets('old', [commit('t', 0, 1n)], Date.now() - 120_000);
      await groups.commitOffsets('fresh', [commit('t', 0, 1n)]);
      await eventually(() => groups.inspect('old') === undefined, 'the expired group to go');
      const records = readRecords(kafka, groupPartition('old', 50)).filter((r) =>
        r.key!.subarray(4, 7).equals(Buffer.from('old')),
      );
      assert.deepEqual(
        records.map((r) => [r.key!.readInt16BE(0), r.value === null]),
        [
          [1, false],
          [1, true],
          [2, true],
        ],
      );
      assert.ok(groups.inspect('fresh') !== undefined);
    } finally {
      await kafka.stop();
    }
  });

  it('skips records that do not decode, with a warning, and loads the rest', async () => {
    const dir = dataDir();
    let kafka = await start(dir);
    const p = groupPartition('g', 50);
    try {
      await kafka.broker.groups.commitOffsets('g', [commit('t', 0, 1n)]);
      const good = offsetCommitRecord('g', 't', 1, {
        offset: 11n,
        leaderEpoch: -1,
        metadata: '',
        commitTimestamp: BigInt(Date.now()),
        expireTimestamp: -1n,
      });
      const batch = encodeRecordBatch({
        records: [
          { key: Buffer.from([0, 1, 0, 9, 0x67]), value: Buffer.from([0, 3]) }, // truncated key
          { key: offsetCommitRecord('g', 't', 2, null).key, value: Buffer.from([0, 3, 1]) }, // truncated value
          { key: null, value: Buffer.from('no key') },
          { key: Buffer.from([0, 9, 1, 2, 3]), value: Buffer.from('a newer record type') },
          { key: good.key, value: good.value },
        ],
      });
      const partition = kafka.broker.replicas.get(OFFSETS_TOPIC, p)!;
      partition.appendAsLeader(batch, Date.now());
    } finally {
      await kafka.stop();
    }
    const { logger, warnings } = capturingLogger();
    kafka = await start(dir, logger);
    try {
      const skipped = warnings.filter((w) => w.includes(`${OFFSETS_TOPIC}-${p}: skipping`));
      assert.equal(skipped.length, 3, warnings.join('\n'));
      assert.ok(skipped[0]!.includes('undecodable record at offset 1'));
      assert.ok(skipped[2]!.includes('without a key'));
      const fetched = await kafka.broker.groups.fetchOffsets('g', null);
      assert.deepEqual(fetched.offsets.map((o) => [o.partition, o.offset]).sort(), [
        [0, 1n],
        [1, 11n],
      ]);
    } finally {
      await kafka.stop();
    }
  });
});

// ---- without a broker -------------------------------------------------------------------------------------------

const EMPTY_APPEND: AppendResult = {
  firstOffset: 0n,
  lastOffset: 0n,
  logAppendTime: -1n,
  maxTimestamp: -1n,
  offsetOfMaxTimestamp: 0n,
  batchCount: 1,
  recordCount: 1,
  bytes: 0,
  logStartOffset: 0n,
};

/** An in-memory partition: appended batches get consecutive offsets; reads honour maxBytes (at least one batch). */
class FakePartition implements OffsetsTopicPartition {
  isLeader = true;
  batches: Buffer[] = [];
  flushBeforeAck = false;
  flushError: unknown = null;
  appendError: unknown = null;
  private next = 0n;

  get highWatermark(): bigint {
    return this.next;
  }

  get log() {
    return {
      logStartOffset: 0n,
      flushBeforeAck: this.flushBeforeAck,
      flush: () => (this.flushError === null ? Promise.resolve() : Promise.reject(this.flushError)),
    };
  }

  appendAsLeader(records: Buffer): AppendResult {
    if (this.appendError !== null) throw this.appendError;
    const copy = Buffer.from(records);
    copy.writeBigInt64BE(this.next, 0);
    const count = copy.readInt32BE(57);
    this.next += BigInt(count);
    this.batches.push(copy);
    return EMPTY_APPEND;
  }

  read(offset: bigint, options: ReadOptions): ReadResult {
    const out: Buffer[] = [];
    let bytes = 0;
    for (const b of this.batches) {
      const base = b.readBigInt64BE(0);
      const last = base + BigInt(b.readInt32BE(23));
      if (last < offset) continue;
      if (out.length > 0 && bytes + b.length > options.maxBytes) break;
      out.push(b);
      bytes += b.length;
    }
    return {
      records: Buffer.concat(out),
      firstOffset: offset,
      logStartOffset: 0n,
      logEndOffset: this.next,
      highWatermark: this.next,
    };
  }
}

function fakeTopic(n: number): OffsetsTopicAccess<FakePartition> & { parts: FakePartition[]; changed: number } {
  const parts = Array.from({ length: n }, () => new FakePartition());
  return {
    parts,
    changed: 0,
    numPartitions: n,
    partitionFor: (i) => parts[i],
    dataChanged() {
      this.changed++;
    },
  };
}

function recordingTarget(): GroupLoadTarget & {
  loaded: Map<string, { value: GroupMetadataValue | null; offsets: readonly StoredOffset[] }>;
  events: string[];
} {
  const loaded = new Map<string, { value: GroupMetadataValue | null; offsets: readonly StoredOffset[] }>();
  const events: string[] = [];
  return {
    loaded,
    events,
    beginLoading: () => events.push('begin'),
    completeLoading: () => events.push('complete'),
    load: (groupId, value, offsets) => {
      events.push(`load ${groupId}`);
      loaded.set(groupId, { value, offsets });
    },
    loadConsumerGroup: (groupId) => {
      events.push(`load consumer group ${groupId}`);
    },
  };
}

const SILENT = { info() {}, warn() {}, error() {} };
const offsetValue = (offset: bigint) => ({
  offset,
  leaderEpoch: 0,
  metadata: '',
  commitTimestamp: 1n,
  expireTimestamp: -1n,
});

describe('OffsetsTopicStore', () => {
  it('appends one batch per write to the group partition and tells waiters', async () => {
    const topic = fakeTopic(3);
    const store = new OffsetsTopicStore(topic, { now: () => 1234 });
    await store.storeOffsets('g', [
      { topic: 't', partition: 0, value: offsetValue(1n) },
      { topic: 't', partition: 1, value: offsetValue(2n) },
    ]);
    await store.removeOffsets('g', [{ topic: 't', partition: 0 }]);
    await store.storeGroup('g', null);
    await store.storeOffsets('g', []);
    const part = topic.parts[groupPartition('g', 3)]!;
    assert.equal(part.batches.length, 3);
    assert.equal(topic.changed, 3);
    const [b0] = decodeRecordBatches(part.batches[0]!);
    assert.equal(b0!.records.length, 2);
    assert.equal(b0!.baseTimestamp, 1234n);
    assert.equal(b0!.compression, 0);
    assert.equal(b0!.producerId, -1n);
  });

  it('rejects with the append error as a KafkaError', async () => {
    const topic = fakeTopic(1);
    const store = new OffsetsTopicStore(topic);
    topic.parts[0]!.isLeader = false;
    await assert.rejects(store.storeGroup('g', null), (e: unknown) => {
      return e instanceof KafkaError && e.code === ErrorCode.NOT_LEADER_OR_FOLLOWER;
    });
    topic.parts[0]!.isLeader = true;
    topic.parts[0]!.appendError = new KafkaError(ErrorCode.MESSAGE_TOO_LARGE);
    await assert.rejects(store.storeGroup('g', null), (e: unknown) => (e as KafkaError).code === 10);
    topic.parts[0]!.appendError = null;
    topic.parts[0]!.flushBeforeAck = true;
    topic.parts[0]!.flushError = new Error('EIO');
    await assert.rejects(
      store.storeGroup('g', null),
      (e: unknown) => (e as KafkaError).code === ErrorCode.KAFKA_STORAGE_ERROR,
    );
    const missing = new OffsetsTopicStore({ numPartitions: 0, partitionFor: () => undefined, dataChanged() {} });
    await assert.rejects(
      missing.storeGroup('g', null),
      (e: unknown) => (e as KafkaError).code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  });

  it('creates the topic on first use; a failed creation is COORDINATOR_NOT_AVAILABLE and is retried', async () => {
    const parts = [new FakePartition()];
    let n = 0;
    let attempts = 0;
    const topic: OffsetsTopicAccess<FakePartition> = {
      get numPartitions() {
        return n;
      },
      partitionFor: (i) => (n > 0 ? parts[i] : undefined),
      dataChanged() {},
      async ensureTopic() {
        attempts++;
        await new Promise((r) => setTimeout(r, 5));
        if (attempts === 1) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR);
        n = 1;
      },
    };
    const store = new OffsetsTopicStore(topic);
    await assert.rejects(
      store.storeOffsets('g', [{ topic: 't', partition: 0, value: offsetValue(1n) }]),
      (e: unknown) => (e as KafkaError).code === ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    const writes = [1n, 2n, 3n].map((o) =>
      store.storeOffsets('g', [{ topic: 't', partition: 0, value: offsetValue(o) }]),
    );
    await Promise.all(writes);
    assert.equal(attempts, 2);
    const offsets = parts[0]!.batches.map((b) => decodeRecordBatches(b)[0]!.records[0]!.value!.readBigInt64BE(2));
    assert.deepEqual(offsets, [1n, 2n, 3n]);
  });
});

describe('loadGroupsFromOffsetsTopic', () => {
  it('keeps the last value per key across chunks; tombstones delete offsets and groups', async () => {
    const topic = fakeTopic(2);
    const store = new OffsetsTopicStore(topic);
    const meta: GroupMetadataValue = {
      protocolType: 'consumer',
      generation: 3,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 5n,
      members: [],
    };
    // Whatever partition each group maps to, loading reads them all.
    await store.storeOffsets('a', [{ topic: 't', partition: 0, value: offsetValue(1n) }]);
    await store.storeOffsets('a', [{ topic: 't', partition: 0, value: offsetValue(2n) }]);
    await store.storeOffsets('a', [{ topic: 't', partition: 1, value: offsetValue(3n) }]);
    await store.removeOffsets('a', [{ topic: 't', partition: 1 }]);
    await store.storeGroup('a', meta);
    await store.storeGroup('gone', meta);
    await store.storeOffsets('gone', [{ topic: 't', partition: 0, value: offsetValue(1n) }]);
    await store.removeOffsets('gone', [{ topic: 't', partition: 0 }]);
    await store.storeGroup('gone', null);
    await store.storeGroup('b', meta);
    await store.storeGroup('b', { ...meta, generation: 4 });

    const target = recordingTarget();
    const summary = await loadGroupsFromOffsetsTopic(target, topic, SILENT, { chunkBytes: 1 });
    assert.equal(target.events[0], 'begin');
    assert.equal(target.events.at(-1), 'complete');
    assert.deepEqual([...target.loaded.keys()].sort(), ['a', 'b']);
    assert.deepEqual(
      target.loaded.get('a')!.offsets.map((o) => [o.topic, o.partition, o.value.offset]),
      [['t', 0, 2n]],
    );
    assert.equal(target.loaded.get('a')!.value!.generation, 3);
    assert.equal(target.loaded.get('b')!.value!.generation, 4);
    assert.deepEqual(target.loaded.get('b')!.offsets, []);
    assert.deepEqual(
      { groups: summary.groups, offsets: summary.offsets, skipped: summary.skipped, records: summary.records },
      { groups: 2, offsets: 1, skipped: 0, records: 11 },
    );
  });

  it('skips a corrupt batch with a warning and reads on after it', async () => {
    const topic = fakeTopic(1);
    const store = new OffsetsTopicStore(topic);
    await store.storeOffsets('g', [{ topic: 't', partition: 0, value: offsetValue(1n) }]);
    await store.storeOffsets('g', [{ topic: 't', partition: 1, value: offsetValue(2n) }]);
    await store.storeOffsets('g', [{ topic: 't', partition: 2, value: offsetValue(3n) }]);
    const middle = topic.parts[0]!.batches[1]!;
    middle[middle.length - 1]! ^= 0xff; // breaks the CRC
    const warnings: string[] = [];
    const target = recordingTarget();
    const summary = await loadGroupsFromOffsetsTopic(target, topic, { ...SILENT, warn: (m) => warnings.push(m) });
    assert.equal(summary.skipped, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /__consumer_offsets-0: skipping undecodable batch at offset 1/);
    assert.deepEqual(
      target.loaded.get('g')!.offsets.map((o) => o.partition),
      [0, 2],
    );
  });

  it('completes loading and logs when a partition cannot be read', async () => {
    const topic = fakeTopic(1);
    const store = new OffsetsTopicStore(topic);
    await store.storeGroup('g', null);
    topic.parts[0]!.read = () => {
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'disk gone');
    };
    const errors: string[] = [];
    const target = recordingTarget();
    await loadGroupsFromOffsetsTopic(target, topic, { ...SILENT, error: (m) => errors.push(m) });
    assert.deepEqual(target.events, ['begin', 'complete']);
    assert.match(errors[0]!, /cannot read __consumer_offsets-0.*disk gone/);
  });
});
