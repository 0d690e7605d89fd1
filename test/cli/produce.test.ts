/**
 * `samsa produce`, `samsa console-producer` and `samsa bench produce` run as the real binary against a real broker
 * process (automatic topic creation off, so a missing topic is an error): lines from standard input and from a
 * file, keys split at a separator, fixed and per-line headers, --partition, every codec, the JSON summary, Kafka's
 * console-producer flags, and the errors (unknown topic exit 1, unreachable broker exit 3, bad flags exit 2). What
 * was stored is read back with raw Fetch requests: keys, values and headers byte for byte, partitions, and the codec
 * of each stored batch.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../../src/client/admin/index.js';
import { partitionForKey, type RecordBatch } from '../../src/protocol/index.js';
import { readStoredBatches } from '../client/stored-batches.js';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { type CliResult, runCli, SAMSA_BIN } from './run-cli.js';

let broker: BrokerProcess;
let admin: Admin;
let dir: string;

before(async () => {
  broker = await startBrokerProcess({ config: { 'auto.create.topics.enable': 'false' } });
  admin = new Admin({ bootstrapServers: [broker.bootstrap] });
  dir = mkdtempSync(join(tmpdir(), 'samsa-produce-cli-'));
});

after(async () => {
  await admin.close();
  await broker.stop();
  broker.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const samsa = (args: string[], input?: string | Buffer): Promise<CliResult> =>
  runCli([...args, '--bootstrap-server', broker.bootstrap], input === undefined ? {} : { input });

async function createTopic(name: string, partitions = 1): Promise<void> {
  await admin.createTopics([{ name, numPartitions: partitions, replicationFactor: 1 }]);
}

/** Every batch stored in a partition. */
function readBatches(topic: string, partition: number): Promise<RecordBatch[]> {
  return readStoredBatches(broker, topic, partition);
}

interface Stored {
  partition: number;
  offset: bigint;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

async function readAll(topic: string, partitions = 1): Promise<Stored[]> {
  const out: Stored[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    for (const b of await readBatches(topic, partition)) {
      for (const r of b.records) {
        out.push({
          partition,
          offset: r.offset,
          key: r.key === null ? null : r.key.toString('utf8'),
          value: r.value === null ? null : r.value.toString('utf8'),
          headers: r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('utf8')]),
        });
      }
    }
  }
  return out;
}

async function endOffsets(topic: string): Promise<bigint[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.latest);
}

const SUMMARY = /^produced (\d+) messages? to ([\w.-]+) in \d+\.\d s\n$/;

interface SummaryJson {
  topic: string;
  messages: number;
  bytes: number;
  interrupted: boolean;
  partitions: { partition: number; messages: number; firstOffset: string | null; lastOffset: string | null }[];
}

describe('samsa produce', () => {
  it('stdin: one message per line, exact bytes, no keys; empty lines skipped, CRLF ends a line too', async () => {
    await createTopic('lines');
    const r = await samsa(['produce', 'lines'], 'first\nsecond ünïcødé ✓\n\nthird\r\nkey:not split\nlast, no newline');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, SUMMARY);
    assert.equal(SUMMARY.exec(r.stderr)![1], '5');
    const stored = await readAll('lines');
    assert.deepEqual(
      stored.map((s) => [s.offset, s.key, s.value, s.headers]),
      [
        [0n, null, 'first', []],
        [1n, null, 'second ünïcødé ✓', []],
        [2n, null, 'third', []],
        [3n, null, 'key:not split', []],
        [4n, null, 'last, no newline', []],
      ],
    );
  });

  it('--file with --key-separator and --header: keys split at the first separator, on murmur2 partitions; JSON summary', async () => {
    await createTopic('keyed', 3);
    const lines = Array.from({ length: 300 }, (_, i) => `user-${i % 17}::{"n":${i},"s":"a::b"}`);
    const file = join(dir, 'keyed.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await samsa([
      'produce',
      'keyed',
      '--file',
      file,
      '--key-separator',
      '::',
      '-H',
      'source=cli',
      '--header',
      'trace=a=b',
      '--value-format',
      'json',
      '--output',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, SUMMARY);
    const summary = JSON.parse(r.stdout) as SummaryJson;
    assert.equal(summary.topic, 'keyed');
    assert.equal(summary.messages, 300);
    assert.equal(summary.interrupted, false);
    assert.equal(
      summary.bytes,
      lines.reduce((n, l) => n + Buffer.byteLength(l) - 2, 0),
    );
    const stored = await readAll('keyed', 3);
    assert.equal(stored.length, 300);
    for (const s of stored) {
      assert.equal(s.partition, partitionForKey(Buffer.from(s.key!), 3), `key ${s.key}`);
      assert.deepEqual(s.headers, [
        ['source', 'cli'],
        ['trace', 'a=b'],
      ]);
    }
    // Per partition, the order of the lines is kept.
    for (let p = 0; p < 3; p++) {
      const values = stored.filter((s) => s.partition === p).map((s) => JSON.parse(s.value!).n as number);
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
      );
    }
    const ends = await endOffsets('keyed');
    assert.deepEqual(
      summary.partitions.map((p) => [p.partition, p.messages, p.firstOffset, p.lastOffset]),
      ends.map((end, p) => [p, Number(end), '0', String(end - 1n)]).filter(([, n]) => n !== 0),
    );
  });

  it('--partition and per-line headers (--headers-separator), --null-marker, a tab as key separator', async () => {
    await createTopic('placed', 3);
    const r = await samsa(
      ['produce', 'placed', '--partition', '2', '--headers-separator', '|', '-K', '\\t', '--null-marker', 'NULL'],
      'a:1,b:2|k1\tv1\n|NULL\tv2\nflag|k3\tNULL\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await endOffsets('placed'), [0n, 0n, 3n]);
    assert.deepEqual(
      (await readAll('placed', 3)).map((s) => [s.partition, s.key, s.value, s.headers]),
      [
        [
          2,
          'k1',
          'v1',
          [
            ['a', '1'],
            ['b', '2'],
          ],
        ],
        [2, null, 'v2', []],
        [2, 'k3', null, [['flag', null]]],
      ],
    );
  });

  it('--compression: every codec is stored as sent, values intact; --acks and --linger-ms, --batch-size taken', async () => {
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
    const ids = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
    const input = `${Array.from({ length: 2000 }, (_, i) => `message ${i} ${'x'.repeat(i % 50)}`).join('\n')}\n`;
    await Promise.all(codecs.map((c) => createTopic(`codec-${c}`)));
    const results = await Promise.all(
      codecs.map((c, i) =>
        samsa(
          [
            'produce',
            `codec-${c}`,
            '--compression',
            c,
            '--acks',
            ['all', '1', '-1', '1'][i]!,
            '--linger-ms',
            '20',
            '--batch-size',
            '8192',
          ],
          input,
        ),
      ),
    );
    for (const [i, c] of codecs.entries()) {
      assert.equal(results[i]!.code, 0, `${c}: ${results[i]!.stderr}`);
      const batches = await readBatches(`codec-${c}`, 0);
      assert.ok(batches.length > 0, c);
      for (const b of batches) assert.equal(b.compression, ids[c], c);
      const values = batches.flatMap((b) => b.records.map((r) => r.value!.toString()));
      assert.equal(values.join('\n'), input.trimEnd(), c);
    }
  });

  it('acks=0: counted, offsets unknown (null) in the JSON summary', async () => {
    await createTopic('fire');
    const r = await samsa(['produce', 'fire', '--acks', '0', '--output', 'json'], 'a\nb\nc\n');
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as SummaryJson;
    assert.deepEqual(summary.partitions, [{ partition: 0, messages: 3, firstOffset: null, lastOffset: null }]);
    for (let i = 0; i < 250 && (await endOffsets('fire'))[0] !== 3n; i++) await sleep(20);
    assert.deepEqual(await endOffsets('fire'), [3n]);
  });

  it('a large file (200,000 lines, 20 MB) is streamed: every line stored, in order', async () => {
    await createTopic('large', 2);
    const file = join(dir, 'large.txt');
    const value = 'v'.repeat(90);
    writeFileSync(file, Array.from({ length: 200_000 }, (_, i) => `${String(i).padStart(8, '0')}${value}\n`).join(''));
    const r = await samsa(['produce', 'large', '--file', file, '--output', 'json', '--progress']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as SummaryJson;
    assert.equal(summary.messages, 200_000);
    assert.equal(summary.bytes, 200_000 * 98);
    const ends = await endOffsets('large');
    assert.equal(ends[0]! + ends[1]!, 200_000n);
    assert.deepEqual(
      summary.partitions.map((p) => p.messages),
      ends.map(Number),
    );
    // --progress draws plain lines (stderr is not a terminal) only after half a second; the summary comes last.
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(`${lines.at(-1)}\n`, SUMMARY);
    for (const l of lines.slice(0, -1))
      assert.match(l, /^[\d,]+ messages {2}\S+ \S+ {2}[\d,]+ msg\/s {2}\[[#.]{20}\] \d+%$/);
  });

  it('errors: unknown topic exit 1 with the Kafka error; bad JSON and bad partition exit 1; unreachable exit 3', async () => {
    const [unknown, badJson, badPartition, unreachable] = await Promise.all([
      samsa(['produce', 'no-such-topic'], 'a\n'),
      samsa(['produce', 'lines', '--value-format', 'json'], '{"ok":1}\nnot json\n'),
      samsa(['produce', 'lines', '--partition', '7'], 'a\n'),
      runCli(['produce', 'lines', '--bootstrap-server', '127.0.0.1:1'], { input: 'a\n' }),
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^samsa: UNKNOWN_TOPIC_OR_PARTITION: topic no-such-topic does not exist[^\n]*\n$/);
    assert.equal(badJson.code, 1);
    assert.match(badJson.stderr, /^samsa: line 2: the value is not JSON \(.*\): 'not json'\n$/);
    assert.equal(badPartition.code, 1);
    assert.equal(
      badPartition.stderr,
      'samsa: UNKNOWN_TOPIC_OR_PARTITION: partition 7 of topic lines does not exist (it has 1)\n',
    );
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /^samsa: no broker answers at 127\.0\.0\.1:1/);
    assert.equal(unreachable.stdout, '');
  });

  it('Ctrl-C: reading stops, what was read is sent, the summary says so, exit status 130', async () => {
    await createTopic('interrupted');
    const child = spawn(process.execPath, [SAMSA_BIN, 'produce', 'interrupted', '-b', broker.bootstrap], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin.write('one\ntwo\n');
    // Once both are stored the command is running (its Ctrl-C handler is in place); standard input stays open.
    for (let i = 0; i < 500 && (await endOffsets('interrupted'))[0] !== 2n; i++) await sleep(20);
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.match(stderr, /^produced 2 messages to interrupted in \d+\.\d s \(interrupted\)\n$/);
  });

  it('bad flags exit 2 before anything is sent', async () => {
    await createTopic('untouched');
    const runs = await Promise.all([
      samsa(['produce', 'untouched', '--acks', '2']),
      samsa(['produce', 'untouched', '--compression', 'brotli']),
      samsa(['produce', 'untouched', '--partition', 'x']),
      samsa(['produce', 'untouched', '--no-such-flag']),
      samsa(['produce']),
      samsa(['produce', 'untouched', '--file', join(dir, 'missing.txt')]),
      samsa(['produce', 'untouched', '--value-format', 'xml']),
      samsa(['produce', 'untouched', '--header', 'novalue']),
    ]);
    for (const r of runs) assert.equal(r.code, 2, r.stderr);
    assert.match(runs[5]!.stderr, /^samsa: cannot read .*missing\.txt: ENOENT\n$/);
    assert.deepEqual(await endOffsets('untouched'), [0n]);
  });
});

describe('samsa console-producer (kafka-console-producer.sh flags)', () => {
  it('parse.key and key.separator, --producer-property acks, --compression-codec without a codec (gzip)', async () => {
    await createTopic('console', 2);
    const r = await samsa(
      [
        'kafka-console-producer.sh',
        '--topic',
        'console',
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=:',
        '--producer-property',
        'acks=1',
        '--compression-codec',
      ],
      'k1:v1\nk2:v2:with colon\n:empty key\n',
    );
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    const stored = await readAll('console', 2);
    assert.deepEqual(stored.map((s) => [s.key, s.value]).sort(), [
      ['', 'empty key'],
      ['k1', 'v1'],
      ['k2', 'v2:with colon'],
    ]);
    for (const s of stored) assert.equal(s.partition, partitionForKey(Buffer.from(s.key!), 2));
    for (const p of [0, 1]) for (const b of await readBatches('console', p)) assert.equal(b.compression, 1);
  });

  it("Kafka's defaults: tab as key separator, headers with parse.headers, empty lines sent, ignore.error", async () => {
    await createTopic('console-tab');
    const r = await samsa(
      [
        'console-producer',
        '--topic',
        'console-tab',
        '--property',
        'parse.key=true',
        '--property',
        'parse.headers=true',
        '--property',
        'ignore.error=true',
        '--compression-codec',
        'lz4',
      ],
      'h1:a,h2:b\tk\tv\n\t\t\nno separators\n',
    );
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(
      (await readAll('console-tab')).map((s) => [s.key, s.value, s.headers]),
      [
        [
          'k',
          'v',
          [
            ['h1', 'a'],
            ['h2', 'b'],
          ],
        ],
        ['', '', []],
        [null, 'no separators', []],
      ],
    );
    assert.ok((await readBatches('console-tab', 0)).every((b) => b.compression === 3));
  });

  it('a line without the key separator stops it (exit 1); unknown topic exit 1; no --topic exit 2', async () => {
    const [noSeparator, unknown, noTopic, badAcks, warned] = await Promise.all([
      samsa(['kafka-console-producer', '--topic', 'lines', '--property', 'parse.key=true'], 'no key here\n'),
      samsa(['console-producer', '--topic', 'nowhere'], 'a\n'),
      samsa(['console-producer'], 'a\n'),
      samsa(['console-producer', '--topic', 'lines', '--request-required-acks', 'some'], 'a\n'),
      samsa(['console-producer', '--topic', 'console-warn', '--producer-property', 'frobnicate=1'], ''),
    ]);
    assert.equal(noSeparator.code, 1);
    assert.equal(noSeparator.stderr, "samsa: line 1 has no key separator '\\t': 'no key here'\n");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^samsa: UNKNOWN_TOPIC_OR_PARTITION: /);
    assert.equal(noTopic.code, 2);
    assert.equal(badAcks.code, 2);
    assert.equal(badAcks.stderr, "samsa: acks must be 0, 1, all or -1, got 'some'\n");
    assert.equal(warned.code, 0);
    assert.equal(warned.stderr, "samsa: warning: producer property 'frobnicate' is not known here and is ignored\n");
  });
});

describe('samsa bench produce', () => {
  it('sends exactly --num-records of --record-size to a topic it creates; table of rate and latencies', async () => {
    const r = await samsa([
      'bench',
      'produce',
      '--topic',
      'bench',
      '--num-records',
      '5000',
      '--record-size',
      '300',
      '--partitions',
      '3',
      '--reporting-interval',
      '100',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
    assert.deepEqual(rest, []);
    assert.deepEqual(header!.split(/\s+/), [
      'RECORDS',
      'RECORDS/S',
      'MB/S',
      'AVG',
      'MS',
      'P50',
      'MS',
      'P95',
      'MS',
      'P99',
      'MS',
      'P99.9',
      'MS',
      'MAX',
      'MS',
    ]);
    const cells = row!.split(/\s+/);
    assert.equal(cells[0], '5000');
    for (const c of cells.slice(1)) assert.match(c, /^\d+\.\d+$/);
    assert.match(r.stderr, /^created topic bench with 3 partitions\n/);
    for (const line of r.stderr.trimEnd().split('\n').slice(1)) {
      assert.match(
        line,
        /^\d+ records sent, \d+\.\d records\/sec \(\d+\.\d\d MB\/sec\), \d+\.\d ms avg latency, \d+\.\d ms max latency\.$/,
      );
    }
    const ends = await endOffsets('bench');
    assert.equal(ends.length, 3);
    assert.equal(
      ends.reduce((a, b) => a + b, 0n),
      5000n,
    );
    for (let p = 0; p < 3; p++) {
      for (const b of await readBatches('bench', p)) {
        for (const rec of b.records) {
          assert.equal(rec.key, null);
          assert.equal(rec.value!.length, 300);
          assert.match(rec.value!.toString('latin1'), /^[A-Z]+$/);
        }
      }
    }
  });

  it("--output json, --throughput, --acks 1, --compression, perf-test's --producer-props (brokers too); an existing topic is used as is", async () => {
    const r = await runCli([
      'bench',
      'produce',
      '--topic',
      'bench',
      '--num-records',
      '400',
      '--record-size',
      '50',
      '--throughput',
      '2000',
      '--acks',
      '1',
      '--compression',
      'zstd',
      '--partitions',
      '3',
      '--output',
      'json',
      '--producer-props',
      `bootstrap.servers=${broker.bootstrap}`,
      'linger.ms=10',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const result = JSON.parse(r.stdout) as {
      records: number;
      recordSize: number;
      seconds: number;
      recordsPerSec: number;
      latencyMs: Record<string, number>;
    };
    assert.equal(result.records, 400);
    assert.equal(result.recordSize, 50);
    // 400 records at 2000/s take at least 0.2 s (the limit is kept, however slow the machine).
    assert.ok(result.seconds >= 0.19, `${result.seconds} s`);
    assert.deepEqual(Object.keys(result.latencyMs), ['avg', 'p50', 'p95', 'p99', 'p999', 'max']);
    const l = result.latencyMs;
    assert.ok(l.p50! <= l.p95! && l.p95! <= l.p99! && l.p99! <= l.p999! && l.p999! <= l.max!, JSON.stringify(l));
    const ends = await endOffsets('bench');
    assert.equal(
      ends.reduce((a, b) => a + b, 0n),
      5400n,
    );
  });

  it('a missing topic without --partitions fails (exit 1); missing flags exit 2', async () => {
    const [missing, noSize] = await Promise.all([
      samsa(['bench', 'produce', '--topic', 'absent', '--num-records', '10', '--record-size', '10']),
      samsa(['bench', 'produce', '--topic', 'absent', '--num-records', '10']),
    ]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^samsa: UNKNOWN_TOPIC_OR_PARTITION: topic absent does not exist.*\(after 0 records\)\n$/,
    );
    assert.equal(noSize.code, 2);
    assert.equal(noSize.stderr, 'samsa: --record-size is required\n');
  });
});
