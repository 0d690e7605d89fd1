// Client benchmarks (issue 7): produce and consume throughput of samsa's Producer and Consumer next to
// @platformatic/kafka's and KafkaJS's, against one broker process (bench/broker-support.ts) in the same run. Each library runs in a child process of its
// own (bench/client-worker.ts, the same workload script for all three) on the same Node binary: @platformatic/kafka
// needs Node >= 22, so that is SAMSA_NODE22_BIN, this Node when it is new enough, or the repository's
// .ci/.node24 one. The three processes stay up for the whole section; for each workload (message size x partitions
// x acks, on a fresh topic) every library opens a producer and warms up, then the timed runs alternate between the
// libraries (the order rotates each run), so machine noise falls on all three alike. Tables show medians with the
// ratios of samsa's median to the others'. The consume part fills a topic per message size once, then each library
// reads it from the beginning in a fresh group per run, in the same rotating turns.
// `node dist/bench/run.js client` runs only this section. SAMSA_BENCH_CLIENT_QUICK=1 is a quick try (fewer and
// smaller runs); SAMSA_BENCH_CLIENT_RUNS and SAMSA_BENCH_CLIENT_SCALE (a factor on the message counts) tune it.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Admin } from '../src/client/admin/index.js';
import { Producer, type ProducerRecord } from '../src/client/producer/index.js';
import { startBroker } from './broker-support.js';
import type { Answer, Command, OpenCommand } from './client-worker.js';
import { median } from './harness.js';

const QUICK = process.env.SAMSA_BENCH_CLIENT_QUICK === '1';
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const RUNS = env('SAMSA_BENCH_CLIENT_RUNS', QUICK ? 3 : 5);
const SCALE = env('SAMSA_BENCH_CLIENT_SCALE', QUICK ? 0.25 : 1);
const SIZES = [1024, 100] as const;
const PARTITIONS = [1, 8] as const;
const ACKS = [-1, 1] as const;
/** Messages per timed produce run: about 60 MB of 1 KiB values, 20 MB of 100 B values. */
const COUNT: Record<number, number> = { 1024: 60_000, 100: 200_000 };
/**
 * Messages per timed consume run: reading is several times faster than writing, so more of them (about 200 MB of
 * 1 KiB values, 60 MB of 100 B values) keep a run well above the time it takes to join a group.
 */
const CONSUME_COUNT: Record<number, number> = { 1024: 200_000, 100: 600_000 };
/** Untimed messages after opening a producer (lets the JIT and the connections settle). */
const WARMUP_SHARE = 0.5;
/** Bytes per array the application hands over: KafkaJS's and @platformatic/kafka's batch. */
const CHUNK_BYTES = 256 * 1024;
/** Arrays outstanding: as max.in.flight.requests.per.connection (5). */
const WINDOW = 5;
/** Kafka's producer defaults, samsa's too. */
const LINGER_MS = 5;
const BATCH_SIZE = 16_384;
/** Partitions of the consume benchmark's topics. */
const CONSUME_PARTITIONS = 4;

const WORKER = fileURLToPath(new URL('./client-worker.js', import.meta.url));
/** dist/bench -> the repository's .ci/.node24 (installed by .ci/run). */
const REPO_NODE24 = fileURLToPath(new URL('../../.ci/.node24/node_modules/node/bin/node', import.meta.url));

interface Library {
  id: 'samsa' | 'samsa-send' | 'platformatic' | 'kafkajs' | 'fetch-only';
  name: string;
}
const SAMSA: Library = { id: 'samsa', name: 'samsa' };
const SAMSA_SEND: Library = { id: 'samsa-send', name: 'samsa, send() per message' };
const PLATFORMATIC: Library = { id: 'platformatic', name: '@platformatic/kafka' };
const KAFKAJS: Library = { id: 'kafkajs', name: 'KafkaJS' };
const FETCH_ONLY: Library = { id: 'fetch-only', name: 'Fetch loop, no decoding' };

const progress = (msg: string): void => {
  process.stderr.write(`[client bench] ${msg}\n`);
};

function newEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 22);
}

/** The Node all three libraries run on: one that @platformatic/kafka accepts, or null when there is none. */
function benchNode(): string | null {
  if (process.env.SAMSA_NODE22_BIN) return process.env.SAMSA_NODE22_BIN;
  if (newEnough(process.version)) return process.execPath;
  return existsSync(REPO_NODE24) ? REPO_NODE24 : null;
}

/** A library's worker process: one command at a time, one answer line each. */
class Worker {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(
    readonly library: Library,
    node: string,
  ) {
    this.child = spawn(node, ['--no-warnings', WORKER, library.id], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async ask(command: Command): Promise<Answer & { ok: true }> {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error(`${this.library.name} worker exited\n${this.stderr}`);
    const answer = JSON.parse(line.value) as Answer;
    if (!answer.ok) throw new Error(`${this.library.name}: ${answer.error}`);
    return answer;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

interface Workload {
  size: number;
  partitions: number;
  acks: -1 | 1;
}

const sizeName = (size: number): string => (size === 1024 ? '1 KiB' : `${size} B`);
const workloadName = (w: Workload): string =>
  `${sizeName(w.size)}, ${w.partitions} partition${w.partitions === 1 ? '' : 's'}, acks=${w.acks === -1 ? 'all' : w.acks}`;

const fmt = (x: number): string =>
  Number.isNaN(x)
    ? '-'
    : x >= 1e6
      ? `${(x / 1e6).toFixed(2)}M`
      : x >= 1e4
        ? `${(x / 1e3).toFixed(0)}k`
        : x >= 1e3
          ? `${(x / 1e3).toFixed(1)}k`
          : x.toFixed(0);

/** "412k (398k-420k)": median, minimum and maximum of the runs. */
const cell = (runs: readonly number[]): string =>
  runs.length === 0 ? '-' : `${fmt(median(runs))} (${fmt(Math.min(...runs))}-${fmt(Math.max(...runs))})`;
const ratio = (a: readonly number[], b: readonly number[]): string =>
  a.length === 0 || b.length === 0 ? '-' : `${(median(a) / median(b)).toFixed(2)}x`;

interface Result {
  workload: Workload;
  /** Messages per second per run, by library id. */
  runs: Map<Library['id'], number[]>;
  /** Consume only: the worker's CPU milliseconds per 100k messages, per run, by library id. */
  cpu?: Map<Library['id'], number[]>;
}

function produceTable(results: readonly Result[], libraries: readonly Library[]): string {
  const lines = [
    '### Client: produce throughput (messages/s, median (min-max) of the runs)',
    '',
    '| workload | samsa | @platformatic/kafka | KafkaJS | samsa MB/s | samsa vs @platformatic/kafka | samsa vs KafkaJS | samsa, send() per message |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const has = (id: Library['id']) => libraries.some((l) => l.id === id);
  for (const r of results) {
    const of = (id: Library['id']) => (has(id) ? (r.runs.get(id) ?? []) : []);
    const samsa = of('samsa');
    const mbs = samsa.length === 0 ? Number.NaN : (median(samsa) * r.workload.size) / 1e6;
    lines.push(
      `| ${workloadName(r.workload)} | ${cell(samsa)} | ${cell(of('platformatic'))} | ${cell(of('kafkajs'))} | ` +
        `${Number.isNaN(mbs) ? '-' : mbs.toFixed(1)} | ${ratio(samsa, of('platformatic'))} | ${ratio(samsa, of('kafkajs'))} | ` +
        `${cell(of('samsa-send'))} |`,
    );
  }
  return lines.join('\n');
}

const consumeWorkload = (w: Workload): string =>
  `${sizeName(w.size)}, ${w.partitions} partition${w.partitions === 1 ? '' : 's'}, from the beginning`;

function consumeTable(results: readonly Result[], libraries: readonly Library[]): string {
  const lines = [
    '### Client: consume throughput (messages/s, median (min-max) of the runs)',
    '',
    '| workload | samsa | @platformatic/kafka | KafkaJS | Fetch loop, no decoding | samsa MB/s | samsa vs @platformatic/kafka | samsa vs KafkaJS | samsa vs Fetch loop |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const has = (id: Library['id']) => libraries.some((l) => l.id === id);
  for (const r of results) {
    const of = (id: Library['id']) => (has(id) ? (r.runs.get(id) ?? []) : []);
    const samsa = of('samsa');
    const mbs = samsa.length === 0 ? Number.NaN : (median(samsa) * r.workload.size) / 1e6;
    lines.push(
      `| ${consumeWorkload(r.workload)} | ${cell(samsa)} | ${cell(of('platformatic'))} | ${cell(of('kafkajs'))} | ` +
        `${cell(of('fetch-only'))} | ${Number.isNaN(mbs) ? '-' : mbs.toFixed(1)} | ${ratio(samsa, of('platformatic'))} | ` +
        `${ratio(samsa, of('kafkajs'))} | ${ratio(samsa, of('fetch-only'))} |`,
    );
  }
  return lines.join('\n');
}

function consumeCpuTable(results: readonly Result[], libraries: readonly Library[]): string {
  const lines = [
    "### Client: consumer's CPU time (ms per 100k messages, median (min-max) of the runs)",
    '',
    '| workload | samsa | @platformatic/kafka | KafkaJS | Fetch loop, no decoding | KafkaJS over samsa |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const has = (id: Library['id']) => libraries.some((l) => l.id === id);
  for (const r of results) {
    const of = (id: Library['id']) => (has(id) ? (r.cpu?.get(id) ?? []) : []);
    lines.push(
      `| ${consumeWorkload(r.workload)} | ${cell(of('samsa'))} | ${cell(of('platformatic'))} | ${cell(of('kafkajs'))} | ` +
        `${cell(of('fetch-only'))} | ${ratio(of('kafkajs'), of('samsa'))} |`,
    );
  }
  return lines.join('\n');
}

/** Fills a topic with `count` random values of `size` bytes through samsa's Producer (not timed). */
async function fill(bootstrap: string, topic: string, size: number, count: number): Promise<void> {
  const producer = new Producer({ bootstrapServers: [bootstrap], clientId: 'samsa-bench-fill', lingerMs: 5 });
  try {
    const pool = Array.from({ length: 64 }, () => randomBytes(size));
    const chunk = Math.max(1, Math.floor(CHUNK_BYTES / size));
    for (let sent = 0; sent < count; ) {
      const n = Math.min(chunk, count - sent);
      const records = new Array<ProducerRecord>(n);
      for (let i = 0; i < n; i++) records[i] = { topic, value: pool[(sent + i) & 63]! };
      await producer.sendBatch(records);
      sent += n;
    }
  } finally {
    await producer.close();
  }
}

export async function benchClient(): Promise<{ blocks: string[] }> {
  const started = performance.now();
  const node = benchNode();
  const libraries = node === null ? [SAMSA, SAMSA_SEND, KAFKAJS] : [SAMSA, SAMSA_SEND, PLATFORMATIC, KAFKAJS];
  const nodeBin = node ?? process.execPath;
  const nodeVersion = await new Promise<string>((resolve) => {
    const child = spawn(nodeBin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('close', () => resolve(out.trim()));
  });
  // No initial rebalance delay: the consumers join a fresh group per run (their joins are not timed either way).
  const broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  const admin = new Admin({ bootstrapServers: [broker.bootstrap], clientId: 'samsa-bench-admin' });
  const workers = libraries.map((l) => new Worker(l, nodeBin));
  const results: Result[] = [];
  const consumeResults: Result[] = [];
  try {
    await admin.connect();
    const workloads: Workload[] = [];
    for (const size of SIZES) {
      for (const partitions of PARTITIONS) for (const acks of ACKS) workloads.push({ size, partitions, acks });
    }
    let rotation = 0;
    for (const w of workloads) {
      const topic = `bench-client-${w.size}-${w.partitions}-${w.acks === -1 ? 'all' : w.acks}`;
      await admin.createTopics([{ name: topic, numPartitions: w.partitions, replicationFactor: 1 }]);
      const count = Math.max(1000, Math.round(COUNT[w.size]! * SCALE));
      const open: OpenCommand = {
        op: 'open',
        bootstrap: broker.bootstrap,
        topic,
        acks: w.acks,
        size: w.size,
        chunk: Math.max(1, Math.floor(CHUNK_BYTES / w.size)),
        window: WINDOW,
        lingerMs: LINGER_MS,
        batchSize: BATCH_SIZE,
        warmup: Math.round(count * WARMUP_SHARE),
      };
      const result: Result = { workload: w, runs: new Map(libraries.map((l) => [l.id, []])) };
      progress(`${workloadName(w)}: warm-up`);
      for (const worker of workers) await worker.ask(open);
      for (let run = 0; run < RUNS; run++) {
        progress(`${workloadName(w)}: run ${run + 1}/${RUNS}`);
        const order = workers.map((_, i) => workers[(i + rotation) % workers.length]!);
        rotation++;
        for (const worker of order) {
          const answer = await worker.ask({ op: 'run', count });
          result.runs.get(worker.library.id)!.push(answer.messages! / answer.seconds!);
        }
      }
      for (const worker of workers) await worker.ask({ op: 'close' });
      await admin.deleteTopics([topic]);
      results.push(result);
    }
    // ---- consume throughput: each library reads a pre-filled topic from the beginning in a fresh group ----------
    const consumers = [...workers.filter((w) => w.library.id !== 'samsa-send'), new Worker(FETCH_ONLY, nodeBin)];
    workers.push(consumers[consumers.length - 1]!);
    for (const size of SIZES) {
      const topic = `bench-client-consume-${size}`;
      const count = Math.max(1000, Math.round(CONSUME_COUNT[size]! * SCALE));
      await admin.createTopics([{ name: topic, numPartitions: CONSUME_PARTITIONS, replicationFactor: 1 }]);
      progress(`consume ${sizeName(size)}: filling ${topic} with ${count} messages`);
      await fill(broker.bootstrap, topic, size, count);
      const result: Result = {
        workload: { size, partitions: CONSUME_PARTITIONS, acks: -1 },
        runs: new Map(consumers.map((w) => [w.library.id, []])),
        cpu: new Map(consumers.map((w) => [w.library.id, []])),
      };
      let group = 0;
      const ask = (worker: Worker, n: number) =>
        worker.ask({
          op: 'consume',
          bootstrap: broker.bootstrap,
          topic,
          partitions: CONSUME_PARTITIONS,
          group: `bench-consume-${worker.library.id}-${size}-${group++}`,
          count: n,
        });
      progress(`consume ${sizeName(size)}: warm-up`);
      for (const worker of consumers) await ask(worker, Math.round(count * WARMUP_SHARE));
      for (let run = 0; run < RUNS; run++) {
        progress(`consume ${sizeName(size)}: run ${run + 1}/${RUNS}`);
        const order = consumers.map((_, i) => consumers[(i + rotation) % consumers.length]!);
        rotation++;
        for (const worker of order) {
          const answer = await ask(worker, count);
          result.runs.get(worker.library.id)!.push(answer.messages! / answer.seconds!);
          result.cpu!.get(worker.library.id)!.push((answer.cpuSeconds! * 1000 * 100_000) / answer.messages!);
        }
      }
      await admin.deleteTopics([topic]);
      consumeResults.push(result);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await admin.close().catch(() => {});
    await broker.stop();
    broker.cleanup();
  }

  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const countsOf = (table: Record<number, number>): string[] =>
    SIZES.map((s) => `${Math.max(1000, Math.round(table[s]! * SCALE)).toLocaleString('en')} x ${sizeName(s)}`);
  const counts = countsOf(COUNT);
  const notes = [
    `each library in a child process of its own on ${nodeVersion} (${nodeBin === process.execPath ? 'this Node' : nodeBin}), ` +
      'running the same workload script (bench/client-worker.ts), against one broker (`samsa start` child process, ' +
      'defaults, data in the OS temp dir) on the same machine; this machine is shared, so read medians',
    `workload: ${counts.join(' or ')} random values per timed run, null keys, no compression, to a fresh topic per ` +
      `row; the application hands the messages over in arrays of ${CHUNK_BYTES / 1024} KiB ` +
      `(${Math.floor(CHUNK_BYTES / 1024)} x 1 KiB or ${Math.floor(CHUNK_BYTES / 100)} x 100 B) and keeps at most ` +
      `${WINDOW} arrays outstanding; timed from the first array handed over to the last acknowledgement, after ` +
      `${WARMUP_SHARE * 100}% as many untimed messages through the same producer; ${RUNS} runs per row, the ` +
      'libraries taking turns in a rotating order',
    `batching: samsa's Producer gets the arrays through sendBatch() and batches per partition itself with ` +
      `lingerMs ${LINGER_MS} and batchSize ${BATCH_SIZE} (Kafka's defaults), idempotent as by default with ` +
      'acks=all (up to 5 batches in flight per partition; with acks=1 idempotence is off and one batch per ' +
      'partition is in flight, since retries are on); a partition that cannot send its next batch yet lets it grow ' +
      'up to 16x, null-key batches too (the sticky partitioner moves on when a batch is full at that size); the last column ' +
      'is the same producer given each message by its own send() (one promise per message); ' +
      'KafkaJS has no linger or batch size: each producer.send() is one Produce request per broker with the ' +
      'messages given, so the array is its batch and the outstanding arrays its requests in flight; the same holds ' +
      "for @platformatic/kafka's Producer.send() (its ProducerStream adds batchTime and a batchSize counted in " +
      'messages, but sends one batch at a time, so it is not used here)',
    'partitioners: null keys go to one partition per batch in samsa (sticky, KIP-480) and round-robin per ' +
      'message in KafkaJS and @platformatic/kafka; KafkaJS and @platformatic/kafka are not idempotent (their ' +
      'defaults)',
    ...(node === null
      ? [`@platformatic/kafka skipped: it needs Node >= 22.22 (set SAMSA_NODE22_BIN or install .ci/.node24)`]
      : []),
    `consume: ${countsOf(CONSUME_COUNT).join(' or ')} random values, written first (untimed) to a topic of ` +
      `${CONSUME_PARTITIONS} partitions; each ` +
      'run a new consumer joins a fresh group, starts at the earliest offset and counts messages without committing; ' +
      'timed from creating the consumer to the last message wanted (connecting and joining the group included; ' +
      "timing from the first message would leave out the decoding of the first fetch, done before KafkaJS's first " +
      'eachBatch); samsa with ' +
      "consume({ eachBatch }), KafkaJS with run({ eachBatch }), @platformatic/kafka with its consume() stream's " +
      `'data' events; one untimed warm-up read of ${WARMUP_SHARE * 100}% per library first`,
    'Fetch loop, no decoding: the reference for what the broker can hand out here: Fetch requests as a consumer ' +
      'sends them (all partitions, max.partition.fetch.bytes 1 MiB, fetch.max.bytes 50 MiB, one at a time) over ' +
      "samsa's connection, counting records from the batch headers; no group (it does not join one), no record " +
      'decoding, no CRC check. A consumer cannot be faster than it, whatever it does with the records, so a ' +
      'consumer near it is limited by the broker (sharing the 2 cores), and its ratio to another library is capped ' +
      'at the Fetch loop over that library',
    "consumer's CPU time: user + system time of the library's worker process during the run (process.cpuUsage), " +
      'per 100k messages: the cost of consuming apart from the broker. samsa checks every batch CRC-32C (as the ' +
      "Java client's check.crcs=true default); KafkaJS checks none",
    'issue 7 target: samsa at least as fast as @platformatic/kafka and at least 3x KafkaJS',
    `client section took ${minutes} min`,
  ];
  return {
    blocks: [
      produceTable(results, libraries),
      consumeTable(consumeResults, [...libraries, FETCH_ONLY]),
      consumeCpuTable(consumeResults, [...libraries, FETCH_ONLY]),
      notes.map((n) => `- ${n}`).join('\n'),
    ],
  };
}
