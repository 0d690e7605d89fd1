/**
 * Shared pieces of the compatibility tests against the real broker process: the keyed messages with headers that
 * each client produces, where every key must land and at which offset, what a ListOffsets lookup by timestamp must
 * answer, reading a partition back with kcat (a consumer that needs no group), and dumping logs when a test fails.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeChild, runChild } from '../harness.js';
import type { BrokerProcess } from './broker-process.js';

/** Messages per codec topic. */
export const MESSAGE_COUNT = 10_000;
export const PARTITIONS = 3;
/** Message i carries timestamp BASE_TIMESTAMP + i * TIMESTAMP_STEP (CreateTime), so offsets by time are known. */
export const BASE_TIMESTAMP = 1_700_000_000_000n;
export const TIMESTAMP_STEP = 10n;

export interface WorkloadMessage {
  index: number;
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
  /** In order; a name may repeat. A null value only in binary workloads. */
  headers: [string, Buffer | null][];
  timestamp: bigint;
}

export interface WorkloadOptions {
  /**
   * false: keys, values and header values are valid UTF-8 text (kcat -J prints them as JSON strings, which round-trip
   * exactly only for valid UTF-8) and no header value is null (KafkaJS cannot send one). true: binary bytes and null
   * header values as well.
   */
  binary: boolean;
  count?: number;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Repetitive, so that every codec really compresses the batches. */
const FILLER = ' a keyed message with headers from a real client to the samsa broker;'.repeat(2);

/**
 * `count` keyed messages for one topic. Keys are distinct. Values are text with characters JSON must escape (quote,
 * backslash, tab) and non-ASCII ones; every 997th message is a tombstone and every 13th has an empty value. Headers:
 * index and label on all, a repeated name on every 5th, an empty value on every 7th; with `binary`, every 11th key,
 * value and header value are raw bytes (all 256 byte values) and every 9th message has a null header value.
 */
export function workload(label: string, options: WorkloadOptions): WorkloadMessage[] {
  const messages: WorkloadMessage[] = [];
  for (let i = 0; i < (options.count ?? MESSAGE_COUNT); i++) {
    const binary = options.binary && i % 11 === 0;
    const raw = Buffer.from(Array.from({ length: 64 + (i % 200) }, (_, j) => (i + j * 7) % 256));
    const key = binary ? Buffer.concat([text(`${label}-bin-${i}-`), raw.subarray(0, 16)]) : text(`${label}-key-${i}`);
    let value: Buffer | null = text(`value ${i} of ${label}: "quoted", back\\slash, tab\t, ünïcødé ✓;${FILLER}`);
    if (binary) value = raw;
    if (i % 997 === 500) value = null;
    else if (i % 13 === 12) value = Buffer.alloc(0);
    const headers: [string, Buffer | null][] = [
      ['index', text(String(i))],
      ['label', text(label)],
    ];
    if (i % 5 === 0) headers.push(['dup', text('first')], ['dup', text('second')]);
    if (i % 7 === 0) headers.push(['empty', Buffer.alloc(0)]);
    if (binary) headers.push(['raw', raw.subarray(0, 32)]);
    if (options.binary && i % 9 === 0) headers.push(['null-value', null]);
    messages.push({ index: i, key, value, headers, timestamp: BASE_TIMESTAMP + BigInt(i) * TIMESTAMP_STEP });
  }
  return messages;
}

/** The messages of each partition in production order, given where each key must go. */
export function byPartition(
  messages: readonly WorkloadMessage[],
  partitionOf: (key: Buffer) => number,
  partitions = PARTITIONS,
): WorkloadMessage[][] {
  const out: WorkloadMessage[][] = Array.from({ length: partitions }, () => []);
  for (const m of messages) out[partitionOf(m.key)]!.push(m);
  for (const [p, list] of out.entries()) assert.ok(list.length > 0, `no key goes to partition ${p}`);
  return out;
}

/**
 * What ListOffsets answers for a timestamp on one partition: the first offset whose timestamp is at or after it, or
 * -1 when there is none.
 */
export function offsetForTimestamp(partition: readonly WorkloadMessage[], timestamp: bigint): number {
  return partition.findIndex((m) => m.timestamp >= timestamp);
}

/** Timestamps worth looking up: before everything, exactly on a message, between two, after everything. */
export function lookupTimestamps(messages: readonly WorkloadMessage[]): bigint[] {
  const last = messages.at(-1)!.timestamp;
  return [
    BASE_TIMESTAMP - 1000n,
    BASE_TIMESTAMP,
    messages[5000]!.timestamp,
    messages[7777]!.timestamp + TIMESTAMP_STEP / 2n,
    last,
    last + 1n,
  ];
}

/** A record as the tests compare it: bytes as hex, so that a mismatch prints readably. */
export interface RecordView {
  offset: number;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));

export function expectedView(m: WorkloadMessage, offset: number): RecordView {
  return {
    offset,
    timestamp: m.timestamp.toString(),
    key: hex(m.key),
    value: hex(m.value),
    headers: m.headers.map(([k, v]) => [k, hex(v)]),
  };
}

/**
 * Compares what was read from a partition (from offset `from`) with what was produced to it, record by record: the
 * first difference fails with both records (deepEqual of 3,000 records would print them all).
 */
export function assertRecords(
  what: string,
  actual: readonly RecordView[],
  produced: readonly WorkloadMessage[],
  from = 0,
): void {
  const expected = produced.slice(from).map((m, i) => expectedView(m, from + i));
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
    assert.deepEqual(actual[i], expected[i], `${what}: record ${i} (offset ${from + i}) differs`);
  }
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} records read, ${expected.length} produced`);
}

interface KcatJsonRecord {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers?: (string | null)[];
  key: string | null;
  payload: string | null;
}

/**
 * Reads one partition with kcat (librdkafka's consumer, no group: `-C -p N -o OFFSET -e`) and returns its records.
 * kcat -J prints keys, values and header values as JSON strings, so this only round-trips text workloads.
 */
export async function readWithKcat(
  broker: BrokerProcess,
  topic: string,
  partition: number,
  options: { offset?: number; count?: number } = {},
): Promise<RecordView[]> {
  const args = ['-C', '-b', broker.bootstrap, '-t', topic, '-p', String(partition), '-e', '-J', '-q'];
  args.push('-o', options.offset === undefined ? 'beginning' : String(options.offset));
  if (options.count !== undefined) args.push('-c', String(options.count));
  const r = await runChild('kcat', args, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `kcat ${args.join(' ')}: ${describeChild(r)}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const str = (s: string | null): string | null => (s === null ? null : Buffer.from(s, 'utf8').toString('hex'));
  return lines.map((line) => {
    const j = JSON.parse(line) as KcatJsonRecord;
    assert.equal(j.topic, topic);
    assert.equal(j.partition, partition);
    assert.equal(j.tstype, 'create');
    const headers: [string, string | null][] = [];
    const h = j.headers ?? [];
    for (let i = 0; i < h.length; i += 2) headers.push([h[i]!, str(h[i + 1]!)]);
    return { offset: j.offset, timestamp: String(j.ts), key: str(j.key), value: str(j.payload), headers };
  });
}

/**
 * Runs `fn`; when it fails, prints the client's buffered log lines and the broker's warnings and errors as test
 * diagnostics before rethrowing, so that a passing run stays quiet.
 */
export async function withLogsOnFailure<T>(
  t: TestContext,
  broker: BrokerProcess | undefined,
  clientLogs: string[],
  fn: () => Promise<T>,
): Promise<T> {
  const from = clientLogs.length;
  const brokerFrom = broker?.logs.length ?? 0;
  try {
    return await fn();
  } catch (e) {
    for (const line of clientLogs.slice(from).slice(-50)) t.diagnostic(`client: ${line}`);
    const brokerLines = (broker?.logs ?? []).slice(brokerFrom).filter((l) => Number(l.level) >= 40);
    for (const line of brokerLines.slice(-50)) t.diagnostic(`broker: ${JSON.stringify(line)}`);
    throw e;
  }
}

/** How long a wait for a state may take before the test fails (a bound, not an expectation). */
export const WAIT_MS = 40_000;

/** Polls `check` until it returns true; fails with `what` (and what `state` gives) at the deadline. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  state?: () => string,
  boundMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${state ? `: ${state()}` : ''}`);
    await sleep(100);
  }
}
