/**
 * `samsa group` run as the real binary against a real broker process, with a real consumer group: KafkaJS produces
 * 10 records to each of 3 partitions, one KafkaJS consumer reads and commits them all and pauses, then 5 more
 * records go to partition 0, so the group is Stable with a lag of 5 on partition 0 and 0 elsewhere.
 *
 * Checked: list, describe (the kafka-consumer-groups columns, also through `samsa consumer-groups`), --members,
 * --state and JSON while the consumer is in the group; the refusals while it is (reset, delete); then, once it has
 * left, the empty-group note, reset-offsets (dry run, shift-by on some partitions, to-latest on all topics, a date),
 * delete-offsets, delete (with a group that does not exist), usage errors (exit 2) and an unreachable broker
 * (exit 3). Waiting is by polling for a state with a bound; no timing is asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { type CliResult, runCli } from './run-cli.js';

const TOPIC = 'lagged';
const GROUP = 'cli-group';
const CLIENT_ID = 'cli-test-consumer';
const WAIT_MS = 20_000;

let broker: BrokerProcess;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let consumer: Consumer | undefined;

const samsa = (...args: string[]): Promise<CliResult> => runCli([...args, '--bootstrap-server', broker.bootstrap]);

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const send = (partition: number, count: number) =>
  producer.send({
    topic: TOPIC,
    messages: Array.from({ length: count }, (_, i) => ({ partition, key: `k${i}`, value: `v${i}` })),
  });

async function committed(): Promise<string[]> {
  const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  return (t?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => p.offset);
}

before(async () => {
  broker = await startBrokerProcess();
  kafka = new Kafka({ brokers: [broker.bootstrap], clientId: CLIENT_ID, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 1 }] });
  producer = kafka.producer();
  await producer.connect();
  for (const p of [0, 1, 2]) await send(p, 10);
  consumer = kafka.consumer({ groupId: GROUP, heartbeatInterval: 300, sessionTimeout: 10_000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  await waitFor('the offsets committed at the log end', async () => (await committed()).join() === '10,10,10');
  consumer.pause([{ topic: TOPIC }]);
  await send(0, 5);
});

after(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  await admin?.disconnect();
  await broker.stop();
  broker.cleanup();
});

interface LagJson {
  group: string;
  state: string;
  totalLag: string;
  partitions: {
    group: string;
    topic: string | null;
    partition: number | null;
    currentOffset: string | null;
    logEndOffset: string | null;
    lag: string | null;
    consumerId: string | null;
    host: string | null;
    clientId: string | null;
  }[];
}

async function lagJson(): Promise<LagJson> {
  const r = await samsa('group', 'describe', GROUP, '--output', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as LagJson;
}

describe('samsa group, while a consumer is in the group', () => {
  let memberId = '';

  it('describe --output json: committed offset, log end, lag and owner per partition', async () => {
    const lag = await lagJson();
    assert.equal(lag.state, 'Stable');
    assert.equal(lag.totalLag, '5');
    memberId = lag.partitions[0]!.consumerId!;
    assert.match(memberId, new RegExp(`^${CLIENT_ID}-`));
    assert.deepEqual(lag.partitions, [
      {
        group: GROUP,
        topic: TOPIC,
        partition: 0,
        currentOffset: '10',
        logEndOffset: '15',
        lag: '5',
        consumerId: memberId,
        host: '/127.0.0.1',
        clientId: CLIENT_ID,
      },
      {
        group: GROUP,
        topic: TOPIC,
        partition: 1,
        currentOffset: '10',
        logEndOffset: '10',
        lag: '0',
        consumerId: memberId,
        host: '/127.0.0.1',
        clientId: CLIENT_ID,
      },
      {
        group: GROUP,
        topic: TOPIC,
        partition: 2,
        currentOffset: '10',
        logEndOffset: '10',
        lag: '0',
        consumerId: memberId,
        host: '/127.0.0.1',
        clientId: CLIENT_ID,
      },
    ]);
  });

  it("describe: kafka-consumer-groups' columns as a table", async () => {
    const r = await samsa('group', 'describe', GROUP);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const pad = ' '.repeat(memberId.length - 'CONSUMER-ID'.length);
    assert.equal(
      r.stdout,
      [
        `GROUP      TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID${pad}  HOST        CLIENT-ID`,
        `cli-group  lagged  0          10              15              5    ${memberId}  /127.0.0.1  ${CLIENT_ID}`,
        `cli-group  lagged  1          10              10              0    ${memberId}  /127.0.0.1  ${CLIENT_ID}`,
        `cli-group  lagged  2          10              10              0    ${memberId}  /127.0.0.1  ${CLIENT_ID}`,
        '',
      ].join('\n'),
    );
  });

  it("samsa consumer-groups --describe prints the same in Kafka's layout", async () => {
    const r = await samsa('consumer-groups', '--describe', '--group', GROUP);
    assert.equal(r.code, 0, r.stderr);
    const id = memberId.padEnd(Math.max(15, memberId.length));
    assert.equal(
      r.stdout,
      [
        '',
        `GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             ${'CONSUMER-ID'.padEnd(id.length)} HOST            CLIENT-ID`,
        `cli-group       lagged          0          10              15              5               ${id} /127.0.0.1      ${CLIENT_ID}`,
        `cli-group       lagged          1          10              10              0               ${id} /127.0.0.1      ${CLIENT_ID}`,
        `cli-group       lagged          2          10              10              0               ${id} /127.0.0.1      ${CLIENT_ID}`,
        '',
      ].join('\n'),
    );
  });

  it('list, --members and --state', async () => {
    const [list, members, state] = await Promise.all([
      samsa('group', 'list'),
      samsa('group', 'describe', GROUP, '--members'),
      samsa('group', 'describe', GROUP, '--state'),
    ]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(
      list.stdout,
      `GROUP      TYPE     PROTOCOL-TYPE  STATE   COORDINATOR\ncli-group  classic  consumer       Stable  1\n`,
    );
    assert.equal(members.code, 0, members.stderr);
    assert.match(
      members.stdout,
      new RegExp(`^cli-group\\s+${memberId}\\s+-\\s+/127\\.0\\.0\\.1\\s+${CLIENT_ID}\\s+3\\s+lagged:0,1,2$`, 'm'),
    );
    assert.equal(state.code, 0, state.stderr);
    assert.match(
      state.stdout,
      new RegExp(`^cli-group\\s+classic\\s+${broker.host}:${broker.port} \\(1\\)\\s+\\S+\\s+Stable\\s+1$`, 'm'),
    );
    const filtered = await samsa('group', 'list', '--state', 'empty', '--output', 'json');
    assert.deepEqual(JSON.parse(filtered.stdout), []);
  });

  it('reset-offsets and delete refuse a group with members (exit 1)', async () => {
    const [reset, del] = await Promise.all([
      samsa('group', 'reset-offsets', GROUP, '--topic', TOPIC, '--to-earliest', '--execute'),
      samsa('group', 'delete', GROUP),
    ]);
    assert.equal(reset.code, 1);
    assert.equal(
      reset.stderr,
      "samsa: NON_EMPTY_GROUP: Assignments can only be reset if the group 'cli-group' is inactive, but the current " +
        'state is Stable. (stop its consumers first)\n',
    );
    assert.equal(del.code, 1);
    assert.equal(del.stdout, '');
    assert.match(del.stderr, /^samsa: cli-group: NON_EMPTY_GROUP: .* \(stop its consumers first\)\n$/);
  });
});

describe('samsa group, once the consumer has left', () => {
  before(async () => {
    await consumer?.disconnect();
    consumer = undefined;
    await waitFor('the group to be empty', async () => (await lagJson()).state === 'Empty');
  });

  it('describe: no owners, and a note on stderr', async () => {
    const r = await samsa('group', 'describe', GROUP);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "Consumer group 'cli-group' has no active members.\n");
    assert.match(r.stdout, /^cli-group {2}lagged {2}0 {10}10 {14}15 {14}5 {4}- {12}- {5}-$/m);
  });

  it('reset-offsets --dry-run shows the new offsets and commits nothing', async () => {
    const r = await samsa('group', 'reset-offsets', GROUP, '--topic', TOPIC, '--to-earliest', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'GROUP      TOPIC   PARTITION  NEW-OFFSET\ncli-group  lagged  0          0\ncli-group  lagged  1          0\ncli-group  lagged  2          0\n',
    );
    assert.equal(r.stderr, 'Dry run: nothing was committed (--execute commits these offsets).\n');
    assert.deepEqual(
      (await lagJson()).partitions.map((p) => p.currentOffset),
      ['10', '10', '10'],
    );
  });

  it('reset-offsets --execute: shift-by on some partitions, then to-latest on all topics', async () => {
    const shift = await samsa(
      'group',
      'reset-offsets',
      GROUP,
      '--topic',
      `${TOPIC}:0,2`,
      '--shift-by',
      '-3',
      '--execute',
    );
    assert.equal(shift.code, 0, shift.stderr);
    assert.equal(
      shift.stdout,
      'GROUP      TOPIC   PARTITION  NEW-OFFSET\ncli-group  lagged  0          7\ncli-group  lagged  2          7\n',
    );
    let lag = await lagJson();
    assert.deepEqual(
      lag.partitions.map((p) => [p.currentOffset, p.lag]),
      [
        ['7', '8'],
        ['10', '0'],
        ['7', '3'],
      ],
    );
    assert.equal(lag.totalLag, '11');
    const latest = await samsa(
      'group',
      'reset-offsets',
      GROUP,
      '--all-topics',
      '--to-latest',
      '--execute',
      '--output',
      'json',
    );
    assert.equal(latest.code, 0, latest.stderr);
    assert.deepEqual(JSON.parse(latest.stdout), {
      group: GROUP,
      dryRun: false,
      offsets: [
        { topic: TOPIC, partition: 0, offset: '15', previousOffset: '7' },
        { topic: TOPIC, partition: 1, offset: '10', previousOffset: '10' },
        { topic: TOPIC, partition: 2, offset: '10', previousOffset: '7' },
      ],
    });
    lag = await lagJson();
    assert.equal(lag.totalLag, '0');
    const dated = await samsa(
      'group',
      'reset-offsets',
      GROUP,
      '--topic',
      `${TOPIC}:1`,
      '--to-datetime',
      '2001-01-01T00:00:00Z',
      '--dry-run',
    );
    assert.equal(dated.stdout, 'GROUP      TOPIC   PARTITION  NEW-OFFSET\ncli-group  lagged  1          0\n');
  });

  it('reset-offsets usage errors exit with 2', async () => {
    const [noMode, twoTargets, noScope, unknown] = await Promise.all([
      samsa('group', 'reset-offsets', GROUP, '--topic', TOPIC, '--to-earliest'),
      samsa('group', 'reset-offsets', GROUP, '--topic', TOPIC, '--to-earliest', '--to-latest', '--dry-run'),
      samsa('group', 'reset-offsets', GROUP, '--to-earliest', '--dry-run'),
      samsa('group', 'reset-offsets', GROUP, '--topic', TOPIC, '--to-earliest', '--dry-run', '--force'),
    ]);
    assert.deepEqual([noMode.code, twoTargets.code, noScope.code, unknown.code], [2, 2, 2, 2]);
    assert.equal(
      noMode.stderr,
      'samsa: reset-offsets needs --dry-run (show the new offsets) or --execute (commit them)\n',
    );
    assert.equal(
      twoTargets.stderr,
      'samsa: give exactly one of --to-earliest, --to-latest, --to-datetime, --by-duration, --to-offset, --shift-by, not several\n',
    );
    assert.equal(
      noScope.stderr,
      'samsa: say which offsets to reset: --topic TOPIC[:PARTITION,...] (repeatable) or --all-topics\n',
    );
    assert.match(unknown.stderr, /unknown option '--force'/);
  });

  it('delete-offsets removes the committed offset of a partition', async () => {
    const r = await samsa('group', 'delete-offsets', GROUP, '--topic', `${TOPIC}:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'GROUP      TOPIC   PARTITION  STATUS\ncli-group  lagged  1          deleted\n');
    assert.deepEqual(
      (await lagJson()).partitions.map((p) => [p.partition, p.currentOffset]),
      [
        [0, '15'],
        [2, '10'],
      ],
    );
  });

  it('delete: the group goes; one that does not exist is a line on stderr (exit 1)', async () => {
    const r = await samsa('group', 'delete', GROUP, 'no-such-group');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Deleted group cli-group.\n');
    assert.match(r.stderr, /^samsa: no-such-group: GROUP_ID_NOT_FOUND: .* \(`samsa group list` shows the groups\)\n$/);
    const gone = await samsa('group', 'describe', GROUP);
    assert.equal(gone.code, 1);
    assert.equal(
      gone.stderr,
      'samsa: GROUP_ID_NOT_FOUND: Group cli-group not found. (`samsa group list` shows the groups)\n',
    );
  });

  it('no broker: exit status 3', async () => {
    const r = await runCli(['group', 'list', '--bootstrap-server', '127.0.0.1:1']);
    assert.equal(r.code, 3);
    assert.equal(
      r.stderr,
      'samsa: no broker answers at 127.0.0.1:1: is `samsa start` running? (or pass --bootstrap-server)\n',
    );
  });
});
