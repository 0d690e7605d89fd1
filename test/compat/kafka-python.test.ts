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
  PYTHON,
  probeTool,
  requireTool,
  runPythonProducer,
  skipUnless,
  TEST_TIMEOUT_MS,
  versionsUsed,
} from './harness.js';
import { assertRecordSets } from './records-check.js';

const kafkaPython = probeTool(
  'kafka-python',
  PYTHON,
  [
    '-c',
    'import kafka, kafka.codec as c; print(kafka.__version__, *(int(f()) for f in (c.has_snappy, c.has_lz4, c.has_zstd)))',
  ],
  (out) => {
    const [version, snappy, lz4, zstd] = out.trim().split(' ');
    if (!version || zstd === undefined) throw new Error(`unexpected output: ${out}`);
    return { version, details: { snappy: snappy!, lz4: lz4!, zstd: zstd } };
  },
);

/** The Python library each optional codec needs (Debian package names). */
const CODEC_LIBRARY: Partial<Record<Codec, string>> = {
  snappy: 'python3-snappy',
  lz4: 'python3-lz4',
  zstd: 'python3-zstandard',
};

function codecSkip(codec: Codec): string | false {
  const lib = CODEC_LIBRARY[codec];
  if (lib === undefined || kafkaPython.missing !== undefined || kafkaPython.details[codec] === '1') return false;
  // CI installs the codec libraries (.ci/run), so there a missing one fails the test instead of skipping it.
  if (process.env.CI) return false;
  return `kafka-python needs ${lib} for ${codec}; it is not installed here (.ci/run installs it)`;
}

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
      skip: codecSkip(codec),
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
