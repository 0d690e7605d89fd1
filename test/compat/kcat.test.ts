/**
 * kcat (librdkafka) against the capture server: the first ApiVersions, Metadata and Produce requests it sends with
 * every codec decode into what kcat was asked to send and re-encode to the same bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CaptureServer, withCaptureServer } from './capture-server.js';
import {
  assertAllRequestsClean,
  assertApiVersionsFirst,
  assertMetadataAsksFor,
  assertProduceRequests,
  CODECS,
  type Codec,
  describeChild,
  requireTool,
  runChild,
  skipUnless,
  TEST_TIMEOUT_MS,
  type TestMessage,
  versionsUsed,
} from './harness.js';
import { assertRecordSets } from './records-check.js';
import { kcatTool } from './tools.js';

const kcat = kcatTool();

const CLIENT_ID = 'samsa-compat-kcat';
const filler = ' kcat line for the samsa capture server;'.repeat(8);
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/**
 * kcat reads one message per line: with `-K :` the text before the first ':' is the key, a line without ':' has a
 * null key, and with `-Z` an empty key or value is sent as null. `-H` adds the same headers to every message:
 * `name=value`, `name=` (empty value) and `name` (null value).
 */
const LINES = [`key-0:value-0${filler}`, `:value-1${filler}`, 'key-2:', `no delimiter${filler}`, `key-4:a:b${filler}`];
// The long repetitive header makes every message compressible on its own, even 'key-2' with its null value:
// librdkafka sends a batch uncompressed when compression would not shrink it, and under load it may put a single
// message in a batch (see libraryMessages in harness.ts).
const NOTE = `note${filler}`;
const HEADER_ARGS = ['-H', 'h1=v1', '-H', 'h2=', '-H', 'h3', '-H', `note=${NOTE}`];
const HEADERS = [
  { key: 'h1', value: text('v1') },
  { key: 'h2', value: Buffer.alloc(0) },
  { key: 'h3', value: null },
  { key: 'note', value: text(NOTE) },
];
const EXPECTED: TestMessage[] = [
  { key: text('key-0'), value: text(`value-0${filler}`), headers: HEADERS },
  { key: null, value: text(`value-1${filler}`), headers: HEADERS },
  { key: text('key-2'), value: null, headers: HEADERS },
  { key: null, value: text(`no delimiter${filler}`), headers: HEADERS },
  { key: text('key-4'), value: text(`a:b${filler}`), headers: HEADERS },
];

async function produceWithKcat(server: CaptureServer, topic: string, codec: Codec, acks: string) {
  const args = ['-P', '-b', server.bootstrap, '-t', topic, '-z', codec, '-K', ':', '-Z', ...HEADER_ARGS];
  for (const [k, v] of [
    ['client.id', CLIENT_ID],
    ['api.version.request', 'true'],
    ['acks', acks],
    ['enable.idempotence', 'false'],
    // One batch is likely but not required: the checks gather records across all Produce requests.
    ['linger.ms', '100'],
    ['message.timeout.ms', '10000'],
  ]) {
    args.push('-X', `${k}=${v}`);
  }
  const before = BigInt(Date.now());
  const result = await runChild('kcat', args, { input: `${LINES.join('\n')}\n` });
  const after = BigInt(Date.now());
  assert.ok(result.code === 0 && !/ERROR/.test(result.stderr), `kcat failed: ${describeChild(result)}`);
  await server.waitForDisconnect();
  return { before, after };
}

describe('kcat (librdkafka) producing to the capture server', { skip: skipUnless(kcat) }, () => {
  for (const codec of CODECS) {
    it(`${codec}: ApiVersions, Metadata and Produce decode as sent and re-encode byte for byte`, {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(kcat);
      await withCaptureServer(async (server) => {
        const topic = `kcat-${codec}`;
        const { before, after } = await produceWithKcat(server, topic, codec, 'all');
        t.diagnostic(`kcat ${kcat.version} (librdkafka ${kcat.details.librdkafka}): ${versionsUsed(server)}`);
        assertAllRequestsClean(server);
        assertApiVersionsFirst(server, {
          clientId: CLIENT_ID,
          softwareName: 'librdkafka',
          softwareVersion: kcat.details.librdkafka,
          minVersion: 3,
          everyConnection: true,
        });
        assertMetadataAsksFor(server, topic);
        const recordSets = assertProduceRequests(server, { topic, acks: -1, minVersion: 3 });
        assertRecordSets(recordSets, codec, EXPECTED, { timestampsBetween: [before, after] });
      });
    });
  }

  it('acks=0: Produce is sent without waiting for a response', { timeout: TEST_TIMEOUT_MS }, async () => {
    requireTool(kcat);
    await withCaptureServer(async (server) => {
      const topic = 'kcat-acks0';
      await produceWithKcat(server, topic, 'gzip', '0');
      assertAllRequestsClean(server);
      const recordSets = assertProduceRequests(server, { topic, acks: 0, minVersion: 3 });
      assertRecordSets(recordSets, 'gzip', EXPECTED, {});
    });
  });

  it('retries ApiVersions at a version the broker lists after UNSUPPORTED_VERSION', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(kcat);
    await withCaptureServer(
      async (server) => {
        const topic = 'kcat-apiversions-fallback';
        await produceWithKcat(server, topic, 'none', 'all');
        assertAllRequestsClean(server);
        const apiVersions = server.requests.filter((r) => r.apiKey === 18);
        assert.ok(apiVersions.length >= 2, server.describe());
        assert.ok(apiVersions[0]!.apiVersion > 2 && apiVersions[0]!.body === undefined, server.describe());
        assert.ok(apiVersions[1]!.apiVersion <= 2 && apiVersions[1]!.body !== undefined, server.describe());
        const recordSets = assertProduceRequests(server, { topic, acks: -1, minVersion: 3 });
        assertRecordSets(recordSets, 'none', EXPECTED, {});
      },
      { apiVersionsMax: 2 },
    );
  });
});
