/**
 * @platformatic/kafka (npm devDependency) against the capture server: its ApiVersions, Metadata and Produce requests
 * with every codec decode into what it was asked to send and re-encode to the same bytes.
 *
 * It is the one tested client that sends the flexible versions (compact strings and arrays, tagged fields, request
 * header v2) of Metadata (v9+) and Produce (v9+), so it covers those paths of the generated codecs.
 *
 * The library needs Node >= 22.22 and the suite also runs on Node 20, so the producer runs as a child process
 * (platformatic-producer.mjs, from the source tree): on this Node when it is new enough, otherwise on the Node named
 * by SAMSA_NODE22_BIN (set by .ci/run).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { API_VERSIONS, type CaptureServer, withCaptureServer } from './capture-server.js';
import {
  assertAllRequestsClean,
  assertApiVersionsFirst,
  assertMetadataAsksFor,
  assertProduceRequests,
  CODECS,
  type Codec,
  describeChild,
  libraryMessages,
  messagesToJson,
  probeTool,
  requireTool,
  runChild,
  skipUnless,
  TEST_TIMEOUT_MS,
  type Tool,
  versionsUsed,
} from './harness.js';
import { assertRecordSets } from './records-check.js';

/** tsc does not copy .mjs files: the script is run from test/compat/ (this file runs from dist/test/compat/). */
const SCRIPT = fileURLToPath(new URL('../../../test/compat/platformatic-producer.mjs', import.meta.url));

/** The package's `engines`: ">= 22.22.0 || >= 24.6.0", i.e. 22.22 or newer. */
function nodeIsNewEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 22);
}

function probePlatformatic(): Tool {
  const name = '@platformatic/kafka';
  const node = nodeIsNewEnough(process.version) ? process.execPath : process.env.SAMSA_NODE22_BIN;
  if (node === undefined || node === '') {
    return {
      name,
      missing: `${name} needs Node >= 22.22; this is Node ${process.version} and SAMSA_NODE22_BIN is not set`,
      details: {},
    };
  }
  return probeTool(name, node, [SCRIPT, '--version'], (out) => {
    const info = JSON.parse(out) as { node: string; version: string; softwareName: string; softwareVersion: string };
    if (!nodeIsNewEnough(info.node)) throw new Error(`${node} is Node ${info.node}, ${name} needs >= 22.22`);
    return { version: info.version, details: { node, nodeVersion: info.node } };
  });
}

const platformatic = probePlatformatic();

const CLIENT_ID = 'samsa-compat-platformatic';
const MESSAGES = libraryMessages({ nullHeaderValue: true });

/**
 * Like KafkaJS, @platformatic/kafka writes producer epoch 0 and base sequence 0 (not -1) in the batches of a
 * non-idempotent producer, next to producer id -1; see records-check.ts.
 */
const PLATFORMATIC_BATCH = { producerEpoch: 0, baseSequence: 0 };

interface Report {
  delivered: number;
  offsets?: { topic: string; partition: number; offset: string }[];
  unwritableNodes?: number[] | null;
  error?: string;
}

/** Runs platformatic-producer.mjs, checks what it reports, and waits until every frame it wrote has been read. */
async function produce(server: CaptureServer, topic: string, codec: Codec, acks: number): Promise<void> {
  const input = JSON.stringify({
    bootstrap: server.bootstrap,
    clientId: CLIENT_ID,
    topic,
    compression: codec,
    acks,
    messages: messagesToJson(MESSAGES),
  });
  const result = await runChild(platformatic.details.node!, [SCRIPT], { input });
  assert.equal(result.code, 0, `the producer script failed: ${describeChild(result)}`);
  const report = JSON.parse(result.stdout) as Report;
  assert.equal(report.delivered, MESSAGES.length);
  if (acks === 0) {
    // Without responses the library only reports the brokers it could not write to.
    assert.deepEqual(report.unwritableNodes, []);
  } else {
    assert.deepEqual(report.offsets, [{ topic, partition: 0, offset: '0' }]);
  }
  await server.waitForDisconnect();
}

/** The flexible versions are what this test is for: fail loudly if the client ever stops sending them. */
function assertFlexibleMetadata(server: CaptureServer, topic: string): void {
  const md = assertMetadataAsksFor(server, topic);
  assert.ok(md.apiVersion >= 9, `Metadata v${md.apiVersion} is not a flexible version`);
  assert.equal(md.headerVersion, 2);
  assert.equal(md.body.allowAutoTopicCreation, true);
}

function assertClientSoftware(server: CaptureServer, minVersion: number): void {
  assertApiVersionsFirst(server, {
    clientId: CLIENT_ID,
    softwareName: 'platformatic-kafka',
    softwareVersion: platformatic.version!,
    minVersion,
    // The client asks ApiVersions once (on its first connection), not on every connection.
    everyConnection: false,
  });
}

describe('@platformatic/kafka producing to the capture server', { skip: skipUnless(platformatic) }, () => {
  for (const codec of CODECS) {
    it(`${codec}: ApiVersions, flexible Metadata and Produce decode as sent and re-encode byte for byte`, {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(platformatic);
      await withCaptureServer(async (server) => {
        const topic = `platformatic-${codec}`;
        await produce(server, topic, codec, -1);
        t.diagnostic(
          `@platformatic/kafka ${platformatic.version} (Node ${platformatic.details.nodeVersion}): ` +
            versionsUsed(server),
        );
        assertAllRequestsClean(server);
        assertClientSoftware(server, 3);
        assertFlexibleMetadata(server, topic);
        const recordSets = assertProduceRequests(server, { topic, acks: -1, minVersion: 9 });
        assertRecordSets(recordSets, codec, MESSAGES, PLATFORMATIC_BATCH);
      });
    });
  }

  it('acks=0: Produce is sent without waiting for a response', { timeout: TEST_TIMEOUT_MS }, async () => {
    requireTool(platformatic);
    await withCaptureServer(async (server) => {
      const topic = 'platformatic-acks0';
      await produce(server, topic, 'lz4', 0);
      assertAllRequestsClean(server);
      const recordSets = assertProduceRequests(server, { topic, acks: 0, minVersion: 9 });
      assertRecordSets(recordSets, 'lz4', MESSAGES, PLATFORMATIC_BATCH);
    });
  });

  it('acks=1: the leader-only acknowledgement is sent as asked', { timeout: TEST_TIMEOUT_MS }, async () => {
    requireTool(platformatic);
    await withCaptureServer(async (server) => {
      const topic = 'platformatic-acks1';
      await produce(server, topic, 'snappy', 1);
      assertAllRequestsClean(server);
      const recordSets = assertProduceRequests(server, { topic, acks: 1, minVersion: 9 });
      assertRecordSets(recordSets, 'snappy', MESSAGES, PLATFORMATIC_BATCH);
    });
  });

  it('retries ApiVersions at v1 after UNSUPPORTED_VERSION', { timeout: TEST_TIMEOUT_MS }, async () => {
    requireTool(platformatic);
    await withCaptureServer(
      async (server) => {
        const topic = 'platformatic-apiversions-fallback';
        await produce(server, topic, 'none', -1);
        assertAllRequestsClean(server);
        const apiVersions = server.requests.filter((r) => r.apiKey === API_VERSIONS);
        assert.equal(apiVersions.length, 2, server.describe());
        assert.ok(apiVersions[0]!.apiVersion === 3 && apiVersions[0]!.body === undefined, server.describe());
        assert.ok(apiVersions[1]!.apiVersion === 1 && apiVersions[1]!.body !== undefined, server.describe());
        assertClientSoftware(server, 1);
        // The fallback only concerns ApiVersions: Metadata and Produce stay flexible.
        assertFlexibleMetadata(server, topic);
        const recordSets = assertProduceRequests(server, { topic, acks: -1, minVersion: 9 });
        assertRecordSets(recordSets, 'none', MESSAGES, PLATFORMATIC_BATCH);
      },
      { apiVersionsMax: 2 },
    );
  });
});
