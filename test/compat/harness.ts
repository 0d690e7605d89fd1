/**
 * Shared pieces of the client compatibility tests: running a client as a child process with a time limit, deciding
 * whether a missing client fails or skips, the messages each client is asked to send, and the checks applied to what
 * the capture server recorded.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { apiSpec, Writer, writeRequestHeader } from '../../src/protocol/index.js';
import { API_VERSIONS, type CapturedRequest, type CaptureServer, METADATA, PRODUCE } from './capture-server.js';

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const CODECS: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** The compression attribute (low 3 bits of a record batch's attributes) for each codec. */
export const CODEC_ID: Readonly<Record<Codec, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Every child process is killed after this long; the tests themselves get TEST_TIMEOUT_MS. */
export const CHILD_TIMEOUT_MS = 15_000;
export const TEST_TIMEOUT_MS = 20_000;

/** Debian's client packages import only from this interpreter; another python3 may come first on PATH. */
export const PYTHON = '/usr/bin/python3';

export interface TestHeader {
  key: string;
  value: Buffer | null;
}

export interface TestMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: TestHeader[];
  /** The timestamp the client is asked to set; undefined when the client picks the time itself. */
  timestamp?: bigint;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Repetitive text, so that every codec really shrinks the batch (librdkafka sends a batch uncompressed when
 * compression would make it bigger). */
const filler = (i: number): string => ` message ${i} from a real client to the samsa capture server;`.repeat(8);
export const BASE_TIMESTAMP = 1_700_000_000_000n;

/**
 * What the library clients (confluent-kafka-python, kafka-python, KafkaJS) are asked to send: keyed and unkeyed,
 * empty and null, text and binary, duplicate and empty headers, a tombstone, explicit timestamps.
 * kafka-python only accepts bytes header values, so `nullHeaderValue` drops the one null header value for it.
 *
 * Every message is compressible on its own (a repeated binary pattern, a long repetitive header on the tombstone):
 * a client may split the messages into several batches (librdkafka does under load), and librdkafka sends a batch
 * uncompressed when compressing would not make it smaller (rdkafka_msgset_writer.c), so a batch holding only a small
 * or incompressible message would legitimately carry compression 0.
 */
export function libraryMessages(options: { nullHeaderValue: boolean }): TestMessage[] {
  return [
    {
      key: text('key-0'),
      value: text(`value-0${filler(0)}`),
      headers: [
        { key: 'h1', value: text('a') },
        { key: 'h2', value: Buffer.from([0, 1, 2, 0xfe, 0xff]) },
      ],
      timestamp: BASE_TIMESTAMP,
    },
    { key: null, value: text(`value-1 ünïcødé ✓${filler(1)}`), headers: [], timestamp: BASE_TIMESTAMP + 1n },
    {
      key: text('key-2'),
      value: Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)),
      headers: [
        { key: 'dup', value: text('first') },
        { key: 'dup', value: text('second') },
        { key: 'empty', value: Buffer.alloc(0) },
      ],
      timestamp: BASE_TIMESTAMP + 2n,
    },
    {
      key: text('key-3'),
      value: null,
      headers: [
        ...(options.nullHeaderValue ? [{ key: 'null-value', value: null }] : []),
        { key: 'note', value: text(`tombstone${filler(3)}`) },
      ],
      timestamp: BASE_TIMESTAMP + 3n,
    },
    { key: Buffer.alloc(0), value: text(`value-4${filler(4)}`), headers: [], timestamp: BASE_TIMESTAMP + 4n },
  ];
}

/** Messages as JSON for the Python scripts: bytes as base64, null as null, timestamps as numbers. */
export function messagesToJson(messages: TestMessage[]): unknown[] {
  const b64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'));
  return messages.map((m) => ({
    key: b64(m.key),
    value: b64(m.value),
    headers: m.headers.map((h) => [h.key, b64(h.value)]),
    timestamp: m.timestamp === undefined ? null : Number(m.timestamp),
  }));
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command with `input` on stdin; kills it (SIGKILL) after `timeoutMs`. Never rejects on exit status. */
export function runChild(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? CHILD_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => {}); // a client that exits early closes its stdin; the exit status tells why
    child.stdin.end(options.input ?? '');
  });
}

export function describeChild(r: ChildResult): string {
  const how = r.timedOut ? 'timed out' : r.signal !== null ? `killed by ${r.signal}` : `exit ${r.code}`;
  return `${how}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export interface Tool {
  name: string;
  /** The version the tool reports, when it is available. */
  version?: string;
  /** Why it is not available. */
  missing?: string;
  /** Extra facts the probe found (e.g. the librdkafka version underneath). */
  details: Record<string, string>;
}

/** Probes a tool synchronously (at module load, so that test options can depend on it). */
export function probeTool(
  name: string,
  command: string,
  args: readonly string[],
  parse: (stdout: string) => { version: string; details?: Record<string, string> },
): Tool {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error !== undefined ? r.error.message : `exit ${r.status}: ${r.stderr.trim().split('\n').pop()}`;
    return { name, missing: `${name} is not available (${command} ${args.join(' ')}: ${why})`, details: {} };
  }
  try {
    const parsed = parse(r.stdout);
    return { name, version: parsed.version, details: parsed.details ?? {} };
  } catch (e) {
    return { name, missing: `${name}: cannot read its version: ${(e as Error).message}`, details: {} };
  }
}

/**
 * The `skip` option for a test that needs `tool`. Under CI (which installs every client) a missing tool is not
 * skipped: the test runs and `requireTool` fails it. Outside CI a missing tool skips the test with the reason.
 */
export function skipUnless(tool: Tool): string | false {
  if (tool.missing === undefined || process.env.CI) return false;
  return `${tool.missing}; not under CI, so skipping`;
}

export function requireTool(tool: Tool): string {
  if (tool.missing !== undefined) assert.fail(`${tool.missing}. CI must install it (see test/compat/README.md)`);
  return tool.version!;
}

/** The name an ApiVersions request uses for an API key, for messages. */
function apiName(key: number): string {
  return apiSpec(key)?.name ?? `api${key}`;
}

/**
 * Re-encodes a captured request (header and body) with the generated writer at the same version and requires the
 * exact bytes the client sent.
 */
export function assertReencodesIdentically(req: CapturedRequest): void {
  assert.ok(req.header !== undefined && req.body !== undefined, `request ${apiName(req.apiKey)} was not decoded`);
  const w = new Writer();
  writeRequestHeader(w, req.headerVersion, req.header);
  apiSpec(req.apiKey)!.writeRequest(w, req.apiVersion, req.body);
  const ours = w.toBuffer();
  if (Buffer.compare(ours, req.frame) === 0) return;
  let at = 0;
  while (at < ours.length && at < req.frame.length && ours[at] === req.frame[at]) at++;
  const show = (b: Buffer): string => b.subarray(Math.max(0, at - 8), at + 24).toString('hex');
  assert.fail(
    `${apiName(req.apiKey)} v${req.apiVersion} (header v${req.headerVersion}) re-encodes differently at byte ${at}` +
      ` (body starts at ${req.bodyOffset}; client sent ${req.frame.length} bytes, we wrote ${ours.length}):\n` +
      `  client: ...${show(req.frame)}\n  ours:   ...${show(ours)}`,
  );
}

/**
 * Checks that apply to every capture: every request was decoded completely and answered, and re-encodes to the same
 * bytes. ApiVersions requests above our range are answered with UNSUPPORTED_VERSION and not decoded.
 */
export function assertAllRequestsClean(server: CaptureServer): void {
  assert.ok(server.requests.length > 0, 'the client sent nothing');
  for (const req of server.requests) {
    const where = `${apiName(req.apiKey)} v${req.apiVersion} (#${req.connection}.${req.sequence})`;
    assert.equal(req.rejected, undefined, `${where} was rejected: ${req.rejected}; all: ${server.describe()}`);
    if (req.body === undefined) {
      assert.equal(req.apiKey, API_VERSIONS, `${where} has no decoded body`);
      continue;
    }
    assert.equal(req.trailingBytes, 0, `${where}: ${req.trailingBytes} bytes left after the body`);
    assertReencodesIdentically(req);
  }
}

export interface ApiVersionsExpectation {
  /** Expected clientId in the request header. */
  clientId: string;
  /** Expected ClientSoftwareName/Version (KIP-511), checked when the request version has them (v3+). */
  softwareName?: string;
  softwareVersion?: string;
  /** The lowest ApiVersions version this client must use (e.g. 3 for librdkafka, which sends the software name). */
  minVersion?: number;
  /** Whether every connection (not just the first) starts with ApiVersions. */
  everyConnection: boolean;
}

/** The first request (of the first connection, or of every connection) is a decodable ApiVersions request. */
export function assertApiVersionsFirst(server: CaptureServer, expect: ApiVersionsExpectation): CapturedRequest {
  const firsts = server.requests.filter((r) => r.sequence === 0);
  assert.ok(firsts.length > 0);
  const checked = expect.everyConnection ? firsts : firsts.filter((r) => r.connection === 0);
  assert.ok(checked.length > 0, `no first request on connection 0: ${server.describe()}`);
  for (const first of checked) {
    assert.equal(first.apiKey, API_VERSIONS, `connection ${first.connection} starts with ${apiName(first.apiKey)}`);
    assert.equal(first.header?.clientId, expect.clientId);
  }
  // The ApiVersions request that was answered successfully (after any UNSUPPORTED_VERSION fallback).
  const used = server.requests.find((r) => r.apiKey === API_VERSIONS && r.body !== undefined);
  assert.ok(used !== undefined, `no decodable ApiVersions request: ${server.describe()}`);
  if (expect.minVersion !== undefined)
    assert.ok(used.apiVersion >= expect.minVersion, `ApiVersions v${used.apiVersion}`);
  if (used.apiVersion >= 3) {
    if (expect.softwareName !== undefined) assert.equal(used.body.clientSoftwareName, expect.softwareName);
    if (expect.softwareVersion !== undefined) assert.equal(used.body.clientSoftwareVersion, expect.softwareVersion);
  } else {
    assert.deepEqual(used.body, { clientSoftwareName: '', clientSoftwareVersion: '' });
  }
  return used;
}

/** Some Metadata request before the first Produce names the topic. */
export function assertMetadataAsksFor(server: CaptureServer, topic: string): CapturedRequest {
  const firstProduce = server.requests.findIndex((r) => r.apiKey === PRODUCE);
  const before = firstProduce < 0 ? server.requests : server.requests.slice(0, firstProduce);
  const md = before.find(
    (r) => r.apiKey === METADATA && r.body?.topics?.some((t: { name: string | null }) => t.name === topic),
  );
  assert.ok(md !== undefined, `no Metadata request for ${topic} before Produce: ${server.describe()}`);
  return md;
}

export interface ProduceExpectation {
  topic: string;
  acks: number;
  /** Lowest Produce version the client must use; 3 is the first that carries record batches (magic 2). */
  minVersion: number;
}

/** All Produce requests: their fields, and the record sets they carry for partition 0 of the topic, in order. */
export function assertProduceRequests(server: CaptureServer, expect: ProduceExpectation): Buffer[] {
  const produces = server.requests.filter((r) => r.apiKey === PRODUCE);
  assert.ok(produces.length > 0, `no Produce request: ${server.describe()}`);
  const recordSets: Buffer[] = [];
  for (const req of produces) {
    assert.ok(req.apiVersion >= expect.minVersion, `Produce v${req.apiVersion}`);
    const body = req.body;
    assert.equal(body.transactionalId, null);
    assert.equal(body.acks, expect.acks);
    assert.ok(body.timeoutMs > 0, `timeoutMs ${body.timeoutMs}`);
    assert.deepEqual(
      body.topicData.map((t: { name: string }) => t.name),
      [expect.topic],
    );
    const partitions = body.topicData[0].partitionData as { index: number; records: Buffer | null }[];
    assert.deepEqual(
      partitions.map((p) => p.index),
      [0],
    );
    assert.ok(partitions[0]!.records !== null, 'null record set');
    recordSets.push(partitions[0]!.records);
  }
  return recordSets;
}

/** A short summary of the versions a client used, for the test's diagnostics. */
export function versionsUsed(server: CaptureServer): string {
  const seen = new Map<string, Set<number>>();
  for (const r of server.requests) {
    const name = apiName(r.apiKey);
    if (!seen.has(name)) seen.set(name, new Set());
    seen.get(name)!.add(r.apiVersion);
  }
  return [...seen].map(([name, vs]) => `${name} v${[...vs].join('/')}`).join(', ');
}

/**
 * Runs a Python producer script that reads its spec as JSON on stdin and prints `{ delivered }`, checks that every
 * message was delivered, then waits for the client to disconnect (so every frame it sent has been read).
 */
export async function runPythonProducer(
  server: CaptureServer,
  script: string,
  spec: { clientId: string; topic: string; codec: Codec; acks: number; messages: TestMessage[] },
): Promise<void> {
  const input = JSON.stringify({
    bootstrap: server.bootstrap,
    clientId: spec.clientId,
    topic: spec.topic,
    compression: spec.codec,
    acks: spec.acks,
    messages: messagesToJson(spec.messages),
  });
  const result = await runChild(PYTHON, ['-c', script], { input });
  assert.equal(result.code, 0, `the producer script failed: ${describeChild(result)}`);
  const report = JSON.parse(result.stdout) as { delivered: number };
  assert.equal(report.delivered, spec.messages.length);
  await server.waitForDisconnect();
}
