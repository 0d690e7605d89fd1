// Broker benchmarks with a real client (confluent-kafka-python, i.e. librdkafka, scripts in bench/py): produce and
// consume throughput, end-to-end latency at a fixed rate, and the broker's resident memory idle and with many
// partitions. Every throughput figure sits next to a reference measured in the same run with the same script:
// producing to the no-op sink (bench/noop-sink.ts: answers at once, stores nothing; the "client ceiling") and
// consuming from the same sink serving the broker's own record batches from memory (the "Node ceiling" for serving
// bytes with our codecs). Each repetition uses a fresh broker and alternates which of the two goes first.
// `node dist/bench/run.js broker` runs only this section; `node dist/bench/run.js broker-profile` profiles the broker.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrokerChild, createTopics, KafkaClient, rssBytes, runPython, startBroker } from './broker-support.js';
import { summarizeProfile } from './cpuprofile.js';
import { Rows, table } from './harness.js';
import { NoopSink, SINK_APIS } from './noop-sink.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const RUNS = env('SAMSA_BENCH_BROKER_RUNS', 3);
const LATENCY_SECONDS = env('SAMSA_BENCH_LATENCY_SECONDS', 10);
const LATENCY_WARMUP = 1;
const LATENCY_RATE = 5000;
/** Stop producing after this long even if the count is not reached (keeps the section bounded on a slow broker). */
const PRODUCE_MAX_SECONDS = 4;
const SIZES = [100, 1024] as const;
const PARTITIONS = [1, 8] as const;
const ACKS = ['1', 'all'] as const;
/** Messages per produce run: about 40 MB of 100 B values, about 150 MB of 1 KiB values. */
const COUNT: Record<number, number> = { 100: 400_000, 1024: 150_000 };
const MB = 1e6;

type Acks = (typeof ACKS)[number];

const progress = (msg: string): void => {
  process.stderr.write(`[broker bench] ${msg}\n`);
};

const sizeName = (size: number): string => (size === 1024 ? '1 KiB' : `${size} B`);
const produceName = (size: number, parts: number, acks: Acks) => `produce ${sizeName(size)} x ${parts}p acks=${acks}`;
const consumeName = (size: number, parts: number) => `consume ${sizeName(size)} x ${parts}p`;
const SINK = 'no-op sink (reference)';
const MEMORY_SINK = 'in-memory sink (reference)';

interface Throughput {
  messages: number;
  bytes: number;
  seconds: number;
  /** Produce: messages in the topic afterwards (the timed ones plus one warm-up message a partition). */
  total?: number;
}

/** How the producer runs: librdkafka's defaults, or as an idempotent producer (at most 5 requests in flight). */
type ProducerMode = 'plain' | 'plain, 5 in flight' | 'idempotent';

async function produce(
  bootstrap: string,
  topic: string,
  size: number,
  parts: number,
  acks: Acks,
  mode: ProducerMode = 'plain',
): Promise<Throughput> {
  const spec = {
    bootstrap,
    topic,
    partitions: parts,
    size,
    count: COUNT[size]!,
    seconds: PRODUCE_MAX_SECONDS,
    acks,
    ...(mode === 'plain' ? {} : { maxInFlight: 5 }),
    ...(mode === 'idempotent' ? { idempotence: true } : {}),
  };
  return (await runPython('produce.py', [JSON.stringify(spec)]).done).result as Throughput;
}

async function consume(bootstrap: string, topic: string, parts: number, count: number): Promise<Throughput> {
  const spec = { bootstrap, topic, partitions: parts, count, timeout: 60 };
  return (await runPython('consume.py', [JSON.stringify(spec)]).done).result as Throughput;
}

/** Every .log segment of one partition of the broker's data dir, concatenated in offset order. */
function partitionLog(dataDir: string, topic: string, partition: number): Buffer {
  const dir = join(dataDir, `${topic}-${partition}`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
  return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
}

interface Latency {
  messages: number;
  measured: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** A paced producer and a consumer in two Python processes; the consumer is ready before the producer starts. */
async function latency(bootstrap: string, topic: string): Promise<{ consumer: Latency; rate: number }> {
  const spec = JSON.stringify({
    bootstrap,
    topic,
    rate: LATENCY_RATE,
    size: 1024,
    acks: '1',
    warmup: LATENCY_WARMUP,
    seconds: LATENCY_SECONDS,
  });
  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const timeout = (LATENCY_WARMUP + LATENCY_SECONDS + 60) * 1000;
  const consumer = runPython('latency.py', ['consume', spec], timeout, (line) => {
    if (line === 'ready') ready();
  });
  await Promise.race([isReady, consumer.done]);
  const producer = await runPython('latency.py', ['produce', spec], timeout).done;
  const result = (await consumer.done).result as Latency;
  return { consumer: result, rate: producer.result.rate as number };
}

/** RSS of a bare Node process that only waits (the floor any Node broker starts from). */
async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(1000);
    return rssBytes(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

async function memory(rows: Rows, notes: string[]): Promise<void> {
  for (let run = 0; run < RUNS; run++) {
    progress(`memory run ${run + 1}/${RUNS}`);
    rows.add('bare Node process, idle (reference)', 'MB', (await bareNodeRss()) / MB);
    const broker = await startBroker();
    try {
      await sleep(1500);
      const idle = rssBytes(broker.pid);
      rows.add('broker idle after start', 'MB', idle / MB, 'bare Node process, idle (reference)');
      const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
      let start = performance.now();
      await createTopics(broker.bootstrap, names('rss-a', 100), 10);
      rows.add('create 100 topics x 10 partitions', 's', (performance.now() - start) / 1000);
      await sleep(1000);
      const at1k = rssBytes(broker.pid);
      rows.add('broker with 1,000 partitions', 'MB', at1k / MB, 'broker idle after start');
      start = performance.now();
      await createTopics(broker.bootstrap, names('rss-b', 900), 10);
      rows.add('create 900 more topics x 10 partitions', 's', (performance.now() - start) / 1000);
      await sleep(1000);
      const at10k = rssBytes(broker.pid);
      rows.add('broker with 10,000 partitions', 'MB', at10k / MB, 'broker idle after start');
      rows.add('per partition, first 1,000', 'KB', (at1k - idle) / 1000 / 1000);
      rows.add('per partition, 10,000', 'KB', (at10k - idle) / 10_000 / 1000);
    } finally {
      await broker.stop();
      broker.cleanup();
    }
  }
  notes.push(
    'memory: VmRSS from /proc/<pid>/status of a fresh broker 1.5 s after start, then 1 s after each CreateTopics ' +
      'batch returned (100 topics a request); KB per partition = (RSS - idle RSS) / partitions; MB = 10^6 bytes',
  );
}

export interface BrokerBench {
  blocks: string[];
}

export async function benchBroker(): Promise<BrokerBench> {
  const produceRows = new Rows();
  const produceMsgs = new Rows();
  const consumeRows = new Rows();
  const consumeMsgs = new Rows();
  const latencyRows = new Rows();
  const memoryRows = new Rows();
  const notes: string[] = [];
  const rates: number[] = [];
  let versions = '';
  const started = performance.now();

  for (let run = 0; run < RUNS; run++) {
    const broker = await startBroker();
    let sink: NoopSink | undefined;
    try {
      // The sink advertises exactly the broker's ranges for the APIs it serves, so librdkafka picks the same versions.
      const client = await KafkaClient.connect(broker.bootstrap);
      const ranges = (await client.apiVersions()).filter((r) => SINK_APIS.includes(r.apiKey));
      client.close();
      versions = ranges.map((r) => `${r.apiKey}:${r.minVersion}-${r.maxVersion}`).join(' ');
      sink = await NoopSink.start({ ranges });
      const sinkFirst = run % 2 === 0;
      const filled = new Map<string, { topic: string; total: number }>();

      for (const size of SIZES) {
        for (const parts of PARTITIONS) {
          for (const acks of ACKS) {
            const name = produceName(size, parts, acks);
            progress(`run ${run + 1}/${RUNS}: ${name}`);
            const topic = `bench-${size}-${parts}-${acks}`;
            await createTopics(broker.bootstrap, [topic], parts);
            sink.setTopic(topic, parts);
            const onSink = async () => {
              const r = await produce(sink!.bootstrap, topic, size, parts, acks);
              produceRows.add(`${name}: ${SINK}`, 'MB/s', r.bytes / MB / r.seconds);
              produceMsgs.add(`${name}: ${SINK}`, 'msg/s', r.messages / r.seconds);
            };
            const onBroker = async () => {
              const r = await produce(broker.bootstrap, topic, size, parts, acks);
              produceRows.add(`${name}: broker`, 'MB/s', r.bytes / MB / r.seconds, `${name}: ${SINK}`);
              produceMsgs.add(`${name}: broker`, 'msg/s', r.messages / r.seconds, `${name}: ${SINK}`);
              if (acks === '1') filled.set(`${size}-${parts}`, { topic, total: r.total! });
            };
            if (sinkFirst) {
              await onSink();
              await onBroker();
            } else {
              await onBroker();
              await onSink();
            }
            sink.deleteTopic(topic);
            if (acks === 'all') {
              // The cost of idempotence on the broker: the same load as an idempotent producer (producer ids and
              // sequences checked on every batch) next to a plain producer held to the same 5 requests in flight,
              // each into a topic of its own, in alternating order.
              const modes: ProducerMode[] = ['plain, 5 in flight', 'idempotent'];
              if (!sinkFirst) modes.reverse();
              for (const mode of modes) {
                const modeTopic = `${topic}-${mode === 'idempotent' ? 'idem' : 'inflight5'}`;
                await createTopics(broker.bootstrap, [modeTopic], parts);
                progress(`run ${run + 1}/${RUNS}: ${name}, ${mode}`);
                const r = await produce(broker.bootstrap, modeTopic, size, parts, acks, mode);
                const reference = mode === 'idempotent' ? `${name}: broker, plain, 5 in flight` : undefined;
                produceRows.add(`${name}: broker, ${mode}`, 'MB/s', r.bytes / MB / r.seconds, reference);
                produceMsgs.add(`${name}: broker, ${mode}`, 'msg/s', r.messages / r.seconds, reference);
              }
            }
          }
        }
      }

      for (const size of SIZES) {
        for (const parts of PARTITIONS) {
          const name = consumeName(size, parts);
          progress(`run ${run + 1}/${RUNS}: ${name}`);
          const { topic, total } = filled.get(`${size}-${parts}`)!;
          const onSink = async () => {
            sink!.load(
              topic,
              Array.from({ length: parts }, (_, p) => partitionLog(broker.dataDir, topic, p)),
            );
            const r = await consume(sink!.bootstrap, topic, parts, total);
            sink!.deleteTopic(topic);
            consumeRows.add(`${name}: ${MEMORY_SINK}`, 'MB/s', r.bytes / MB / r.seconds);
            consumeMsgs.add(`${name}: ${MEMORY_SINK}`, 'msg/s', r.messages / r.seconds);
          };
          const onBroker = async () => {
            const r = await consume(broker.bootstrap, topic, parts, total);
            consumeRows.add(`${name}: broker`, 'MB/s', r.bytes / MB / r.seconds, `${name}: ${MEMORY_SINK}`);
            consumeMsgs.add(`${name}: broker`, 'msg/s', r.messages / r.seconds, `${name}: ${MEMORY_SINK}`);
          };
          if (sinkFirst) {
            await onSink();
            await onBroker();
          } else {
            await onBroker();
            await onSink();
          }
        }
      }

      progress(`run ${run + 1}/${RUNS}: latency, ${LATENCY_SECONDS} s at ${LATENCY_RATE} msg/s`);
      const topic = 'bench-latency';
      await createTopics(broker.bootstrap, [topic], 1);
      const lat = await latency(broker.bootstrap, topic);
      rates.push(lat.rate);
      latencyRows.add('end-to-end p50', 'ms', lat.consumer.p50);
      latencyRows.add('end-to-end p99', 'ms', lat.consumer.p99);
      latencyRows.add('end-to-end p99.9', 'ms', lat.consumer.p999);
      latencyRows.add('end-to-end max', 'ms', lat.consumer.max);
      latencyRows.add('end-to-end mean', 'ms', lat.consumer.mean);
    } finally {
      await sink?.close();
      await broker.stop();
      broker.cleanup();
    }
  }

  await memory(memoryRows, notes);

  const targets: [string, string, number, (x: number) => boolean, string][] = [];
  for (const parts of PARTITIONS) {
    for (const acks of ACKS) {
      const name = produceName(1024, parts, acks);
      targets.push([`${name} >= 300 MB/s`, 'MB/s', produceRows.median(`${name}: broker`), (x) => x >= 300, '']);
    }
  }
  for (const parts of PARTITIONS) {
    const name = consumeName(1024, parts);
    targets.push([`${name} >= 500 MB/s`, 'MB/s', consumeRows.median(`${name}: broker`), (x) => x >= 500, '']);
  }
  targets.push([
    `end-to-end p99 < 2 ms at ${LATENCY_RATE} msg/s x 1 KiB`,
    'ms',
    latencyRows.median('end-to-end p99'),
    (x) => x < 2,
    '',
  ]);
  targets.push(['broker idle RSS < 80 MB', 'MB', memoryRows.median('broker idle after start'), (x) => x < 80, '']);
  targets.push([
    '< 20 KB per idle partition (1,000)',
    'KB',
    memoryRows.median('per partition, first 1,000'),
    (x) => x < 20,
    '',
  ]);
  targets.push([
    '< 20 KB per idle partition (10,000)',
    'KB',
    memoryRows.median('per partition, 10,000'),
    (x) => x < 20,
    '',
  ]);

  const fmt = (x: number) => (Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
  const targetTable = [
    '### Broker: targets',
    '',
    '| target | measured median | unit | met |',
    '|---|---:|---|---|',
    ...targets.map(
      ([t, unit, x, ok]) => `| ${t} | ${fmt(x)} | ${unit} | ${Number.isNaN(x) ? 'n/a' : ok(x) ? 'met' : 'not met'} |`,
    ),
  ].join('\n');

  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  notes.unshift(
    `client: confluent-kafka-python (librdkafka) via ${'/usr/bin/python3'} bench/py/*.py, on the same 2 cores as the ` +
      `broker; ${RUNS} runs, each on a fresh broker (defaults, data in the OS temp dir) with the no-op sink (same ` +
      `ApiVersions ranges as the broker: ${versions}); the order of sink and broker alternates between runs`,
    `produce: ${COUNT[100]!.toLocaleString('en')} x 100 B or ${COUNT[1024]!.toLocaleString('en')} x 1 KiB values ` +
      `a run (capped at ${PRODUCE_MAX_SECONDS} s), no key, partitions round-robin, linger.ms=5, batch.size=1000000, ` +
      'batch.num.messages=100000, compression none, large queue; timed from the first produce() to the end of ' +
      'flush() (every message acknowledged); MB/s counts value bytes (10^6 bytes)',
    'consume: the acks=1 topic of the same run, every partition assigned from offset 0, read to the last message; ' +
      'fetch.wait.max.ms=10, fetch.max.bytes=50 MiB, max.partition.fetch.bytes=8 MiB; the reference is the sink ' +
      "serving that topic's own .log bytes (the broker's batches, byte for byte) from memory",
    `latency: ${LATENCY_RATE} msg/s x 1 KiB, acks=1, linger.ms=0, 1 partition, ${LATENCY_SECONDS} s measured after ` +
      `${LATENCY_WARMUP} s of warm-up; producer and consumer are two Python processes and the latency is ` +
      'time.time() at receipt minus time.time() embedded at send (the same system clock in both); consumer ' +
      `fetch.wait.max.ms=100 (long poll); achieved producer rate ${rates.map((r) => r.toFixed(0)).join(', ')} msg/s`,
    'latency context from DESIGN.md (not measured in this run): NATS JetStream p99 5.6 ms, Redis Streams p99 5.0 ms, ' +
      'Node TCP relay p99 2.1 ms',
  );
  notes.push(`broker section took ${minutes} min`);

  return {
    blocks: [
      table('Broker: produce throughput, confluent-kafka-python (MB/s of values)', produceRows.list()),
      table('Broker: produce throughput (messages/s)', produceMsgs.list()),
      table('Broker: consume throughput, confluent-kafka-python (MB/s of values)', consumeRows.list()),
      table('Broker: consume throughput (messages/s)', consumeMsgs.list()),
      table(`Broker: end-to-end latency, ${LATENCY_RATE} msg/s x 1 KiB, acks=1, 1 partition`, latencyRows.list()),
      table('Broker: resident memory (VmRSS)', memoryRows.list()),
      targetTable,
      notes.map((n) => `- ${n}`).join('\n'),
    ],
  };
}

/**
 * Profiles the broker with `node --cpu-prof`: one broker under the 1 KiB acks=1 produce load (1 and 8 partitions),
 * then a broker restarted on that data under the consume load; prints the top self-time functions of each profile
 * and keeps the .cpuprofile files (open them in Chrome DevTools for the call tree).
 */
export async function profileBroker(): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'samsa-bench-profile-'));
  const dataDir = join(root, 'data');
  const blocks: string[] = [];
  const profiled = async (phase: string, fn: (b: BrokerChild) => Promise<string>) => {
    const dir = join(root, phase);
    const broker = await startBroker({ dataDir, execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    let what: string;
    try {
      what = await fn(broker);
    } finally {
      await broker.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no profile written in ${dir}`);
    blocks.push(`### Broker CPU profile: ${phase} (${what})\n\n${summarizeProfile(join(dir, file), 25)}`);
  };
  const topics: Record<number, { topic: string; total: number }> = {};
  await profiled('produce', async (broker) => {
    const out: string[] = [];
    for (const parts of PARTITIONS) {
      const topic = `profile-1024-${parts}`;
      await createTopics(broker.bootstrap, [topic], parts);
      let total = 0;
      for (let i = 0; i < 2; i++) {
        const r = await produce(broker.bootstrap, topic, 1024, parts, '1');
        total += r.total!;
        out.push(`${parts}p ${(r.bytes / MB / r.seconds).toFixed(0)} MB/s`);
      }
      topics[parts] = { topic, total };
    }
    return `1 KiB acks=1, 2 runs each on 1 and 8 partitions: ${out.join(', ')}`;
  });
  await profiled('consume', async (broker) => {
    const out: string[] = [];
    for (const parts of PARTITIONS) {
      for (let i = 0; i < 3; i++) {
        const r = await consume(broker.bootstrap, topics[parts]!.topic, parts, topics[parts]!.total);
        out.push(`${parts}p ${(r.bytes / MB / r.seconds).toFixed(0)} MB/s`);
      }
    }
    return `1 KiB, 3 full reads each of the 1 and 8 partition topics: ${out.join(', ')}`;
  });
  rmSync(dataDir, { recursive: true, force: true });
  blocks.push(`- profiles kept in ${root}`);
  return blocks;
}
