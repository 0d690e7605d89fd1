// A @platformatic/kafka producer for platformatic-kafka.test.ts, run as a child process because the library needs
// Node >= 22.22 and the test suite also runs on Node 20. It is plain JavaScript (tsc does not compile it), so the test
// runs it from its place in the source tree, where '@platformatic/kafka' resolves from the repository's node_modules.
//
//   node platformatic-producer.mjs --version   prints {"node", "version", "softwareName", "softwareVersion"}
//   node platformatic-producer.mjs < spec.json  produces the spec's messages and prints {"delivered", ...}
//
// The spec: { bootstrap, clientId, topic, compression, acks, messages }, with messages as messagesToJson writes them
// (bytes as base64, null as null, timestamps as numbers). Headers go in a Map keyed by distinct Buffer objects, so
// that repeated keys stay separate headers and keep their order.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { clientSoftwareName, clientSoftwareVersion, Producer } from '@platformatic/kafka';

if (process.argv[2] === '--version') {
  // The package's exports hide package.json; it lies two levels above the entry point (dist/index.js).
  const entry = createRequire(import.meta.url).resolve('@platformatic/kafka');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', pathToFileURL(entry)), 'utf8'));
  const info = { node: process.version, version: pkg.version, softwareName: clientSoftwareName };
  console.log(JSON.stringify({ ...info, softwareVersion: clientSoftwareVersion }));
  process.exit(0);
}

const bytes = (b64) => (b64 === null ? null : Buffer.from(b64, 'base64'));

const spec = JSON.parse(readFileSync(0, 'utf8'));
const messages = spec.messages.map((m) => ({
  topic: spec.topic,
  key: bytes(m.key),
  value: bytes(m.value),
  headers: new Map(m.headers.map(([k, v]) => [Buffer.from(k, 'utf8'), bytes(v)])),
  ...(m.timestamp === null ? {} : { timestamp: BigInt(m.timestamp) }),
}));

const producer = new Producer({
  clientId: spec.clientId,
  bootstrapBrokers: [spec.bootstrap],
  // A plain producer: no InitProducerId, no producer id in the batches.
  idempotent: false,
  autocreateTopics: true,
  strict: true,
  retries: 0,
  timeout: 10_000,
  connectTimeout: 5_000,
});

let report;
try {
  // acks and compression go with send(): send() ignores a producer-level acks (2.12.1 falls back to acks=1 then).
  const result = await producer.send({ messages, acks: spec.acks, compression: spec.compression });
  report = {
    delivered: messages.length,
    offsets: (result.offsets ?? []).map((o) => ({ ...o, offset: o.offset.toString() })),
    unwritableNodes: result.unwritableNodes ?? null,
  };
} catch (e) {
  report = { delivered: 0, error: String(e?.stack ?? e), cause: e?.errors?.map((x) => String(x)) };
  process.exitCode = 1;
} finally {
  await producer.close();
}
console.log(JSON.stringify(report));
