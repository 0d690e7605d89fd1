/**
 * `samsa consume`, `samsa console-consumer` and `samsa bench consume` / `bench e2e` run as the real binary against a
 * real broker process. Test data is written with the client's Producer with fixed timestamps, so output (format
 * strings, JSON lines, kafka-console-consumer's formatter) can be compared exactly. Group mode is checked through
 * the offsets the group committed (Admin.listGroupOffsets). The benchmarks run small and only their tables are checked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/admin/index.js';
import { Producer } from '../../src/client/producer/index.js';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { type CliResult, runCli, SAMSA_BIN } from './run-cli.js';

let broker: BrokerProcess;
let admin: Admin;
let producer: Producer;

/** Base timestamp of the test data: message i of a topic has T0 + i * 1000. */
const T0 = 1_700_000_000_000;

before(async () => {
  broker = await startBrokerProcess({
    config: { 'auto.create.topics.enable': 'false', 'group.initial.rebalance.delay.ms': '0' },
  });
  admin = new Admin({ bootstrapServers: [broker.bootstrap] });
  producer = new Producer({ bootstrapServers: [broker.bootstrap], lingerMs: 0 });
  // Partition 0: k0..k4 / v0..v4, with a header on odd offsets; partition 1: one null-key message.
  await admin.createTopics([{ name: 'data', numPartitions: 2, replicationFactor: 1 }]);
  for (let i = 0; i < 5; i++) {
    await producer.send({
      topic: 'data',
      partition: 0,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      timestamp: T0 + i * 1000,
      headers: i % 2 === 1 ? [{ key: 'h', value: Buffer.from(`x${i}`) }] : [],
    });
  }
  await producer.send({ topic: 'data', partition: 1, value: Buffer.from('p1'), timestamp: T0 + 10_000 });
});

after(async () => {
  await producer.close();
  await admin.close();
  await broker.stop();
  broker.cleanup();
});

const samsa = (args: string[]): Promise<CliResult> =>
  runCli([...args, '--bootstrap-server', broker.bootstrap], { timeoutMs: 30_000 });

const SUMMARY = /^consumed (\d+) messages? from ([\w.-]+) in \d+\.\d s( \(idle timeout\))?\n$/;

const sortLines = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .sort();

describe('samsa consume', () => {
  it('--from-beginning with --max-messages and a format string: exact output', async () => {
    const r = await samsa([
      'consume',
      'data',
      '--from-beginning',
      '-p',
      '0',
      '-c',
      '3',
      '-f',
      '%t|%p|%o|%k|%s|%T|%h\\n',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [`data|0|0|k0|v0|${T0}|`, `data|0|1|k1|v1|${T0 + 1000}|h=x1`, `data|0|2|k2|v2|${T0 + 2000}|`, ''].join('\n'),
    );
    assert.match(r.stderr, SUMMARY);
    assert.equal(SUMMARY.exec(r.stderr)![1], '3');
  });

  it('default output is the value per line; --timeout-ms ends it when idle (all partitions, no group)', async () => {
    const r = await samsa(['consume', 'data', '--from-beginning', '--timeout-ms', '1500']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(sortLines(r.stdout), ['p1', 'v0', 'v1', 'v2', 'v3', 'v4']);
    assert.match(r.stderr, /^consumed 6 messages from data in \d+\.\d s \(idle timeout\)\n$/);
  });

  it('starts at --offset N, --offset -N (from the end) and --timestamp (ISO or ms)', async () => {
    const fromOffset = await samsa(['consume', 'data', '-p', '0', '--offset', '3', '--timeout-ms', '1000']);
    assert.equal(fromOffset.code, 0, fromOffset.stderr);
    assert.equal(fromOffset.stdout, 'v3\nv4\n');
    const fromEnd = await samsa(['consume', 'data', '-p', '0', '--offset', '-2', '-c', '2']);
    assert.equal(fromEnd.stdout, 'v3\nv4\n');
    const iso = new Date(T0 + 3500).toISOString();
    const fromTime = await samsa(['consume', 'data', '--timestamp', iso, '--timeout-ms', '1000', '-f', '%p:%s\\n']);
    assert.equal(fromTime.code, 0, fromTime.stderr);
    assert.deepEqual(sortLines(fromTime.stdout), ['0:v4', '1:p1']);
    const fromMs = await samsa(['consume', 'data', '-p', '0', '--timestamp', String(T0 + 1000), '-c', '1']);
    assert.equal(fromMs.stdout, 'v1\n');
  });

  it('without a start, only new messages come (the end), as kafka-console-consumer', async () => {
    const r = await samsa(['consume', 'data', '--timeout-ms', '800']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(SUMMARY.exec(r.stderr)![1], '0');
  });

  it('--output json: one exact JSON object per line', async () => {
    const r = await samsa(['consume', 'data', '-p', '0', '--offset', '0', '-c', '2', '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `{"topic":"data","partition":0,"offset":0,"timestamp":${T0},"key":"k0","value":"v0","headers":[]}\n` +
        `{"topic":"data","partition":0,"offset":1,"timestamp":${T0 + 1000},"key":"k1","value":"v1","headers":[{"key":"h","value":"x1"}]}\n`,
    );
  });

  it('--property print.key=true key.separator=...: the console formatter; null keys print as null', async () => {
    const r = await samsa([
      'consume',
      'data',
      '-p',
      '1',
      '--from-beginning',
      '-c',
      '1',
      '--property',
      'print.key=true',
      '--property',
      'key.separator= => ',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'null => p1\n');
  });

  it('--group: a member that commits what it printed (Admin.listGroupOffsets); the next run goes on from there', async () => {
    const first = await samsa(['consume', 'data', '--group', 'g1', '--from-beginning', '-c', '2', '-f', '%p:%o\\n']);
    assert.equal(first.code, 0, first.stderr);
    const firstLines = sortLines(first.stdout);
    assert.equal(firstLines.length, 2);
    const committed = await admin.listGroupOffsets('g1');
    const total = committed.reduce((n, c) => n + Number(c.offset ?? 0n), 0);
    assert.equal(
      total,
      2,
      JSON.stringify(committed, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
    const rest = await samsa(['consume', 'data', '--group', 'g1', '--timeout-ms', '1500', '-f', '%p:%o\\n']);
    assert.equal(rest.code, 0, rest.stderr);
    // Together the two runs saw every message once.
    assert.deepEqual([...firstLines, ...sortLines(rest.stdout)].sort(), ['0:0', '0:1', '0:2', '0:3', '0:4', '1:0']);
    const after = await admin.listGroupOffsets('g1');
    assert.deepEqual(
      after.map((c) => [c.partition, c.offset]).sort((a, b) => Number(a[0]) - Number(b[0])),
      [
        [0, 5n],
        [1, 1n],
      ],
    );
  });

  it('SIGTERM ends it cleanly: exit 0 and the summary', async () => {
    const child = spawn(process.execPath, [SAMSA_BIN, 'consume', 'data', '--from-beginning', '-b', broker.bootstrap]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const deadline = Date.now() + 15_000;
    while (stdout.split('\n').length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.deepEqual(sortLines(stdout), ['p1', 'v0', 'v1', 'v2', 'v3', 'v4']);
    assert.match(stderr, /^consumed 6 messages from data in \d+\.\d s \(interrupted\)\n$/);
  });

  it('errors: unknown topic exit 1, bad flags exit 2', async () => {
    const missing = await samsa(['consume', 'nope', '--timeout-ms', '500']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /UNKNOWN_TOPIC_OR_PARTITION/);
    const bad = await samsa(['consume', 'data', '--offset', 'soon']);
    assert.equal(bad.code, 2);
    const both = await samsa(['consume', 'data', '--group', 'g', '--partition', '0']);
    assert.equal(both.code, 2);
    const token = await samsa(['consume', 'data', '-f', '%q']);
    assert.equal(token.code, 2);
  });
});

describe('samsa console-consumer (kafka-console-consumer.sh flags)', () => {
  it('--partition --offset --max-messages with every print.* property', async () => {
    const r = await samsa([
      'kafka-console-consumer.sh',
      '--topic',
      'data',
      '--partition',
      '0',
      '--offset',
      '1',
      '--max-messages',
      '2',
      '--property',
      'print.timestamp=true',
      '--property',
      'print.partition=true',
      '--property',
      'print.offset=true',
      '--property',
      'print.headers=true',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=|',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `CreateTime:${T0 + 1000}|Partition:0|Offset:1|h:x1|k1|v1\n` +
        `CreateTime:${T0 + 2000}|Partition:0|Offset:2|NO_HEADERS|k2|v2\n`,
    );
    assert.equal(r.stderr, 'Processed a total of 2 messages\n');
  });

  it('--from-beginning --group --timeout-ms --consumer-property, and its refusals', async () => {
    const r = await samsa([
      'console-consumer',
      '--topic',
      'data',
      '--from-beginning',
      '--group',
      'cg',
      '--timeout-ms',
      '1500',
      '--consumer-property',
      'max.poll.records=2',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(sortLines(r.stdout), ['p1', 'v0', 'v1', 'v2', 'v3', 'v4']);
    assert.equal(r.stderr, 'Processed a total of 6 messages\n');
    const committed = await admin.listGroupOffsets('cg');
    assert.equal(
      committed.reduce((n, c) => n + Number(c.offset ?? 0n), 0),
      6,
    );
    const noPartition = await samsa(['console-consumer', '--topic', 'data', '--offset', '1']);
    assert.equal(noPartition.code, 2);
    assert.match(noPartition.stderr, /partition is required/);
  });
});

describe('samsa bench consume / bench e2e', () => {
  it('bench consume reads --messages records from the beginning and prints its table (and JSON)', async () => {
    const r = await samsa(['bench', 'consume', '--topic', 'data', '--messages', '6']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.trimEnd().split('\n');
    assert.match(header!, /^RECORDS\s+MB\s+MB\/S\s+RECORDS\/S\s+FIRST RECORD MS\s+SECONDS$/);
    assert.match(row!, /^6\s+0\.00\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$/);
    const json = await samsa([
      'bench',
      'consume',
      '--topic',
      'data',
      '--messages',
      '3',
      '--group',
      'bench',
      '--output',
      'json',
    ]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { records: number; topic: string };
    assert.equal(doc.records, 3);
    assert.equal(doc.topic, 'data');
  });

  it('bench consume stops early with a warning when the topic runs dry', async () => {
    const r = await samsa(['bench', 'consume', '--topic', 'data', '--messages', '100', '--timeout', '1000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /exiting before consuming the expected number of messages/);
    assert.match(r.stdout.split('\n')[1]!, /^6\s/);
  });

  it('bench e2e produces and consumes in one process and prints latency percentiles', async () => {
    await admin.createTopics([{ name: 'e2e', numPartitions: 2, replicationFactor: 1 }]);
    const r = await samsa(['bench', 'e2e', '--topic', 'e2e', '--num-records', '300', '--record-size', '64']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row] = r.stdout.trimEnd().split('\n');
    assert.match(header!, /^RECORDS\s+RECORDS\/S\s+AVG MS\s+P50 MS\s+P95 MS\s+P99 MS\s+P99\.9 MS\s+MAX MS$/);
    assert.match(row!, /^300\s/);
    const json = await samsa([
      'bench',
      'e2e',
      '--topic',
      'e2e',
      '--num-records',
      '50',
      '--record-size',
      '8',
      '--throughput',
      '500',
      '--output',
      'json',
    ]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { records: number; latencyMs: Record<string, number> };
    assert.equal(doc.records, 50);
    assert.ok(doc.latencyMs.p50! <= doc.latencyMs.p99! && doc.latencyMs.p99! <= doc.latencyMs.max!);
    // Every record produced was stored: 300 + 50 across the partitions.
    const offsets = await admin.fetchTopicOffsets('e2e');
    assert.equal(
      offsets.reduce((n, o) => n + Number(o.latest), 0),
      350,
    );
  });
});
