/**
 * Shared pieces of the tests that drive the real broker process (broker-process.ts) with real clients: the broker
 * each test file starts, the 10,000 keyed messages sent once per codec, the records a client reports back, and the
 * checks applied to them: every message consumed back byte for byte, on the partition the Java client's murmur2
 * partitioner picks, in order, at contiguous offsets from 0; and what a seek to an offset or a timestamp must return.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, partitionForKey, scanRecordSet } from '../../../src/protocol/index.js';
import { RawClient } from '../../broker/raw-client.js';
import {
  type ChildResult,
  CODEC_ID,
  type Codec,
  describeChild,
  messagesToJson,
  PYTHON,
  runChild,
  type TestHeader,
  type TestMessage,
} from '../harness.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';

/** Every client process is killed after this long (generous for a loaded 2-core machine). */
export const CHILD_TIMEOUT_MS = 60_000;
/** node:test timeout of one test; above CHILD_TIMEOUT_MS so a stuck client is reported as such. */
export const TEST_TIMEOUT_MS = 150_000;
/** Partitions of every topic (created explicitly, or auto-created with num.partitions). */
export const PARTITIONS = 3;
export const MESSAGE_COUNT = 10_000;
/**
 * fetch.wait.max.ms for the long-poll tests: twice the child timeout, so a consumer can only see a message produced
 * while its fetch waits if the broker completes the long poll when the message arrives.
 */
export const LONG_POLL_WAIT_MS = 120_000;
/** The Python scripts stop waiting for records after this long and report what they have. */
export const SCRIPT_DEADLINE_S = 45;

/** A Python script in test/compat/broker/py, run from the source tree (this module runs from dist/test/...). */
export function pyScript(name: string): string {
  return fileURLToPath(new URL(`../../../../test/compat/broker/py/${name}`, import.meta.url));
}

/** The broker of one test file: auto-created topics get PARTITIONS partitions. */
export function startTestBroker(): Promise<BrokerProcess> {
  return startBrokerProcess({ config: { 'num.partitions': String(PARTITIONS), 'auto.create.topics.enable': 'true' } });
}

/** Creates topics with a raw CreateTopics v7 request (for clients without an admin API) and checks the result. */
export async function createTopics(broker: BrokerProcess, names: string[], partitions = PARTITIONS): Promise<void> {
  const client = await RawClient.connect(broker.port, broker.host);
  try {
    const res = await client.request<{
      topics: { name: string; errorCode: number; errorMessage: string | null; numPartitions: number }[];
    }>(19, 7, {
      topics: names.map((name) => ({
        name,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      })),
      timeoutMs: 30_000,
      validateOnly: false,
    });
    for (const t of res.topics) {
      assert.equal(t.errorCode, ErrorCode.NONE, `CreateTopics ${t.name}: ${t.errorCode} ${t.errorMessage}`);
      assert.equal(t.numPartitions, partitions);
    }
  } finally {
    client.close();
  }
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const lorem = 'lorem ipsum dolor sit amet, consectetur adipiscing elit; ';

/**
 * The messages the library clients send: MESSAGE_COUNT unique keys (some with binary bytes), values of a few dozen
 * to a few hundred bytes (text with non-ASCII characters, binary, and now and then empty or null), zero to three
 * headers (duplicate names, empty and binary values, a null value where the client allows one) and explicit,
 * increasing timestamps `baseTimestamp + i`.
 */
export function keyedMessages(options: { nullHeaderValue: boolean; baseTimestamp: bigint }): TestMessage[] {
  const messages: TestMessage[] = [];
  for (let i = 0; i < MESSAGE_COUNT; i++) {
    const key = i % 10 === 3 ? Buffer.concat([text(`key-${i}`), Buffer.from([0, 0xff, i & 0xff])]) : text(`key-${i}`);
    let value: Buffer | null;
    if (i % 97 === 13) value = null;
    else if (i % 97 === 14) value = Buffer.alloc(0);
    else if (i % 5 === 0) value = Buffer.from(Array.from({ length: 64 + (i % 64) }, (_, j) => (i * 31 + j) & 0xff));
    else value = text(`value-${i} ünïcødé ✓ ${lorem.repeat(1 + (i % 4))}`);
    let headers: TestHeader[];
    switch (i % 4) {
      case 0:
        headers = [];
        break;
      case 1:
        headers = [{ key: 'seq', value: text(String(i)) }];
        break;
      case 2:
        headers = [
          { key: 'dup', value: text('first') },
          { key: 'dup', value: text(`second-${i}`) },
          { key: 'empty', value: Buffer.alloc(0) },
        ];
        break;
      default:
        headers = [
          { key: 'bin', value: Buffer.from([i & 0xff, 0, 0xff, (i >> 8) & 0xff]) },
          ...(options.nullHeaderValue ? [{ key: 'null', value: null }] : []),
        ];
    }
    messages.push({ key, value, headers, timestamp: options.baseTimestamp + BigInt(i) });
  }
  return messages;
}

/** A timestamp base an hour in the past: far inside retention.ms, and clearly apart from "now". */
export function recentBase(): bigint {
  return BigInt(Date.now() - 3_600_000);
}

/** A record as a client consumed it. */
export interface Rec {
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: TestHeader[];
}

/** What the Python scripts print for a record: [partition, offset, timestamp, key, value, [[name, value], ...]],
 * bytes as base64 and null as null. */
export type PyRec = [number, number, number, string | null, string | null, [string, string | null][]];

const unb64 = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'base64'));

export function fromPy(r: PyRec): Rec {
  return {
    partition: r[0],
    offset: r[1],
    timestamp: r[2],
    key: unb64(r[3]),
    value: unb64(r[4]),
    headers: r[5].map(([key, value]) => ({ key, value: unb64(value) })),
  };
}

/** The messages each partition must hold, in produce order: partitionForKey (Java murmur2) of each key. */
export function byPartition(messages: TestMessage[]): TestMessage[][] {
  const parts: TestMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const m of messages) {
    assert.ok(m.key !== null, 'every test message is keyed');
    parts[partitionForKey(m.key, PARTITIONS)]!.push(m);
  }
  return parts;
}

function groupRecords(records: Rec[]): Rec[][] {
  const parts: Rec[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const r of records) {
    assert.ok(r.partition >= 0 && r.partition < PARTITIONS, `record on partition ${r.partition}`);
    parts[r.partition]!.push(r);
  }
  return parts;
}

const show = (b: Buffer | null): string => (b === null ? 'null' : JSON.stringify(b.toString('latin1')));
const showHeaders = (hs: TestHeader[]): string => hs.map((h) => `${h.key}=${show(h.value)}`).join(',');

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

function sameHeaders(a: TestHeader[], b: TestHeader[]): boolean {
  return a.length === b.length && a.every((h, i) => h.key === b[i]!.key && sameBytes(h.value, b[i]!.value));
}

/**
 * Every message was consumed back exactly once: per partition, in produce order, at offsets 0, 1, 2, ..., on the
 * partition partitionForKey picks, with the same key, value, headers and (when the client set one) timestamp.
 * Returns the records per partition.
 */
export function assertAllConsumed(sent: TestMessage[], records: Rec[]): Rec[][] {
  const expected = byPartition(sent);
  const got = groupRecords(records);
  for (let p = 0; p < PARTITIONS; p++) {
    const want = expected[p]!;
    const have = got[p]!;
    for (let j = 0; j < Math.min(want.length, have.length); j++) {
      const m = want[j]!;
      const r = have[j]!;
      const where = `partition ${p}, record #${j} (offset ${r.offset})`;
      assert.equal(r.offset, j, `${where}: offsets are not contiguous from 0`);
      if (!sameBytes(r.key, m.key)) assert.fail(`${where}: key ${show(r.key)}, expected ${show(m.key)}`);
      if (!sameBytes(r.value, m.value)) assert.fail(`${where}: value ${show(r.value)}, expected ${show(m.value)}`);
      if (!sameHeaders(r.headers, m.headers)) {
        assert.fail(`${where}: headers ${showHeaders(r.headers)}, expected ${showHeaders(m.headers)}`);
      }
      if (m.timestamp !== undefined) assert.equal(BigInt(r.timestamp), m.timestamp, `${where}: timestamp`);
    }
    assert.equal(have.length, want.length, `partition ${p}: ${have.length} records, expected ${want.length}`);
  }
  return got;
}

/** The records a consumer starting at `offsets[p]` of every partition must get (from the full consume); a negative
 * offset (a timestamp lookup that found nothing) gets nothing. */
export function fromOffsets(all: Rec[][], offsets: number[]): Rec[][] {
  return all.map((recs, p) => (offsets[p]! < 0 ? [] : recs.filter((r) => r.offset >= offsets[p]!)));
}

/** The offset a timestamp lookup must give per partition: that of the first record with timestamp >= ts, else -1. */
export function offsetsForTime(all: Rec[][], ts: number): number[] {
  return all.map((recs) => recs.find((r) => r.timestamp >= ts)?.offset ?? -1);
}

/** A seek returned exactly `expected` (per partition, in order, same offsets and contents). */
export function assertSameRecords(actual: Rec[], expected: Rec[][], what: string): void {
  const got = groupRecords(actual);
  for (let p = 0; p < PARTITIONS; p++) {
    const want = expected[p]!;
    const have = got[p]!;
    for (let j = 0; j < Math.min(want.length, have.length); j++) {
      const w = want[j]!;
      const h = have[j]!;
      const where = `${what}: partition ${p}, record #${j}`;
      assert.equal(h.offset, w.offset, `${where}: offset`);
      assert.ok(
        sameBytes(h.key, w.key) && sameBytes(h.value, w.value) && sameHeaders(h.headers, w.headers),
        `${where} (offset ${h.offset}): key ${show(h.key)}, expected ${show(w.key)}`,
      );
      assert.equal(h.timestamp, w.timestamp, `${where}: timestamp`);
    }
    assert.equal(have.length, want.length, `${what}: partition ${p}: ${have.length} records, expected ${want.length}`);
  }
}

/**
 * The client really compressed: the batches the broker stored for the topic (read from its segment files; the broker
 * keeps produced batches as they came, compression.type=producer) are magic 2 and carry the codec, except that
 * librdkafka sends a batch uncompressed when compressing would not shrink it, so with a codec, batches without
 * compression are allowed but must hold under half of the records. Returns a summary.
 */
export function assertStoredCodec(broker: BrokerProcess, topic: string, codec: Codec): string {
  let total = 0;
  let compressed = 0;
  let batches = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const dir = join(broker.dataDir, `${topic}-${p}`);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
      for (const batch of scanRecordSet(readFileSync(join(dir, file)))) {
        assert.equal(batch.magic, 2, `${file}: magic ${batch.magic}`);
        const records = batch.lastOffsetDelta + 1;
        batches++;
        total += records;
        if (batch.compression === CODEC_ID[codec]) compressed += records;
        else assert.equal(batch.compression, 0, `${topic}-${p}/${file}: a batch with compression ${batch.compression}`);
      }
    }
  }
  assert.equal(total, MESSAGE_COUNT, `${topic}: records stored`);
  if (codec !== 'none') {
    assert.ok(
      compressed * 2 > total,
      `${topic}: only ${compressed} of ${total} records stored ${codec}-compressed. (librdkafka 2.0.2 sends gzip, ` +
        'snappy and lz4 uncompressed, silently, unless ApiVersions advertises Produce v0: KAFKA-18659, librdkafka ' +
        '#4956; Kafka advertises Produce from 0 although it rejects v0-v2.)',
    );
  }
  return `${batches} batches stored, ${compressed} of ${total} records in ${codec} batches`;
}

/** A child process whose output can be awaited while it runs (the long-poll tests). */
export interface WatchedChild {
  child: ChildProcess;
  /** Resolves when stdout has `lines` complete lines; rejects if the child exits first. */
  stdoutLines(lines: number): Promise<string[]>;
  result: Promise<ChildResult>;
}

export function spawnWatched(command: string, args: readonly string[], timeoutMs = CHILD_TIMEOUT_MS): WatchedChild {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let exited = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      exited = true;
      wake();
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      exited = true;
      wake();
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  const complete = (): string[] => stdout.split('\n').slice(0, -1);
  return {
    child,
    result,
    async stdoutLines(lines) {
      while (complete().length < lines) {
        if (exited) throw new Error(`exited after ${complete().length} of ${lines} lines\n${stdout}\n${stderr}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return complete().slice(0, lines);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a script from py/ with `spec` as JSON on stdin; requires exit 0 and returns what it printed, parsed. */
export async function runPython<T>(script: string, spec: Record<string, unknown>): Promise<T> {
  const r = await runChild(PYTHON, ['-B', pyScript(script)], {
    input: JSON.stringify({ deadlineSeconds: SCRIPT_DEADLINE_S, ...spec }),
    timeoutMs: CHILD_TIMEOUT_MS,
  });
  // A round trip prints megabytes: keep failure messages short.
  const brief = (): string =>
    describeChild({ ...r, stdout: r.stdout.length > 4000 ? `${r.stdout.slice(0, 4000)}...` : r.stdout });
  assert.equal(r.code, 0, `${script} failed: ${brief()}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`${script} printed no JSON: ${brief()}`);
  }
}

/** Index of the message whose timestamp the timestamp seeks look up. */
export const SEEK_INDEX = 7001;

/** What a *_roundtrip.py script prints. */
interface RoundTripReport {
  errors: string[];
  delivered: ([number, number] | null)[];
  watermarks: [number, number][];
  records: PyRec[];
  offsetSeek: PyRec[];
  timeOffsets: number[];
  timeSeek: PyRec[];
}

/**
 * Runs a Python round trip (produce `messages` with `codec`, consume all, seek to an offset and to a timestamp) and
 * checks it: every delivery report names the partition murmur2 picks and the next offset there, the watermarks are
 * 0 and the message count, every message comes back (assertAllConsumed), the offset seek (to the middle of each
 * partition, usually inside a compressed batch) and the timestamp seek return exactly the records from there on.
 */
export async function checkPythonRoundTrip(
  broker: BrokerProcess,
  script: string,
  topic: string,
  codec: Codec,
  messages: TestMessage[],
): Promise<string> {
  const expected = byPartition(messages);
  const seekOffsets = expected.map((ms) => Math.floor(ms.length / 2) + 1);
  const seekTimestamp = Number(messages[SEEK_INDEX]!.timestamp);
  const report = await runPython<RoundTripReport>(script, {
    bootstrap: broker.bootstrap,
    topic,
    codec,
    partitions: PARTITIONS,
    messages: messagesToJson(messages),
    seekOffsets,
    seekTimestamp,
  });
  assert.deepEqual(report.errors, []);
  const next = new Array<number>(PARTITIONS).fill(0);
  messages.forEach((m, i) => {
    const p = partitionForKey(m.key!, PARTITIONS);
    const want = [p, next[p]!++];
    if (JSON.stringify(report.delivered[i]) !== JSON.stringify(want)) {
      assert.fail(
        `message ${i}: delivered to ${JSON.stringify(report.delivered[i])}, expected ${JSON.stringify(want)}`,
      );
    }
  });
  assert.deepEqual(
    report.watermarks,
    expected.map((ms) => [0, ms.length]),
    'watermarks',
  );
  const all = assertAllConsumed(messages, report.records.map(fromPy));
  assertSameRecords(report.offsetSeek.map(fromPy), fromOffsets(all, seekOffsets), `seek to offsets ${seekOffsets}`);
  const timeOffsets = offsetsForTime(all, seekTimestamp);
  assert.deepEqual(report.timeOffsets, timeOffsets, `offsets for timestamp ${seekTimestamp}`);
  assertSameRecords(report.timeSeek.map(fromPy), fromOffsets(all, timeOffsets), `seek to ${seekTimestamp}`);
  const stored = assertStoredCodec(broker, topic, codec);
  return (
    `${expected.map((ms) => ms.length).join('/')} records per partition; ${stored}; ` +
    `seeks at offsets ${seekOffsets}, timestamp offsets ${timeOffsets}`
  );
}

/** What a *_long_poll.py script prints. */
interface LongPollReport {
  errors: string[];
  first: PyRec | null;
  idle: PyRec | null;
  second: PyRec | null;
}

/** Runs a Python long-poll script and checks that the consumer got both messages, at offsets 0 and 1. */
export async function checkPythonLongPoll(broker: BrokerProcess, script: string, topic: string): Promise<void> {
  const report = await runPython<LongPollReport>(script, {
    bootstrap: broker.bootstrap,
    topic,
    fetchWaitMs: LONG_POLL_WAIT_MS,
  });
  assert.deepEqual(report.errors, []);
  assert.ok(report.first !== null, 'the consumer did not get the message produced before it started');
  assert.deepEqual(report.first.slice(0, 2), [0, 0]);
  assert.equal(fromPy(report.first).value?.toString(), 'before the wait');
  assert.equal(report.idle, null, 'nothing to read while the fetch waits');
  assert.ok(
    report.second !== null,
    `the consumer did not get the message produced while its fetch waited (fetch.wait.max.ms ${LONG_POLL_WAIT_MS})`,
  );
  assert.deepEqual(report.second.slice(0, 2), [0, 1]);
  assert.equal(fromPy(report.second).value?.toString(), 'produced while the fetch waits');
}
