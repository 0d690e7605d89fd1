/**
 * Our Admin client and librdkafka's view of the same cluster, against the real broker process:
 *
 * - a topic our Admin creates (configs), grows (CreatePartitions) and alters (IncrementalAlterConfigs) is seen by
 *   `kcat -L` and by confluent-kafka-python's AdminClient (list_topics, describe_configs) exactly as our
 *   describeTopics / describeConfigs see it: partitions, leaders, replicas, ISR, and every config's value, source,
 *   default, read-only and sensitive flags;
 * - a group of two confluent-kafka-python consumers that commit, then stop committing while more records arrive:
 *   our describeGroups agrees with librdkafka's list_groups (state, protocol, members, their assignment bytes), and
 *   our describeGroupLag gives exactly the committed offsets and log ends librdkafka reads (committed(),
 *   get_watermark_offsets()) with the right member per partition; after the members leave, an offset reset by our
 *   Admin is what librdkafka then reads as committed, and a group our Admin deletes is gone for librdkafka.
 *
 * Waiting is by polling with a bound; no timing is asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kafka, Admin as KafkaJsAdmin } from 'kafkajs';
import { Admin } from '../../../src/client/admin/index.js';
import type { BrokerProcess } from '../broker/broker-process.js';
import { MemberProcess, startGroupTestBroker, stopGroupTestBroker, waitFor } from '../broker/group-members.js';
import { runPython } from '../broker/scenario.js';
import { describeChild, PYTHON, requireTool, runChild, skipUnless } from '../harness.js';
import { confluentTool, kcatTool } from '../tools.js';

const kcat = kcatTool();
const confluent = confluentTool();
const TIMEOUT_MS = 90_000;

/** confluent-kafka-python's AdminClient view of a topic (partitions, configs) or of a group (list_groups). */
const CONFLUENT_VIEW = `
import base64, json, sys
from confluent_kafka.admin import AdminClient, ConfigResource
spec = json.load(sys.stdin)
admin = AdminClient({'bootstrap.servers': spec['bootstrap'], 'client.id': 'samsa-admin-interop'})
out = {}
if 'topic' in spec:
    t = admin.list_topics(timeout=30).topics[spec['topic']]
    out['partitions'] = sorted([p.id, p.leader, list(p.replicas), list(p.isrs)] for p in t.partitions.values())
    res = admin.describe_configs([ConfigResource('topic', spec['topic'])])
    configs = list(res.values())[0].result(timeout=30)
    out['configs'] = {n: [e.value, int(e.source), e.is_default, e.is_read_only, e.is_sensitive] for n, e in configs.items()}
if 'group' in spec:
    groups = admin.list_groups(spec['group'], timeout=30)
    out['groups'] = [{
        'state': g.state, 'protocolType': g.protocol_type, 'protocol': g.protocol,
        'members': sorted([m.id, m.client_id, m.client_host, base64.b64encode(m.assignment).decode()] for m in g.members),
    } for g in groups if g.id == spec['group'] and g.state != 'Dead']
print(json.dumps(out))
`;

// biome-ignore lint/suspicious/noExplicitAny: JSON from the Python script
async function confluentView(spec: Record<string, unknown>): Promise<any> {
  const r = await runChild(PYTHON, ['-B', '-c', CONFLUENT_VIEW], { input: JSON.stringify(spec), timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeChild(r));
  return JSON.parse(r.stdout);
}

/** Kafka's ConfigSource ids, as librdkafka reports them. */
const SOURCE_IDS: Record<string, number> = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
};

let broker: BrokerProcess | undefined;
let kafkajs: Kafka;
let kafkajsAdmin: KafkaJsAdmin | undefined;
let admin: Admin;
const clientLogs: string[] = [];

describe('our Admin and librdkafka (kcat, confluent-kafka-python) see the same cluster', {
  skip: skipUnless(kcat) || skipUnless(confluent),
  timeout: 2 * TIMEOUT_MS,
}, () => {
  before(async () => {
    if (kcat.missing !== undefined || confluent.missing !== undefined) return;
    ({ broker, kafka: kafkajs, admin: kafkajsAdmin } = await startGroupTestBroker('samsa-admin-interop', clientLogs));
    admin = new Admin({ bootstrapServers: [broker.bootstrap] });
  });

  after(async () => {
    await admin?.close();
    await stopGroupTestBroker(broker, kafkajsAdmin);
  });

  it('topics and configs our Admin sets are what kcat -L and AdminClient see', { timeout: TIMEOUT_MS }, async () => {
    requireTool(kcat);
    requireTool(confluent);
    const topic = 'interop-topic';
    await admin.createTopics([
      {
        name: topic,
        numPartitions: 2,
        replicationFactor: 1,
        configs: { 'retention.ms': '123456', 'cleanup.policy': 'compact' },
      },
    ]);
    await admin.createPartitions([{ topic, totalCount: 4 }]);
    await admin.alterConfigs([
      {
        type: 'topic',
        name: topic,
        ops: [
          { name: 'max.message.bytes', value: '2000000' },
          { name: 'cleanup.policy', op: 'append', value: 'delete' },
          { name: 'retention.ms', op: 'delete' },
        ],
      },
    ]);
    const [ours] = await admin.describeTopics([topic]);
    const ourPartitions = ours!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr]);
    assert.equal(ourPartitions.length, 4);

    const k = await runChild('kcat', ['-L', '-J', '-b', broker!.bootstrap, '-t', topic], { timeoutMs: 30_000 });
    assert.equal(k.code, 0, describeChild(k));
    const kcatTopic = (
      JSON.parse(k.stdout) as {
        topics: {
          topic: string;
          partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[];
        }[];
      }
    ).topics.find((t) => t.topic === topic)!;
    assert.deepEqual(
      kcatTopic.partitions
        .map((p) => [p.partition, p.leader, p.replicas.map((r) => r.id), p.isrs.map((r) => r.id)])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
      ourPartitions,
    );

    const view = await confluentView({ bootstrap: broker!.bootstrap, topic });
    assert.deepEqual(view.partitions, ourPartitions);
    const [configs] = await admin.describeConfigs([{ type: 'topic', name: topic }]);
    const ourConfigs: Record<string, unknown[]> = {};
    for (const e of configs!.entries) {
      ourConfigs[e.name] = [e.value, SOURCE_IDS[e.source], e.isDefault, e.readOnly, e.sensitive];
    }
    assert.deepEqual(view.configs, ourConfigs);
    assert.deepEqual(view.configs['cleanup.policy'], ['compact,delete', 1, false, false, false]);
    assert.deepEqual(view.configs['max.message.bytes'], ['2000000', 1, false, false, false]);
    assert.deepEqual(view.configs['retention.ms'], ['604800000', 5, true, false, false]);
  });

  it('a group of confluent-kafka-python consumers: described and its lag computed as librdkafka reads them', {
    timeout: TIMEOUT_MS,
  }, async () => {
    requireTool(confluent);
    const topic = 'interop-lag';
    const group = 'interop-lag-group';
    const partitions = 3;
    await admin.createTopics([{ name: topic, numPartitions: partitions }]);
    const members = ['interop-a', 'interop-b'].map(
      (name) =>
        new MemberProcess(name, 'confluent_group_member.py', {
          bootstrap: broker!.bootstrap,
          topic,
          deadlineSeconds: TIMEOUT_MS / 1000,
          config: {
            'group.id': group,
            'partition.assignment.strategy': 'range',
            'session.timeout.ms': 6000,
            'heartbeat.interval.ms': 500,
            'fetch.wait.max.ms': 200,
          },
        }),
    );
    const state = () => members.map((m) => m.describe()).join('\n');
    const produce = async (perPartition: number) => {
      const producer = kafkajs.producer();
      await producer.connect();
      try {
        for (let p = 0; p < partitions; p++) {
          const messages = Array.from({ length: perPartition }, (_, i) => ({ partition: p, value: `v${i}` }));
          await producer.send({ topic, acks: -1, messages });
        }
      } finally {
        await producer.disconnect();
      }
    };
    const librdkafkaLag = async () =>
      (
        await runPython<{ partitions: [number, number, number, number][] }>('confluent_group_lag.py', {
          bootstrap: broker!.bootstrap,
          topic,
          group,
          partitions,
        })
      ).partitions.map(([partition, committed, , high]) => [partition, committed, high]);
    try {
      await waitFor(
        'two members to split three partitions',
        () => {
          const owned = members.flatMap((m) => m.owned ?? []);
          return (
            members.every((m) => (m.owned?.length ?? 0) > 0) &&
            new Set(owned).size === partitions &&
            owned.length === partitions
          );
        },
        state,
      );
      await produce(10);
      await waitFor(
        'every partition consumed and committed up to 10',
        async () => (await admin.listGroupOffsets(group)).filter((o) => o.offset === 10n).length === partitions,
        state,
      );
      for (const m of members) m.command('nocommit');
      await waitFor(
        'the members to stop committing',
        () => members.every((m) => m.events.some((e) => e.ev === 'nocommit')),
        state,
      );
      await produce(5);

      // The group as librdkafka describes it (ListGroups + DescribeGroups) and as we do.
      const [ours] = await admin.describeGroups([group]);
      assert.equal(ours!.state, 'Stable');
      const view = await confluentView({ bootstrap: broker!.bootstrap, group });
      assert.deepEqual(view.groups, [
        {
          state: 'Stable',
          protocolType: 'consumer',
          protocol: 'range',
          members: ours!.members
            .map((m) => [m.memberId, m.clientId, m.clientHost, m.memberAssignment.toString('base64')])
            .sort(),
        },
      ]);
      for (const m of members) {
        const described = ours!.members.find((d) => d.clientId === m.name)!;
        assert.deepEqual(described.assignment, [{ topic, partitions: m.owned }]);
      }

      // Lag: committed 10, log end 15 on every partition, as librdkafka reads them; the owner per partition.
      const lag = await admin.describeGroupLag(group);
      assert.deepEqual(
        lag.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag]),
        [0, 1, 2].map((p) => [p, 10n, 15n, 5n]),
      );
      assert.equal(lag.totalLag, 15n);
      for (const p of lag.partitions) {
        assert.equal(p.clientId, members.find((m) => m.owned?.includes(p.partition))!.name, `owner of ${p.partition}`);
      }
      assert.deepEqual(
        await librdkafkaLag(),
        lag.partitions.map((p) => [p.partition, Number(p.committedOffset), Number(p.logEndOffset)]),
      );

      // Once they leave, our reset is what librdkafka reads; our deletion is seen too.
      for (const m of members) await m.close();
      await waitFor(
        'the group to be Empty',
        async () => (await admin.describeGroups([group]))[0]!.state === 'Empty',
        state,
      );
      await admin.resetGroupOffsets(group, { topic, to: { shiftBy: -4 } });
      assert.deepEqual(
        await librdkafkaLag(),
        [0, 1, 2].map((p) => [p, 6, 15]),
      );
      await admin.deleteGroups([group]);
      assert.deepEqual((await confluentView({ bootstrap: broker!.bootstrap, group })).groups, []);
    } catch (e) {
      for (const line of state().split('\n')) console.error(line);
      throw e;
    } finally {
      await Promise.all(members.map((m) => m.kill()));
    }
  });
});
