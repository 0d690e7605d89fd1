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
import { confluentTool } from './tools.js';

const confluent = confluentTool();

/** Produces the messages given as JSON on stdin, flushes, and prints what happened as JSON. */
const SCRIPT = `
import base64, json, sys
from confluent_kafka import Producer

spec = json.load(sys.stdin)
def b(x):
    return None if x is None else base64.b64decode(x)

producer = Producer({
    'bootstrap.servers': spec['bootstrap'],
    'client.id': spec['clientId'],
    'compression.type': spec['compression'],
    'acks': spec['acks'],
    'enable.idempotence': False,
    'api.version.request': True,
    'linger.ms': 100,
    'message.timeout.ms': 10000,
})
errors = []
delivered = []
def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        delivered.append(msg.offset())
for m in spec['messages']:
    kwargs = {'key': b(m['key']), 'value': b(m['value']), 'on_delivery': on_delivery}
    if m['headers']:
        kwargs['headers'] = [(k, b(v)) for k, v in m['headers']]
    if m['timestamp'] is not None:
        kwargs['timestamp'] = m['timestamp']
    producer.produce(spec['topic'], **kwargs)
left = producer.flush(10)
print(json.dumps({'left': left, 'errors': errors, 'delivered': len(delivered)}))
sys.exit(0 if left == 0 and not errors else 1)
`;

const CLIENT_ID = 'samsa-compat-confluent';
const MESSAGES = libraryMessages({ nullHeaderValue: true });

function produce(server: CaptureServer, topic: string, codec: Codec, acks: number): Promise<void> {
  return runPythonProducer(server, SCRIPT, { clientId: CLIENT_ID, topic, codec, acks, messages: MESSAGES });
}

describe('confluent-kafka-python producing to the capture server', { skip: skipUnless(confluent) }, () => {
  for (const codec of CODECS) {
    it(`${codec}: ApiVersions, Metadata and Produce decode as sent and re-encode byte for byte`, {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(confluent);
      await withCaptureServer(async (server) => {
        const topic = `confluent-${codec}`;
        await produce(server, topic, codec, -1);
        t.diagnostic(
          `confluent-kafka-python ${confluent.version} (librdkafka ${confluent.details.librdkafka}): ` +
            versionsUsed(server),
        );
        assertAllRequestsClean(server);
        assertApiVersionsFirst(server, {
          clientId: CLIENT_ID,
          softwareName: 'confluent-kafka-python',
          softwareVersion: `${confluent.version}-rdkafka-${confluent.details.librdkafka}`,
          minVersion: 3,
          everyConnection: true,
        });
        assertMetadataAsksFor(server, topic);
        const recordSets = assertProduceRequests(server, { topic, acks: -1, minVersion: 3 });
        assertRecordSets(recordSets, codec, MESSAGES, {});
      });
    });
  }

  it('acks=0: Produce is sent without waiting for a response', { timeout: TEST_TIMEOUT_MS }, async () => {
    requireTool(confluent);
    await withCaptureServer(async (server) => {
      const topic = 'confluent-acks0';
      await produce(server, topic, 'zstd', 0);
      assertAllRequestsClean(server);
      const recordSets = assertProduceRequests(server, { topic, acks: 0, minVersion: 3 });
      assertRecordSets(recordSets, 'zstd', MESSAGES, {});
    });
  });
});
