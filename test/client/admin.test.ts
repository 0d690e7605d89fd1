/**
 * The Admin client against an in-process broker: every method, on success and on Kafka's errors.
 *
 * - topics: create (configs, manual assignment, validateOnly), the errors a batch reports per topic with the other
 *   topics' results kept (TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR with Kafka's message), describe, list,
 *   grow partitions, delete;
 * - configs: describe with synonyms and documentation, IncrementalAlterConfigs set/delete/append/subtract;
 * - partition offsets: earliest/latest/max-timestamp/by-timestamp with records of known timestamps, a partition
 *   asked twice in one call, DeleteRecords;
 * - a classic group of two KafkaJS consumers: described (state, members, decoded assignments), listed, offsets
 *   committed by the members at known positions, lag checked exactly before and after more records arrive;
 *   reset, delete and offset deletion refused while members are active; after they leave, every reset target with
 *   dryRun and executed, then offset and group deletion;
 * - a KIP-848 group driven over the raw protocol (ConsumerGroupHeartbeat): described through ConsumerGroupDescribe,
 *   its lag, its reset refused while it has a member.
 * Waiting is by polling for a state with a bound; no timing is asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { Admin, KafkaAdminError } from '../../src/client/admin/index.js';
import { KafkaClientError, KafkaConnectionError } from '../../src/client/errors.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import {
  type ConsumerGroupHeartbeatResponse,
  ErrorCode,
  type ErrorCodeName,
  KafkaError,
  type OffsetCommitResponse,
} from '../../src/protocol/index.js';

const BASE = 1_700_000_000_000;
const WAIT_MS = 30_000;

let kafka: StartedBroker;
let admin: Admin;
let nodeId: number;
let js: Kafka;

before(async () => {
  kafka = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  admin = new Admin({ bootstrapServers: [kafka.bootstrap], clientId: 'admin-test' });
  nodeId = (await admin.describeCluster()).brokers[0]!.nodeId;
  js = new Kafka({ clientId: 'admin-test-kafkajs', brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
});

after(async () => {
  await admin.close();
  await kafka.stop();
});

async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Asserts `p` rejects with a KafkaError of this name (and message, when given); returns the error. */
async function rejectsWith(p: Promise<unknown>, name: ErrorCodeName, message?: string | RegExp): Promise<KafkaError> {
  let error: unknown;
  await assert.rejects(p, (e: unknown) => {
    error = e;
    return true;
  });
  assert.ok(error instanceof KafkaError, `a KafkaError, not ${String(error)}`);
  assert.equal(error.errorName, name, error.message);
  if (typeof message === 'string') assert.equal(error.message, message);
  else if (message !== undefined) assert.match(error.message, message);
  return error;
}

/** The failures of a KafkaAdminError as { item: errorName } (asserting the class). */
async function failuresOf(p: Promise<unknown>): Promise<{ error: KafkaAdminError; byItem: Record<string, string> }> {
  let error: unknown;
  await assert.rejects(p, (e: unknown) => {
    error = e;
    return true;
  });
  assert.ok(error instanceof KafkaAdminError, `a KafkaAdminError, not ${String(error)}`);
  const byItem: Record<string, string> = {};
  for (const f of error.failures) byItem[f.item] = f.error instanceof KafkaError ? f.error.errorName : f.error.message;
  return { error, byItem };
}

/** Produces `count` records to each listed partition, record i with timestamp BASE + i * 1000. */
async function produce(topic: string, partitions: number[], from: number, count: number): Promise<void> {
  const producer = js.producer();
  await producer.connect();
  try {
    for (const partition of partitions) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: count }, (_, k) => ({
          partition,
          value: `v${from + k}`,
          timestamp: String(BASE + (from + k) * 1000),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

describe('Admin: cluster and topics', () => {
  it('describes the cluster: id, controller, brokers', async () => {
    const c = await admin.describeCluster();
    assert.ok(c.clusterId !== null && c.clusterId.length > 0);
    assert.deepEqual(c.brokers, [{ nodeId, host: kafka.host, port: kafka.port, rack: null }]);
    assert.deepEqual(c.controller, c.brokers[0]);
  });

  it('creates topics with configs and manual assignments, and describes them', async () => {
    const created = await admin.createTopics([
      { name: 'adm-a', numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000' } },
      { name: 'adm-manual', assignments: [[nodeId], [nodeId]] },
    ]);
    assert.deepEqual(
      created.map((t) => [t.name, t.numPartitions, t.replicationFactor, t.configs['retention.ms']]),
      [
        ['adm-a', 3, 1, '3600000'],
        ['adm-manual', 2, 1, '604800000'],
      ],
    );
    const [a, manual] = await admin.describeTopics(['adm-a', 'adm-manual']);
    assert.equal(a!.topicId, created[0]!.topicId);
    assert.equal(a!.internal, false);
    assert.deepEqual(
      a!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.offlineReplicas]),
      [0, 1, 2].map((p) => [p, nodeId, [nodeId], [nodeId], []]),
    );
    assert.equal(manual!.partitions.length, 2);
    const topics = await admin.listTopics();
    assert.ok(topics.includes('adm-a') && topics.includes('adm-manual'));
    assert.deepEqual(topics, [...topics].sort());
  });

  it('validateOnly checks and creates nothing', async () => {
    const [t] = await admin.createTopics([{ name: 'adm-validate', numPartitions: 4 }], { validateOnly: true });
    assert.equal(t!.numPartitions, 4);
    assert.ok(!(await admin.listTopics()).includes('adm-validate'));
    await rejectsWith(
      admin.createTopics([{ name: 'adm-validate', replicationFactor: 2 }], { validateOnly: true }),
      'INVALID_REPLICATION_FACTOR',
    );
  });

  it('reports each failing topic with its Kafka error and keeps the others created', async () => {
    const { error, byItem } = await failuresOf(
      admin.createTopics([
        { name: 'adm-a', numPartitions: 1 },
        { name: 'adm-rf3', numPartitions: 1, replicationFactor: 3 },
        { name: 'adm-ok', numPartitions: 1 },
      ]),
    );
    assert.deepEqual(byItem, { 'adm-a': 'TOPIC_ALREADY_EXISTS', 'adm-rf3': 'INVALID_REPLICATION_FACTOR' });
    assert.equal(error.code, ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal(error.operation, 'createTopics');
    assert.equal(error.failures[1]!.error.message, 'Replication factor: 3 larger than available brokers: 1.');
    assert.deepEqual(
      (error.results as { name: string }[]).map((r) => r.name),
      ['adm-ok'],
    );
    assert.match(error.message, /^createTopics: 2 of 3 failed: adm-a: TOPIC_ALREADY_EXISTS: .*adm-rf3: /);
    assert.ok((await admin.listTopics()).includes('adm-ok'));
    assert.ok(!(await admin.listTopics()).includes('adm-rf3'));
    // One topic: the error's code is that topic's, as a single KafkaError would have it.
    await rejectsWith(
      admin.createTopics([{ name: 'adm-rf3', replicationFactor: 3 }]),
      'INVALID_REPLICATION_FACTOR',
      /Replication factor: 3 larger than available brokers: 1\./,
    );
  });

  it('grows partitions, refusing to shrink', async () => {
    assert.deepEqual(await admin.createPartitions([{ topic: 'adm-a', totalCount: 5 }]), [
      { topic: 'adm-a', totalCount: 5 },
    ]);
    assert.equal((await admin.describeTopics(['adm-a']))[0]!.partitions.length, 5);
    const { byItem } = await failuresOf(
      admin.createPartitions([
        { topic: 'adm-a', totalCount: 2 },
        { topic: 'adm-none', totalCount: 2 },
      ]),
    );
    assert.deepEqual(byItem, { 'adm-a': 'INVALID_PARTITIONS', 'adm-none': 'UNKNOWN_TOPIC_OR_PARTITION' });
    // The metadata cache saw the new partitions: a leader lookup of partition 4 works.
    const [end] = await admin.listOffsets([{ topic: 'adm-a', partition: 4, spec: 'latest' }]);
    assert.equal(end!.offset, 0n);
  });

  it('deletes topics; a missing one is UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const [deleted] = await admin.deleteTopics(['adm-ok']);
    assert.equal(deleted!.name, 'adm-ok');
    assert.ok(!(await admin.listTopics()).includes('adm-ok'));
    await rejectsWith(admin.deleteTopics(['adm-ok']), 'UNKNOWN_TOPIC_OR_PARTITION');
    const { byItem, error } = await failuresOf(admin.describeTopics(['adm-a', 'adm-ok']));
    assert.deepEqual(byItem, { 'adm-ok': 'UNKNOWN_TOPIC_OR_PARTITION' });
    assert.deepEqual(
      (error.results as { name: string }[]).map((r) => r.name),
      ['adm-a'],
    );
  });
});

describe('Admin: configs', () => {
  const entry = async (name: string, options = {}) => {
    const [r] = await admin.describeConfigs([{ type: 'topic', name: 'adm-a', configNames: [name] }], options);
    assert.equal(r!.entries.length, 1);
    return r!.entries[0]!;
  };

  it('describes topic configs with source, defaults, synonyms and documentation', async () => {
    const [all] = await admin.describeConfigs([{ type: 'topic', name: 'adm-a' }]);
    assert.equal(all!.type, 'topic');
    assert.ok(all!.entries.length > 20);
    const retention = await entry('retention.ms', { includeSynonyms: true, includeDocumentation: true });
    assert.equal(retention.value, '3600000');
    assert.equal(retention.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(retention.isDefault, false);
    assert.equal(retention.readOnly, false);
    assert.equal(retention.sensitive, false);
    assert.equal(retention.type, 'LONG');
    assert.ok(retention.documentation !== null && retention.documentation.length > 0);
    assert.deepEqual(retention.synonyms[0], { name: 'retention.ms', value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' });
    assert.ok(retention.synonyms.some((s) => s.source === 'DEFAULT_CONFIG'));
    const policy = await entry('cleanup.policy');
    assert.deepEqual(
      [policy.value, policy.source, policy.isDefault, policy.synonyms],
      ['delete', 'DEFAULT_CONFIG', true, []],
    );
    assert.equal(policy.documentation, null);
  });

  it('describes a broker by id', async () => {
    const [b] = await admin.describeConfigs([{ type: 'broker', name: String(nodeId) }]);
    const byName = new Map(b!.entries.map((e) => [e.name, e]));
    assert.equal(byName.get('group.initial.rebalance.delay.ms')?.value, '0');
    assert.ok(byName.has('num.partitions'));
  });

  it('sets, appends, subtracts and deletes single keys (IncrementalAlterConfigs)', async () => {
    await admin.alterConfigs([
      {
        type: 'topic',
        name: 'adm-a',
        ops: [
          { name: 'retention.ms', value: '7200000' },
          { name: 'cleanup.policy', op: 'append', value: 'compact' },
        ],
      },
    ]);
    assert.equal((await entry('retention.ms')).value, '7200000');
    assert.equal((await entry('cleanup.policy')).value, 'delete,compact');
    await admin.alterConfigs([
      {
        type: 'topic',
        name: 'adm-a',
        ops: [
          { name: 'cleanup.policy', op: 'subtract', value: 'delete' },
          { name: 'retention.ms', op: 'delete' },
        ],
      },
    ]);
    const policy = await entry('cleanup.policy');
    assert.deepEqual([policy.value, policy.source], ['compact', 'DYNAMIC_TOPIC_CONFIG']);
    const retention = await entry('retention.ms');
    assert.deepEqual([retention.value, retention.source, retention.isDefault], ['604800000', 'DEFAULT_CONFIG', true]);
    // validateOnly changes nothing.
    await admin.alterConfigs([{ type: 'topic', name: 'adm-a', ops: [{ name: 'retention.ms', value: '1' }] }], {
      validateOnly: true,
    });
    assert.equal((await entry('retention.ms')).value, '604800000');
  });

  it('reports failing resources with their Kafka errors', async () => {
    const { byItem } = await failuresOf(
      admin.alterConfigs([
        { type: 'topic', name: 'adm-none', ops: [{ name: 'retention.ms', value: '1' }] },
        { type: 'topic', name: 'adm-a', ops: [{ name: 'retention.ms', value: 'soon' }] },
        { type: 'topic', name: 'adm-manual', ops: [{ name: 'retention.ms', value: '1000' }] },
      ]),
    );
    assert.deepEqual(byItem, { 'topic:adm-none': 'UNKNOWN_TOPIC_OR_PARTITION', 'topic:adm-a': 'INVALID_CONFIG' });
    await rejectsWith(admin.describeConfigs([{ type: 'topic', name: 'adm-none' }]), 'UNKNOWN_TOPIC_OR_PARTITION');
  });
});

describe('Admin: partition offsets and records', () => {
  before(async () => {
    await admin.createTopics([{ name: 'adm-offsets', numPartitions: 2 }]);
    await produce('adm-offsets', [0], 0, 10);
  });

  it('lists earliest, latest, max-timestamp and by-timestamp offsets, one partition asked several times', async () => {
    const listed = await admin.listOffsets([
      { topic: 'adm-offsets', partition: 0, spec: 'earliest' },
      { topic: 'adm-offsets', partition: 0, spec: 'latest' },
      { topic: 'adm-offsets', partition: 0, spec: 'max-timestamp' },
      { topic: 'adm-offsets', partition: 0, spec: { timestamp: BASE + 3500 } },
      { topic: 'adm-offsets', partition: 0, spec: { timestamp: new Date(BASE + 100_000) } },
      { topic: 'adm-offsets', partition: 1, spec: 'latest' },
    ]);
    assert.deepEqual(
      listed.map((o) => [o.partition, o.offset, o.timestamp]),
      [
        [0, 0n, -1n],
        [0, 10n, -1n],
        [0, 9n, BigInt(BASE + 9000)],
        [0, 4n, BigInt(BASE + 4000)],
        [0, -1n, -1n],
        [1, 0n, -1n],
      ],
    );
    assert.equal(listed[1]!.leaderEpoch, 0);
    assert.deepEqual(await admin.fetchTopicOffsets('adm-offsets'), [
      { partition: 0, earliest: 0n, latest: 10n, lastStable: 10n },
      { partition: 1, earliest: 0n, latest: 0n, lastStable: 0n },
    ]);
    const { byItem } = await failuresOf(
      admin.listOffsets([
        { topic: 'adm-offsets', partition: 7, spec: 'latest' },
        { topic: 'adm-none', partition: 0, spec: 'latest' },
      ]),
    );
    assert.deepEqual(byItem, {
      'adm-offsets-7': 'UNKNOWN_TOPIC_OR_PARTITION',
      'adm-none-0': 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    await rejectsWith(admin.fetchTopicOffsets('adm-none'), 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('deletes records up to an offset; beyond the high watermark is OFFSET_OUT_OF_RANGE', async () => {
    assert.deepEqual(await admin.deleteRecords([{ topic: 'adm-offsets', partition: 0, beforeOffset: 4n }]), [
      { topic: 'adm-offsets', partition: 0, lowWatermark: 4n },
    ]);
    const [earliest] = await admin.listOffsets([{ topic: 'adm-offsets', partition: 0, spec: 'earliest' }]);
    assert.equal(earliest!.offset, 4n);
    const { byItem, error } = await failuresOf(
      admin.deleteRecords([
        { topic: 'adm-offsets', partition: 0, beforeOffset: 100 },
        { topic: 'adm-offsets', partition: 1, beforeOffset: -1 },
        { topic: 'adm-offsets', partition: 9, beforeOffset: 0 },
      ]),
    );
    assert.deepEqual(byItem, {
      'adm-offsets-0': 'OFFSET_OUT_OF_RANGE',
      'adm-offsets-9': 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    assert.deepEqual(error.results, [{ topic: 'adm-offsets', partition: 1, lowWatermark: 0n }]);
  });
});

describe('Admin: a classic group of KafkaJS consumers', () => {
  const TOPIC = 'adm-lag';
  const GROUP = 'adm-classic';
  interface Member {
    consumer: Consumer;
    clientId: string;
    memberId: string | null;
    assigned: number[] | null;
  }
  const members: Member[] = [];

  before(async () => {
    await admin.createTopics([{ name: TOPIC, numPartitions: 3 }]);
    await produce(TOPIC, [0, 1, 2], 0, 10);
    for (const clientId of ['adm-member-1', 'adm-member-2']) {
      const k = new Kafka({ clientId, brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
      const consumer = k.consumer({
        groupId: GROUP,
        heartbeatInterval: 300,
        sessionTimeout: 10_000,
        maxWaitTimeInMs: 200,
      });
      const m: Member = { consumer, clientId, memberId: null, assigned: null };
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        m.memberId = e.payload.memberId;
        m.assigned = [...(e.payload.memberAssignment[TOPIC] ?? [])].sort((a, b) => a - b);
      });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: async () => {} });
      members.push(m);
    }
    await waitFor('two members splitting three partitions', async () => {
      const all = members.flatMap((m) => m.assigned ?? []);
      if (members.some((m) => !m.assigned?.length) || new Set(all).size !== 3 || all.length !== 3) return false;
      const [g] = await admin.describeGroups([GROUP]);
      return g!.state === 'Stable' && g!.members.length === 2;
    });
  });

  after(async () => {
    for (const m of members) await m.consumer.disconnect();
  });

  const owner = (p: number) => members.find((m) => m.assigned?.includes(p))!;

  it('describes the group: state, protocol, members with decoded assignments', async () => {
    const [g] = await admin.describeGroups([GROUP]);
    assert.equal(g!.type, 'classic');
    assert.equal(g!.protocolType, 'consumer');
    assert.equal(g!.protocol, 'RoundRobinAssigner');
    assert.equal(g!.coordinator, nodeId);
    assert.equal(g!.groupEpoch, null);
    const described = [...g!.members].sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
    assert.deepEqual(
      described.map((m) => [m.clientId, m.memberId, m.clientHost, m.subscription, m.assignment]),
      members.map((m) => [m.clientId, m.memberId, '/127.0.0.1', [TOPIC], [{ topic: TOPIC, partitions: m.assigned }]]),
    );
    assert.ok(described[0]!.memberAssignment.length > 0);
  });

  it('lists the group, filtered by state and type', async () => {
    const listed = (await admin.listGroups()).find((g) => g.groupId === GROUP);
    assert.deepEqual(listed, {
      groupId: GROUP,
      protocolType: 'consumer',
      state: 'Stable',
      type: 'classic',
      coordinator: nodeId,
    });
    assert.ok((await admin.listGroups({ states: ['stable'] })).some((g) => g.groupId === GROUP));
    assert.ok(!(await admin.listGroups({ states: ['Empty'] })).some((g) => g.groupId === GROUP));
    assert.ok(!(await admin.listGroups({ types: ['consumer'] })).some((g) => g.groupId === GROUP));
  });

  it('computes lag exactly from committed offsets and log ends', async () => {
    // Each member commits its own partitions at known offsets: 0 at 3, 1 at 7; 2 stays without a commit.
    for (const [p, offset] of [
      [0, '3'],
      [1, '7'],
    ] as const) {
      await owner(p).consumer.commitOffsets([{ topic: TOPIC, partition: p, offset }]);
    }
    assert.deepEqual(
      (await admin.listGroupOffsets(GROUP)).map((o) => [o.partition, o.offset, o.metadata]),
      [
        [0, 3n, ''],
        [1, 7n, ''],
      ],
    );
    assert.deepEqual(
      (
        await admin.listGroupOffsets(GROUP, [
          { topic: TOPIC, partition: 2 },
          { topic: TOPIC, partition: 1 },
        ])
      ).map((o) => [o.partition, o.offset]),
      [
        [2, null],
        [1, 7n],
      ],
    );
    const rows = (lag: Awaited<ReturnType<Admin['describeGroupLag']>>) =>
      lag.partitions.map((p) => [
        p.topic,
        p.partition,
        p.committedOffset,
        p.logEndOffset,
        p.lag,
        p.memberId,
        p.clientId,
        p.host,
      ]);
    const row = (p: number, committed: bigint | null, end: bigint, lag: bigint | null) => {
      const m = owner(p);
      return [TOPIC, p, committed, end, lag, m.memberId, m.clientId, '/127.0.0.1'];
    };
    let lag = await admin.describeGroupLag(GROUP);
    assert.equal(lag.state, 'Stable');
    assert.deepEqual(rows(lag), [row(0, 3n, 10n, 7n), row(1, 7n, 10n, 3n), row(2, null, 10n, null)]);
    assert.equal(lag.totalLag, 10n);

    await produce(TOPIC, [0], 10, 5);
    lag = await admin.describeGroupLag(GROUP);
    assert.deepEqual(rows(lag), [row(0, 3n, 15n, 12n), row(1, 7n, 10n, 3n), row(2, null, 10n, null)]);
    assert.equal(lag.totalLag, 15n);
  });

  it('refuses resets, group deletion and subscribed offset deletion while members are active', async () => {
    await rejectsWith(
      admin.resetGroupOffsets(GROUP, { topic: TOPIC, to: 'earliest', dryRun: true }),
      'NON_EMPTY_GROUP',
      `Assignments can only be reset if the group '${GROUP}' is inactive, but the current state is Stable.`,
    );
    await rejectsWith(admin.deleteGroups([GROUP]), 'NON_EMPTY_GROUP');
    await rejectsWith(admin.deleteGroupOffsets(GROUP, [{ topic: TOPIC, partition: 0 }]), 'GROUP_SUBSCRIBED_TO_TOPIC');
    assert.deepEqual(
      (await admin.listGroupOffsets(GROUP)).map((o) => o.offset),
      [3n, 7n],
    );
  });

  it('once the members leave: resets to every target, dryRun first, clamped to [earliest, latest]', async () => {
    for (const m of members) await m.consumer.disconnect();
    await waitFor('the group to be Empty', async () => (await admin.describeGroups([GROUP]))[0]!.state === 'Empty');
    const lag = await admin.describeGroupLag(GROUP);
    assert.deepEqual(
      lag.partitions.map((p) => [p.partition, p.committedOffset, p.lag, p.memberId]),
      [
        [0, 3n, 12n, null],
        [1, 7n, 3n, null],
      ],
    );
    const offsets = (r: { offset: bigint }[]) => r.map((o) => o.offset);
    const reset = (to: Parameters<Admin['resetGroupOffsets']>[1]['to'], partitions?: number[]) =>
      admin.resetGroupOffsets(GROUP, { topic: TOPIC, to, dryRun: true, ...(partitions ? { partitions } : {}) });

    const earliest = await reset('earliest');
    assert.deepEqual(earliest, [
      { topic: TOPIC, partition: 0, offset: 0n, previousOffset: 3n },
      { topic: TOPIC, partition: 1, offset: 0n, previousOffset: 7n },
      { topic: TOPIC, partition: 2, offset: 0n, previousOffset: null },
    ]);
    assert.deepEqual(offsets(await reset('latest')), [15n, 10n, 10n]);
    assert.deepEqual(offsets(await reset({ shiftBy: -2 }, [0, 1])), [1n, 5n]);
    assert.deepEqual(offsets(await reset({ shiftBy: 100n }, [0, 1])), [15n, 10n]);
    assert.deepEqual(offsets(await reset({ shiftBy: -100 }, [1])), [0n]);
    await assert.rejects(
      reset({ shiftBy: 1 }, [2]),
      (e: unknown) =>
        e instanceof KafkaClientError &&
        e.message === `Cannot shift offset for partition ${TOPIC}-2 since there is no current committed offset`,
    );
    assert.deepEqual(offsets(await reset({ offset: 12n })), [12n, 10n, 10n]);
    assert.deepEqual(offsets(await reset({ offset: -5 })), [0n, 0n, 0n]);
    // Records i have timestamps BASE + i s: the first at or after BASE + 2.5 s is offset 3; none after the last.
    assert.deepEqual(offsets(await reset({ datetime: new Date(BASE + 2500) })), [3n, 3n, 3n]);
    assert.deepEqual(offsets(await reset({ datetime: BASE + 11_000 })), [11n, 10n, 10n]);
    assert.deepEqual(offsets(await reset({ datetime: BASE + 1_000_000 })), [15n, 10n, 10n]);
    await rejectsWith(
      admin.resetGroupOffsets(GROUP, { topic: 'adm-none', to: 'earliest' }),
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
    // Nothing was committed by the dry runs.
    assert.deepEqual(offsets(await admin.listGroupOffsets(GROUP).then((r) => r as { offset: bigint }[])), [3n, 7n]);

    const done = await admin.resetGroupOffsets(GROUP, { topic: TOPIC, to: { datetime: BASE + 2500 } });
    assert.deepEqual(offsets(done), [3n, 3n, 3n]);
    const after = await admin.describeGroupLag(GROUP);
    assert.deepEqual(
      after.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag]),
      [
        [0, 3n, 15n, 12n],
        [1, 3n, 10n, 7n],
        [2, 3n, 10n, 7n],
      ],
    );
    assert.equal(after.totalLag, 26n);
  });

  it('resets a group that does not exist yet, creating it; deletes offsets and groups', async () => {
    const fresh = 'adm-fresh';
    await rejectsWith(admin.describeGroups([fresh]), 'GROUP_ID_NOT_FOUND', /Group adm-fresh not found\./);
    await rejectsWith(admin.describeGroupLag(fresh), 'GROUP_ID_NOT_FOUND');
    const done = await admin.resetGroupOffsets(fresh, { topic: TOPIC, partitions: [1], to: 'latest' });
    assert.deepEqual(done, [{ topic: TOPIC, partition: 1, offset: 10n, previousOffset: null }]);
    assert.deepEqual(
      (await admin.listGroups({ states: ['Empty'] })).filter((g) => g.groupId === fresh),
      [{ groupId: fresh, protocolType: '', state: 'Empty', type: 'classic', coordinator: nodeId }],
    );
    const [g] = await admin.describeGroups([fresh]);
    assert.deepEqual([g!.state, g!.members], ['Empty', []]);

    assert.deepEqual(await admin.deleteGroupOffsets(GROUP, [{ topic: TOPIC, partition: 2 }]), [
      { topic: TOPIC, partition: 2 },
    ]);
    assert.deepEqual(
      (await admin.listGroupOffsets(GROUP)).map((o) => o.partition),
      [0, 1],
    );
    await rejectsWith(admin.deleteGroupOffsets('adm-missing', [{ topic: TOPIC, partition: 0 }]), 'GROUP_ID_NOT_FOUND');

    const { error, byItem } = await failuresOf(admin.deleteGroups([GROUP, 'adm-missing', fresh]));
    assert.deepEqual(byItem, { 'adm-missing': 'GROUP_ID_NOT_FOUND' });
    assert.deepEqual(error.results, [GROUP, fresh]);
    await rejectsWith(admin.deleteGroups([GROUP]), 'GROUP_ID_NOT_FOUND');
    assert.ok(!(await admin.listGroups()).some((x) => x.groupId === GROUP || x.groupId === fresh));
    assert.deepEqual(await admin.listGroupOffsets(GROUP), []);
  });

  it('lists internal topics only when asked', async () => {
    assert.ok(!(await admin.listTopics()).includes('__consumer_offsets'));
    assert.ok((await admin.listTopics({ includeInternal: true })).includes('__consumer_offsets'));
    const [offsetsTopic] = await admin.describeTopics(['__consumer_offsets']);
    assert.equal(offsetsTopic!.internal, true);
  });
});

describe('Admin: a KIP-848 consumer group', () => {
  const TOPIC = 'adm-lag';
  const GROUP = 'adm-kip848';
  let conn: BrokerConnection;
  let memberId = '';
  let epoch = 0;
  let owned: { topicId: string; partitions: number[] }[] = [];

  const heartbeat = async (leave = false): Promise<ConsumerGroupHeartbeatResponse> => {
    const joining = epoch === 0;
    const res = await conn.send<ConsumerGroupHeartbeatResponse>(68, 0, {
      groupId: GROUP,
      memberId,
      memberEpoch: leave ? -1 : epoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: joining ? 30_000 : -1,
      subscribedTopicNames: joining ? [TOPIC] : null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: owned,
    });
    assert.equal(res.errorCode, ErrorCode.NONE, res.errorMessage ?? '');
    if (res.memberId !== null) memberId = res.memberId;
    epoch = res.memberEpoch;
    if (res.assignment !== null) owned = res.assignment.topicPartitions;
    return res;
  };

  before(async () => {
    conn = await BrokerConnection.connect({ host: kafka.host, port: kafka.port, clientId: 'adm-kip848-member' });
    await heartbeat();
    await waitFor('the member to own all three partitions and the group to be Stable', async () => {
      await heartbeat();
      const [g] = await admin.describeGroups([GROUP]);
      return g!.state === 'Stable' && g!.members[0]?.assignment?.[0]?.partitions.length === 3;
    });
    const commit = await conn.send<OffsetCommitResponse>(8, 9, {
      groupId: GROUP,
      generationIdOrMemberEpoch: epoch,
      memberId,
      groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: null }] }],
    });
    assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  });

  after(() => conn.close());

  it('is described through ConsumerGroupDescribe, with epochs and assignments', async () => {
    const [g] = await admin.describeGroups([GROUP]);
    assert.equal(g!.type, 'consumer');
    assert.equal(g!.state, 'Stable');
    assert.equal(g!.protocolType, 'consumer');
    assert.equal(g!.protocol, 'uniform');
    assert.ok(g!.groupEpoch !== null && g!.groupEpoch > 0);
    assert.equal(g!.assignmentEpoch, g!.groupEpoch);
    const [m] = g!.members;
    assert.deepEqual(
      [m!.memberId, m!.clientId, m!.clientHost, m!.memberEpoch, m!.subscription, m!.assignment, m!.targetAssignment],
      [
        memberId,
        'adm-kip848-member',
        '/127.0.0.1',
        epoch,
        [TOPIC],
        [{ topic: TOPIC, partitions: [0, 1, 2] }],
        [{ topic: TOPIC, partitions: [0, 1, 2] }],
      ],
    );
    const listed = await admin.listGroups({ types: ['consumer'] });
    assert.deepEqual(
      listed.map((x) => [x.groupId, x.type, x.state]),
      [[GROUP, 'consumer', 'Stable']],
    );
  });

  it('has its lag computed with its member per partition; reset refused until it leaves', async () => {
    const lag = await admin.describeGroupLag(GROUP);
    assert.deepEqual(
      lag.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag, p.memberId]),
      [
        [0, 5n, 15n, 10n, memberId],
        [1, null, 10n, null, memberId],
        [2, null, 10n, null, memberId],
      ],
    );
    await rejectsWith(
      admin.resetGroupOffsets(GROUP, { topic: TOPIC, to: 'latest' }),
      'NON_EMPTY_GROUP',
      `Assignments can only be reset if the group '${GROUP}' is inactive, but the current state is Stable.`,
    );
    await heartbeat(true);
    await waitFor('the group to be Empty', async () => (await admin.describeGroups([GROUP]))[0]!.state === 'Empty');
    assert.deepEqual(
      (await admin.resetGroupOffsets(GROUP, { topic: TOPIC, to: 'latest' })).map((r) => r.offset),
      [15n, 10n, 10n],
    );
    assert.equal((await admin.describeGroupLag(GROUP)).totalLag, 0n);
    assert.deepEqual(await admin.deleteGroups([GROUP]), [GROUP]);
  });
});

describe('Admin: lifecycle', () => {
  it('works with await using, and fails after close', async () => {
    let kept: Admin;
    {
      await using a = new Admin({ bootstrapServers: [kafka.bootstrap] });
      kept = a;
      await a.connect();
      assert.equal((await a.describeCluster()).brokers.length, 1);
    }
    await assert.rejects(kept.describeCluster(), KafkaConnectionError);
  });

  it('names the brokers it cannot reach', async () => {
    const a = new Admin({ bootstrapServers: ['127.0.0.1:1'], requestTimeoutMs: 2000 });
    try {
      await assert.rejects(
        a.listTopics(),
        (e: unknown) => e instanceof KafkaConnectionError && /127\.0\.0\.1:1/.test(e.message),
      );
    } finally {
      await a.close();
    }
  });
});
