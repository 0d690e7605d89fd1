/**
 * `samsa topics` and `samsa consumer-groups`: Kafka's tool flags typed from habit, run as the real binary against
 * a real broker process. The output is compared line for line with what kafka-topics.sh and
 * kafka-consumer-groups.sh print ("Created topic x.", the tab-separated --describe lines, the padded GROUP TOPIC
 * PARTITION ... columns, Kafka's error sentences), with the exit statuses of exit-codes.ts (1 failed, 2 usage,
 * 3 unreachable). Records are produced with KafkaJS; the group's offsets are committed by --reset-offsets itself
 * (a group that does not exist yet may be reset, as with Kafka).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
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

const COLLISION_WARNING =
  "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. " +
  'To avoid issues it is best to use either, but not both.\n';

const ID = '[A-Za-z0-9_-]{22}';

describe('samsa topics (kafka-topics.sh flags)', () => {
  it("--create with more replicas than brokers: Kafka's error, exit 1", async () => {
    const r = await runCli([
      'topics',
      '--create',
      '--topic',
      'user_activity',
      '--bootstrap-server',
      broker.bootstrap,
      '--partitions',
      '3',
      '--replication-factor',
      '3',
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `${COLLISION_WARNING}Error while executing topic command : Replication factor: 3 larger than available brokers: 1.\n`,
    );
  });

  it('--create: "Created topic x."; again: TOPIC_ALREADY_EXISTS in Kafka\'s words; --if-not-exists: silent', async () => {
    const r = await samsa(
      'topics',
      '--create',
      '--topic',
      'user_activity',
      '--partitions',
      '3',
      '--replication-factor',
      '1',
    );
    assert.deepEqual(r, { code: 0, stdout: 'Created topic user_activity.\n', stderr: COLLISION_WARNING });
    const again = await samsa('topics', '--create', '--topic', 'user_activity', '--partitions', '3');
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `${COLLISION_WARNING}Error while executing topic command : Topic 'user_activity' already exists.\n`,
    );
    const [lenient, events] = await Promise.all([
      samsa('kafka-topics', '--create', '--topic', 'user_activity', '--if-not-exists'),
      samsa('kafka-topics.sh', '--create', '--topic', 'events', '--config', 'retention.ms=3600000'),
    ]);
    assert.deepEqual(lenient, { code: 0, stdout: '', stderr: COLLISION_WARNING });
    assert.deepEqual(events, { code: 0, stdout: 'Created topic events.\n', stderr: '' });
  });

  it('--list: one name a line', async () => {
    const r = await samsa('topics', '--list');
    assert.deepEqual(r, { code: 0, stdout: 'events\nuser_activity\n', stderr: '' });
  });

  it("--describe: Kafka's tab-separated topic and partition lines", async () => {
    const [r, overrides] = await Promise.all([
      samsa('topics', '--describe', '--topic', 'user_activity'),
      samsa('topics', '--describe', '--topics-with-overrides'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(
      lines[0]!,
      new RegExp(`^Topic: user_activity\\tTopicId: ${ID}\\tPartitionCount: 3\\tReplicationFactor: 1\\tConfigs: $`),
    );
    assert.deepEqual(lines.slice(1), [
      '\tTopic: user_activity\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1',
      '\tTopic: user_activity\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1',
      '\tTopic: user_activity\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1',
      '',
    ]);
    assert.match(
      overrides.stdout,
      new RegExp(
        `^Topic: events\\tTopicId: ${ID}\\tPartitionCount: 1\\tReplicationFactor: 1\\tConfigs: retention.ms=3600000\\n$`,
      ),
    );
  });

  it("--alter --partitions grows a topic (silent); shrinking is the broker's error", async () => {
    const grow = await samsa('topics', '--alter', '--topic', 'user_activity', '--partitions', '4');
    assert.deepEqual(grow, { code: 0, stdout: '', stderr: '' });
    const [json, shrink] = await Promise.all([
      samsa('topics', '--describe', '--topic', 'user_activity', '--output', 'json'),
      samsa('topics', '--alter', '--topic', 'user_activity', '--partitions', '2'),
    ]);
    assert.equal((JSON.parse(json.stdout) as { partitionCount: number }[])[0]!.partitionCount, 4);
    assert.equal(shrink.code, 1);
    assert.equal(
      shrink.stderr,
      'Error while executing topic command : Topic currently has 4 partitions, which is higher than the requested 2.\n',
    );
  });

  it('--delete: a missing topic "does not exist as expected" unless --if-exists', async () => {
    const [missing, lenient] = await Promise.all([
      samsa('topics', '--delete', '--topic', 'nope'),
      samsa('topics', '--delete', '--topic', 'nope', '--if-exists'),
    ]);
    assert.deepEqual(missing, { code: 1, stdout: '', stderr: "Topic 'nope' does not exist as expected\n" });
    assert.deepEqual(lenient, { code: 0, stdout: '', stderr: '' });
    const r = await samsa('topics', '--delete', '--topic', 'events');
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    assert.equal((await samsa('topics', '--list', '--exclude-internal')).stdout, 'user_activity\n');
  });

  it('usage errors exit with 2', async () => {
    const [none, two, noTopic, misplaced, unknown] = await Promise.all([
      samsa('topics'),
      samsa('topics', '--list', '--describe'),
      samsa('topics', '--create', '--partitions', '1'),
      samsa('topics', '--list', '--partitions', '3'),
      samsa('topics', '--list', '--zookeeper', 'localhost:2181'),
    ]);
    const usage = 'samsa: Command must include exactly one action: --list, --describe, --create, --alter or --delete\n';
    assert.deepEqual(none, { code: 2, stdout: '', stderr: usage });
    assert.deepEqual(two, { code: 2, stdout: '', stderr: usage });
    assert.deepEqual(noTopic, { code: 2, stdout: '', stderr: 'samsa: Missing required argument "[topic]"\n' });
    assert.deepEqual(misplaced, {
      code: 2,
      stdout: '',
      stderr: 'samsa: Option "[partitions]" can\'t be used with option "[list]"\n',
    });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--zookeeper'/);
  });

  it('no broker: exit status 3', async () => {
    const r = await runCli(['topics', '--list', '--bootstrap-server', '127.0.0.1:1']);
    assert.deepEqual(r, {
      code: 3,
      stdout: '',
      stderr: 'samsa: no broker answers at 127.0.0.1:1: is `samsa start` running? (or pass --bootstrap-server)\n',
    });
  });
});

describe('samsa consumer-groups (kafka-consumer-groups.sh flags)', () => {
  before(async () => {
    // 4 partitions now: 3 records on partition 0, 1 on partition 1, none on 2 and 3.
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'cli-tools-producer',
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'user_activity',
      messages: [0, 0, 0, 1].map((partition, i) => ({ partition, key: `k${i}`, value: `v${i}` })),
    });
    await producer.disconnect();
  });

  it('--reset-offsets --execute commits for a new group and prints GROUP TOPIC PARTITION NEW-OFFSET', async () => {
    const r = await samsa(
      'consumer-groups',
      '--reset-offsets',
      '--group',
      'tools',
      '--topic',
      'user_activity',
      '--to-latest',
      '--execute',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        '',
        'GROUP           TOPIC           PARTITION  NEW-OFFSET',
        'tools           user_activity   0          3',
        'tools           user_activity   1          1',
        'tools           user_activity   2          0',
        'tools           user_activity   3          0',
        '',
      ].join('\n'),
    );
    const shifted = await samsa(
      'kafka-consumer-groups',
      '--reset-offsets',
      '--group',
      'tools',
      '--topic',
      'user_activity:0',
      '--shift-by',
      '-2',
      '--execute',
    );
    assert.equal(shifted.code, 0, shifted.stderr);
    assert.match(shifted.stdout, /^tools {11}user_activity {3}0 {10}1$/m);
  });

  it('--reset-offsets without --execute warns and only shows (dry run)', async () => {
    const r = await samsa(
      'consumer-groups',
      '--reset-offsets',
      '--group',
      'tools',
      '--topic',
      'user_activity:0',
      '--to-earliest',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^WARN: No action will be performed as the --execute option is missing\./);
    assert.match(r.stdout, /^tools {11}user_activity {3}0 {10}0$/m);
  });

  it('--list, --list --state', async () => {
    const [list, withState] = await Promise.all([
      samsa('consumer-groups', '--list'),
      samsa('consumer-groups', '--list', '--state'),
    ]);
    assert.deepEqual(list, { code: 0, stdout: 'tools\n', stderr: '' });
    assert.deepEqual(withState, {
      code: 0,
      stdout: `GROUP${' '.repeat(21)}STATE\ntools${' '.repeat(21)}Empty\n`,
      stderr: '',
    });
  });

  it("--describe: Kafka's columns, '-' for no owner, the empty-group note on stderr", async () => {
    const [r, json, missing] = await Promise.all([
      samsa('consumer-groups', '--describe', '--group', 'tools'),
      samsa('consumer-groups', '--describe', '--group', 'tools', '--output', 'json'),
      samsa('consumer-groups', '--describe', '--group', 'nope'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "\nConsumer group 'tools' has no active members.\n");
    assert.equal(
      r.stdout,
      [
        '',
        'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID',
        'tools           user_activity   0          1               3               2               -               -               -',
        'tools           user_activity   1          1               1               0               -               -               -',
        'tools           user_activity   2          0               0               0               -               -               -',
        'tools           user_activity   3          0               0               0               -               -               -',
        '',
      ].join('\n'),
    );
    const parsed = JSON.parse(json.stdout) as { state: string; totalLag: string };
    assert.deepEqual([parsed.state, parsed.totalLag], ['Empty', '2']);
    assert.deepEqual(missing, { code: 1, stdout: '', stderr: "Error: Consumer group 'nope' does not exist.\n" });
  });

  it('--delete-offsets, then --delete with a group that does not exist', async () => {
    const r = await samsa('consumer-groups', '--delete-offsets', '--group', 'tools', '--topic', 'user_activity:3');
    assert.deepEqual(r, {
      code: 0,
      stdout:
        'Request succeeded for deleting offsets from group tools.\n\nTOPIC           PARTITION  STATUS\nuser_activity   3          Successful\n',
      stderr: '',
    });
    const del = await samsa('consumer-groups', '--delete', '--group', 'tools', '--group', 'nope');
    assert.equal(del.code, 1);
    assert.equal(del.stdout, "These consumer groups were deleted successfully: 'tools'\n");
    assert.match(
      del.stderr,
      /^Error: Deletion of some consumer groups failed:\n\* Group 'nope' could not be deleted due to: GROUP_ID_NOT_FOUND: .*\n$/,
    );
    assert.deepEqual(await samsa('consumer-groups', '--list'), { code: 0, stdout: '', stderr: '' });
  });

  it('usage errors exit with 2', async () => {
    const [both, noGroup, none] = await Promise.all([
      samsa(
        'consumer-groups',
        '--reset-offsets',
        '--group',
        'g',
        '--topic',
        't',
        '--to-earliest',
        '--dry-run',
        '--execute',
      ),
      samsa('consumer-groups', '--describe'),
      samsa('consumer-groups', '--group', 'g'),
    ]);
    assert.deepEqual(both, {
      code: 2,
      stdout: '',
      stderr: 'samsa: Option [reset-offsets] only accepts one of [execute] and [dry-run]\n',
    });
    assert.deepEqual(noGroup, {
      code: 2,
      stdout: '',
      stderr: 'samsa: Option [describe] takes one of these options: [all-groups], [group]\n',
    });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^samsa: Command must include exactly one action: --list, --describe, --delete/);
  });
});
