// The cost of idempotent producers on the broker, without a client library's own differences in the way: one raw
// connection sends prepared record batches to a broker process, 5 Produce requests in flight (what idempotent
// clients allow), acks=1, one partition; the same number of batches of the same size either without a producer id
// or as one idempotent producer's consecutive sequences (checked by the broker: epoch, sequence, duplicate window).
// Batches are encoded before the clock starts, so both runs cost the bench process the same; the order of the two
// alternates between runs. Reported: throughput and the broker process's CPU time per MB (/proc/<pid>/stat).
// `node dist/bench/run.js idempotence` runs only this section.
import { readFileSync } from 'node:fs';
import { encodeRecordBatch } from '../src/protocol/records/index.js';
import { createTopics, KafkaClient, startBroker } from './broker-support.js';
import { Rows, table } from './harness.js';

const RUNS = Number(process.env.SAMSA_BENCH_IDEMPOTENCE_RUNS ?? 5);
const IN_FLIGHT = 5;
const MB = 1e6;

const WORKLOADS = [
  { name: '16 x 1 KiB records per batch', batches: 4000, records: 16, size: 1000 },
  { name: '1 x 100 B record per batch', batches: 40_000, records: 1, size: 100 },
] as const;

function prepare(count: number, records: number, size: number, producerId: bigint | null): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    encodeRecordBatch({
      baseTimestamp: BigInt(Date.now()),
      ...(producerId === null ? {} : { producerId, producerEpoch: 0, baseSequence: i * records }),
      records: Array.from({ length: records }, (_, r) => ({ key: `k${r}`, value: Buffer.alloc(size, (i + r) & 0xff) })),
    }),
  );
}

/** The broker's user + system CPU seconds so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Sends every batch, IN_FLIGHT requests at a time; resolves with the seconds it took. */
async function send(client: KafkaClient, topic: string, batches: Buffer[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) {
      const records = batches[next++]!;
      const res = await client.request(0, 9, {
        acks: 1,
        timeoutMs: 30_000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      });
      const code = res.responses[0].partitionResponses[0].errorCode;
      if (code !== 0) throw new Error(`produce to ${topic} failed with error ${code}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return (performance.now() - started) / 1000;
}

export async function benchIdempotence(): Promise<string[]> {
  const throughput = new Rows();
  const cpu = new Rows();
  const broker = await startBroker();
  const client = await KafkaClient.connect(broker.bootstrap);
  try {
    for (const w of WORKLOADS) {
      const plainName = `${w.name}: no producer id`;
      const idemName = `${w.name}: idempotent producer`;
      for (let run = 0; run < RUNS; run++) {
        const init = await client.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000 });
        const modes: [string, Buffer[]][] = [
          [plainName, prepare(w.batches, w.records, w.size, null)],
          [idemName, prepare(w.batches, w.records, w.size, init.producerId as bigint)],
        ];
        if (run % 2 === 1) modes.reverse();
        for (const [name, batches] of modes) {
          const topic = `idem-bench-${run}-${name === idemName ? 'idem' : 'plain'}-${w.records}`;
          await createTopics(broker.bootstrap, [topic], 1);
          const bytes = batches.reduce((n, b) => n + b.length, 0);
          const cpu0 = cpuSeconds(broker.pid);
          const secs = await send(client, topic, batches);
          const cpuUsed = cpuSeconds(broker.pid) - cpu0;
          const ref = name === idemName ? plainName : undefined;
          throughput.add(name, 'MB/s', bytes / MB / secs, ref);
          cpu.add(name, 'broker CPU ms/MB', (cpuUsed * 1000) / (bytes / MB), ref);
        }
      }
    }
  } finally {
    client.close();
    await broker.stop();
    broker.cleanup();
  }
  return [
    table(
      'Idempotent producers: produce throughput of a broker process (raw client, 5 in flight, acks=1)',
      throughput.list(),
    ),
    table('Idempotent producers: broker CPU time per MB produced', cpu.list()),
    `- ${RUNS} runs, medians; batch bytes counted whole (headers included); the broker's CPU from /proc/<pid>/stat (10 ms ticks)`,
  ];
}
