/**
 * `samsa topic` run as the real binary against a real broker process: create (with partitions and configs, an
 * existing topic, a replication factor the cluster cannot hold), list, describe (table and JSON, with a topic that
 * does not exist), config changes, adding partitions, delete (partial failures, --if-exists), usage errors (exit 2)
 * and an unreachable broker (exit 3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { type CliResult, runCli } from './run-cli.js';

let broker: BrokerProcess;

before(async () => {
  broker = await startBrokerProcess();
});

after(async () => {
  await broker.stop();
  broker.cleanup();
});

const samsa = (...args: string[]): Promise<CliResult> => runCli([...args, '--bootstrap-server', broker.bootstrap]);

interface TopicJson {
  name: string;
  topicId: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[];
}

async function describeJson(name: string): Promise<TopicJson> {
  const r = await samsa('topic', 'describe', name, '--output', 'json');
  assert.equal(r.code, 0, r.stderr);
  const [t] = JSON.parse(r.stdout) as TopicJson[];
  return t!;
}

describe('samsa topic', () => {
  it('create: partitions and configs; the topic is there as asked', async () => {
    const r = await samsa('topic', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=86400000');
    assert.deepEqual(r, { code: 0, stdout: 'Created topic orders.\n', stderr: '' });
    const t = await describeJson('orders');
    assert.equal(t.partitionCount, 3);
    assert.equal(t.replicationFactor, 1);
    assert.deepEqual(t.configs, { 'retention.ms': '86400000' });
    assert.deepEqual(
      t.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr]),
      [
        [0, 1, [1], [1]],
        [1, 1, [1], [1]],
        [2, 1, [1], [1]],
      ],
    );
  });

  it('create: an existing topic is TOPIC_ALREADY_EXISTS (exit 1) unless --if-not-exists', async () => {
    const again = await samsa('topic', 'create', 'orders');
    assert.equal(again.code, 1);
    assert.equal(again.stdout, '');
    assert.equal(
      again.stderr,
      "samsa: TOPIC_ALREADY_EXISTS: Topic 'orders' already exists. (pass --if-not-exists to accept an existing topic)\n",
    );
    const ok = await samsa('topic', 'create', 'orders', '--if-not-exists', '--output', 'json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { name: 'orders', created: false });
  });

  it("create: a replication factor above the broker count fails with Kafka's message", async () => {
    const r = await samsa('topic', 'create', 'replicated', '--replication-factor', '3');
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'samsa: INVALID_REPLICATION_FACTOR: Replication factor: 3 larger than available brokers: 1.\n',
    );
  });

  it('list: a table, and JSON for scripts', async () => {
    const created = await samsa('topic', 'create', 'payments', '-p', '2', '--output', 'json');
    assert.equal(created.code, 0, created.stderr);
    const c = JSON.parse(created.stdout) as { created: boolean; partitions: number; topicId: string };
    assert.equal(c.created, true);
    assert.equal(c.partitions, 2);
    const table = await samsa('topic', 'list');
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^TOPIC\s+PARTITIONS\s+REPLICATION-FACTOR\s+TOPIC-ID$/);
    assert.match(lines[1]!, /^orders\s+3\s+1\s+[A-Za-z0-9_-]{22}$/);
    assert.equal(lines[2], `payments  2           1                   ${c.topicId}`);
    const json = await samsa('topic', 'list', '--output', 'json');
    assert.deepEqual(
      (JSON.parse(json.stdout) as { name: string; partitions: number }[]).map((t) => [t.name, t.partitions]),
      [
        ['orders', 3],
        ['payments', 2],
      ],
    );
  });

  it('describe: per partition leader, replicas and ISR; a missing topic is one line on stderr and exit 1', async () => {
    const r = await samsa('topic', 'describe', 'payments', 'nope');
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^Topic: payments {2}TopicId: [A-Za-z0-9_-]{22} {2}PartitionCount: 2 {2}ReplicationFactor: 1 {2}Configs: -$/,
    );
    assert.deepEqual(lines.slice(1), [
      'PARTITION  LEADER  REPLICAS  ISR',
      '0          1       1         1',
      '1          1       1         1',
    ]);
    assert.equal(
      r.stderr,
      'samsa: nope: UNKNOWN_TOPIC_OR_PARTITION: This broker does not host the requested topic partition. ' +
        '(`samsa topic list` shows the topics)\n',
    );
  });

  it('alter-config sets and removes configs; describe-config shows what is set', async () => {
    const r = await samsa(
      'topic',
      'alter-config',
      'orders',
      '--set',
      'cleanup.policy=compact',
      '--delete',
      'retention.ms',
    );
    assert.deepEqual(r, {
      code: 0,
      stdout: 'Set cleanup.policy=compact on topic orders.\nRemoved retention.ms from topic orders.\n',
      stderr: '',
    });
    const shown = await samsa('topic', 'describe-config', 'orders');
    assert.equal(shown.stdout, 'CONFIG          VALUE    SOURCE\ncleanup.policy  compact  DYNAMIC_TOPIC_CONFIG\n');
    const all = await samsa('topic', 'describe-config', 'orders', '--all', '--output', 'json');
    const configs = (JSON.parse(all.stdout) as { configs: { name: string; value: string; source: string }[] }).configs;
    assert.deepEqual(
      configs.find((c) => c.name === 'retention.ms'),
      { name: 'retention.ms', value: '604800000', source: 'DEFAULT_CONFIG', readOnly: false, sensitive: false },
    );
    const bad = await samsa('topic', 'alter-config', 'orders', '--set', 'no.such.config=1');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'samsa: INVALID_CONFIG: Unknown topic config name: no.such.config\n');
  });

  it('add-partitions grows a topic; shrinking is INVALID_PARTITIONS', async () => {
    const r = await samsa('topic', 'add-partitions', 'orders', '--total', '5');
    assert.deepEqual(r, { code: 0, stdout: 'Topic orders now has 5 partitions.\n', stderr: '' });
    assert.equal((await describeJson('orders')).partitionCount, 5);
    const shrink = await samsa('topic', 'add-partitions', 'orders', '--total', '2');
    assert.equal(shrink.code, 1);
    assert.equal(
      shrink.stderr,
      'samsa: INVALID_PARTITIONS: Topic currently has 5 partitions, which is higher than the requested 2.\n',
    );
  });

  it('delete: what can be deleted is, each missing topic is a line (exit 1); --if-exists accepts them', async () => {
    const r = await samsa('topic', 'delete', 'payments', 'nope');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Deleted topic payments.\n');
    assert.equal(
      r.stderr,
      'samsa: nope: UNKNOWN_TOPIC_OR_PARTITION: This broker does not host the requested topic partition. ' +
        '(pass --if-exists to accept a missing topic)\n',
    );
    const lenient = await samsa('topic', 'delete', 'nope', '--if-exists', '--output', 'json');
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.deepEqual(JSON.parse(lenient.stdout), { deleted: [], absent: ['nope'] });
  });

  it('usage errors exit with 2 and say what is wrong', async () => {
    const [noName, badNumber, noTotal, noOps] = await Promise.all([
      samsa('topic', 'create'),
      samsa('topic', 'create', 'x', '--partitions', 'three'),
      samsa('topic', 'add-partitions', 'orders'),
      samsa('topic', 'alter-config', 'orders'),
    ]);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /missing required argument 'name'/);
    assert.equal(badNumber.code, 2);
    assert.match(badNumber.stderr, /option '-p, --partitions <n>' argument 'three' is invalid\. not an integer\./);
    assert.equal(noTotal.code, 2);
    assert.match(noTotal.stderr, /required option '--total <n>' not specified/);
    assert.equal(noOps.code, 2);
    assert.equal(noOps.stderr, 'samsa: alter-config needs at least one --set, --delete, --append or --subtract\n');
  });

  it('no broker: one line that says what to do, exit status 3', async () => {
    const r = await runCli(['topic', 'list', '--bootstrap-server', '127.0.0.1:1']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'samsa: no broker answers at 127.0.0.1:1: is `samsa start` running? (or pass --bootstrap-server)\n',
    );
  });
});
