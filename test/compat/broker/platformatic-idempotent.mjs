// A @platformatic/kafka idempotent producer for broker/idempotent-producers.test.ts, run as a child process (the
// library needs Node >= 22.22; see platformatic-client.mjs). Plain JavaScript, run from the source tree.
//
//   node platformatic-idempotent.mjs < spec.json
//
// The spec: { bootstrap, topic, count, keys, chunk }. Produces values "0".."count-1" with keys "k<i % keys>",
// `chunk` messages per send() awaited in order, with idempotent: true (InitProducerId, producer id and sequences in
// every batch) and acks=-1, which idempotence needs. Prints {"delivered", "producerId"} or {"delivered", "error"};
// the test checks the log itself.
import { readFileSync } from 'node:fs';
import { ProduceAcks, Producer } from '@platformatic/kafka';

const spec = JSON.parse(readFileSync(0, 'utf8'));
const producer = new Producer({
  clientId: 'samsa-compat-platformatic-idempotent',
  bootstrapBrokers: [spec.bootstrap],
  idempotent: true,
  strict: true,
  timeout: 20_000,
  connectTimeout: 5_000,
});

let delivered = 0;
let report;
try {
  for (let from = 0; from < spec.count; from += spec.chunk) {
    const messages = [];
    for (let i = from; i < Math.min(spec.count, from + spec.chunk); i++) {
      messages.push({ topic: spec.topic, key: Buffer.from(`k${i % spec.keys}`), value: Buffer.from(String(i)) });
    }
    await producer.send({ messages, acks: ProduceAcks.ALL });
    delivered += messages.length;
  }
  report = { delivered, producerId: String(producer.producerId ?? null) };
} catch (e) {
  report = { delivered, error: String(e?.stack ?? e), cause: e?.errors?.map((x) => String(x)) };
  process.exitCode = 1;
} finally {
  await producer.close();
}
console.log(JSON.stringify(report));
