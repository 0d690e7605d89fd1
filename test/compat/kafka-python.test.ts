import { describe, it } from 'node:test';
import { type CaptureServer, withCaptureServer } from './capture-server.js';
import {
  assertAllRequestsClean,
  assertApiVersionsFirst,
  assertMetadataAsksFor,
  assertProduceRequests,
  CODECS,
  type Codec,
  libraryMessages,
  requireTool,
  runPythonProducer,
  skipUnless,
  TEST_TIMEOUT_MS,
  versionsUsed,
} from './harness.js';
import { assertRecordSets } from './records-check.js';
import { kafkaPythonCodecSkip, kafkaPythonTool } from './tools.js';

const kafkaPython = kafkaPythonTool();

/** Produces the messages given as JSON on stdin, flushes, waits for every future and prints a JSON report. */
const SCRIPT = `
import base64, json, sys
from kafka import KafkaProducer

spec = json.load(sys.stdin)
def b(x):
    return None if x is None else base64.b64decode(x)

producer = KafkaProducer(
    bootstrap_servers=spec['bootstrap'],
    client_id=spec['clientId'],
    compression_type=None if spec['compression'] == 'none' else spec['compression'],
    acks=spec['acks'],
    linger_ms=100,
    request_timeout_ms=10000,
    max_block_ms=10000,
)
futures = []
for m in spec['messages']:
    futures.append(producer.send(
        spec['topic'],
        key=b(m['key']),
        value=b(m['value']),
        headers=[(k, b(v)) for k, v in m['headers']],
        timestamp_ms=m['timestamp'],
    ))
producer.flush(10)
errors = []
for f in futures:
    try:
        f.get(timeout=10)
    except Exception as e:
        errors.append(repr(e))
producer.close(5)
print(json.dumps({'errors': errors, 'delivered': len(futures) - len(errors)}))
sys.exit(1 if errors else 0)
`;

const CLIENT_ID = 'samsa-compat-kafka-python';
// kafka-python asserts that header values are bytes, so it cannot send a null header value.
const MESSAGES = libraryMessages({ nullHeaderValue: false });

function produce(server: CaptureServer, topic: string, codec: Codec, acks: number): Promise<void> {
  return runPythonProducer(server, SCRIPT, { clientId: CLIENT_ID, topic, codec, acks, messages: MESSAGES });
}

describe('kafka-python producing to the capture server', { skip: skipUnless(kafkaPython) }, () => {
  for (const codec of CODECS) {
    it(`${codec}: ApiVersions, Metadata and Produce decode as sent and re-encode byte for byte`, {
      timeout: TEST_TIMEOUT_MS,
      skip: kafkaPythonCodecSkip(codec),
    }, async (t) => {
      requireTool(kafkaPython);
      await withCaptureServer(async (server) => {
        const topic = `kafka-python-${codec}`;
        await produce(server, topic, codec, -1);
        t.diagnostic(`kafka-python ${kafkaPython.version}: ${versionsUsed(server)}`);
        assertAllRequestsClean(server);
        // kafka-python probes the broker with ApiVersions v0 on the bootstrap connection only; later connections
        // reuse the version it inferred. v0 has no client software name or version.
        assertApiVersionsFirst(server, { clientId: CLIENT_ID, everyConnection: false });
        assertMetadataAsksFor(server, topic);
        const recordSets = assertProduceRequests(server, { topic, acks: -1, minVersion: 3 });
        assertRecordSets(recordSets, codec, MESSAGES, {});
      });
    });
  }

  it('acks=0: Produce is sent without waiting for a response', { timeout: TEST_TIMEOUT_MS }, async () => {
    requireTool(kafkaPython);
    await withCaptureServer(async (server) => {
      const topic = 'kafka-python-acks0';
      await produce(server, topic, 'gzip', 0);
      assertAllRequestsClean(server);
      const recordSets = assertProduceRequests(server, { topic, acks: 0, minVersion: 3 });
      assertRecordSets(recordSets, 'gzip', MESSAGES, {});
    });
  });
});
