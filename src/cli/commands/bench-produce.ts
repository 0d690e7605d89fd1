/**
 * `samsa bench produce`: kafka-producer-perf-test for samsa's Producer. It sends --num-records records of
 * --record-size bytes (one payload of random capital letters, as the Kafka tool makes it, with null keys) as fast
 * as the producer takes them, or at --throughput records/s, and measures each record's latency from its `send` call
 * to its delivery report. Every --reporting-interval (5 s) a line like the Kafka tool's goes to stderr ("N records
 * sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency."), and at the end a table (or --output json)
 * of the records, rate, MB/s and the latency average, percentiles and maximum goes to stdout. MB are MiB, as the
 * Kafka tool counts them.
 *
 * As with Kafka's producer, at most 32 MiB of records (buffer.memory's default) wait for their acknowledgement:
 * `send` then waits. The loop also yields to the event loop every 64 KiB of records, so batches go out while later
 * records are being sent, as the Java producer's sender thread does. Latencies are kept for at most 500,000 records
 * (every n-th record for longer runs, as the Kafka tool samples them); average and maximum count every record.
 *
 * --partitions creates the topic first when it does not exist. The first failed record stops the run (exit 1).
 */
import { setTimeout as sleep, setImmediate as yieldNow } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Admin } from '../../client/admin/index.js';
import type { Producer, ProducerRecord } from '../../client/producer/index.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { collect, intArg, parseKeyValues, unwrap, withAdmin } from '../support/admin.js';
import { addCommonOptions, type CommonOptions, runCommand } from '../support/connection-options.js';
import { CommandError, describeFailure, UsageError } from '../support/errors.js';
import { print, renderTable } from '../support/output.js';
import {
  acksArg,
  applyProducerProperties,
  compressionArg,
  openProducer,
  type ProducerSettings,
} from '../support/producer.js';

const MIB = 1024 * 1024;
const BUFFER_MEMORY = 32 * MIB;
const YIELD_BYTES = 64 * 1024;
const MAX_SAMPLES = 500_000;

interface BenchProduceOptions extends CommonOptions {
  topic?: string;
  numRecords?: number;
  recordSize?: number;
  throughput: number;
  acks?: ReturnType<typeof acksArg>;
  compression?: ReturnType<typeof compressionArg>;
  lingerMs?: number;
  batchSize?: number;
  partitions?: number;
  producerProperty: string[];
  producerProps?: string[];
  reportingInterval: number;
}

export interface BenchProduceResult {
  topic: string;
  records: number;
  recordSize: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  latencyMs: { avg: number; p50: number; p95: number; p99: number; p999: number; max: number };
}

/** Running totals, the current reporting window, and the latency samples. */
class Stats {
  private readonly started = performance.now();
  private readonly samples: Float64Array;
  private readonly sampling: number;
  private sampleCount = 0;
  count = 0;
  private latencySum = 0;
  private latencyMax = 0;
  private windowStart = this.started;
  private windowCount = 0;
  private windowLatencySum = 0;
  private windowMax = 0;

  constructor(
    total: number,
    private readonly recordSize: number,
    private readonly interval: number,
  ) {
    this.sampling = Math.max(1, Math.ceil(total / MAX_SAMPLES));
    this.samples = new Float64Array(Math.ceil(total / this.sampling));
  }

  record(index: number, latency: number, now: number): void {
    this.count++;
    this.latencySum += latency;
    if (latency > this.latencyMax) this.latencyMax = latency;
    this.windowCount++;
    this.windowLatencySum += latency;
    if (latency > this.windowMax) this.windowMax = latency;
    if (index % this.sampling === 0 && this.sampleCount < this.samples.length) {
      this.samples[this.sampleCount++] = latency;
    }
    if (now - this.windowStart >= this.interval) this.report(now);
  }

  /** The Kafka tool's progress line for the window that just ended. */
  private report(now: number): void {
    const seconds = (now - this.windowStart) / 1000;
    const rate = this.windowCount / seconds;
    process.stderr.write(
      `${this.windowCount} records sent, ${rate.toFixed(1)} records/sec (${((rate * this.recordSize) / MIB).toFixed(2)} MB/sec), ` +
        `${(this.windowLatencySum / this.windowCount).toFixed(1)} ms avg latency, ${this.windowMax.toFixed(1)} ms max latency.\n`,
    );
    this.windowStart = now;
    this.windowCount = 0;
    this.windowLatencySum = 0;
    this.windowMax = 0;
  }

  result(topic: string): BenchProduceResult {
    const seconds = (performance.now() - this.started) / 1000;
    const sorted = this.samples.subarray(0, this.sampleCount).sort();
    const at = (p: number): number =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    const rate = this.count / seconds;
    const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
    return {
      topic,
      records: this.count,
      recordSize: this.recordSize,
      seconds: round(seconds, 3),
      recordsPerSec: round(rate, 1),
      mbPerSec: round((rate * this.recordSize) / MIB),
      latencyMs: {
        avg: round(this.count === 0 ? 0 : this.latencySum / this.count),
        p50: round(at(0.5)),
        p95: round(at(0.95)),
        p99: round(at(0.99)),
        p999: round(at(0.999)),
        max: round(this.latencyMax),
      },
    };
  }
}

/** The Kafka tool's payload: random capital letters. */
function payload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 65 + Math.floor(Math.random() * 26);
  return b;
}

/** Creates the topic with `partitions` unless it exists (then its partition count is only checked). */
async function ensureTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  try {
    await admin.createTopics([{ name: topic, numPartitions: partitions }]);
    process.stderr.write(`created topic ${topic} with ${partitions} partition${partitions === 1 ? '' : 's'}\n`);
  } catch (e) {
    const err = unwrap(e);
    if (!(err instanceof KafkaError) || err.code !== ErrorCode.TOPIC_ALREADY_EXISTS) throw err;
    const [t] = await admin.describeTopics([topic]);
    if (t !== undefined && t.partitions.length !== partitions) {
      process.stderr.write(
        `samsa: warning: topic ${topic} already exists with ${t.partitions.length} partitions (not ${partitions})\n`,
      );
    }
  }
}

/** Sends the records; resolves once all are acknowledged, or rejects with the first failure. */
async function run(
  producer: Producer,
  topic: string,
  total: number,
  size: number,
  throughput: number,
  stats: Stats,
): Promise<void> {
  const record: ProducerRecord = { topic, value: payload(size) };
  const maxOutstanding = Math.max(1, Math.floor(BUFFER_MEMORY / Math.max(1, size)));
  const yieldEvery = Math.max(1, Math.floor(YIELD_BYTES / Math.max(1, size)));
  let outstanding = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const started = performance.now();
  const settle = (): void => {
    outstanding--;
    if (wake !== null && (outstanding <= maxOutstanding >>> 1 || outstanding === 0 || failure !== null)) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const fail = (e: Error): void => {
    failure ??= e;
    settle();
  };
  for (let i = 0; i < total && failure === null; i++) {
    const sentAt = performance.now();
    outstanding++;
    producer.send(record).then(() => {
      const now = performance.now();
      stats.record(i, now - sentAt, now);
      settle();
    }, fail);
    if (throughput > 0) {
      const ahead = ((i + 1) / throughput) * 1000 - (performance.now() - started);
      if (ahead >= 1) await sleep(ahead);
    }
    if (outstanding >= maxOutstanding) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    } else if ((i + 1) % yieldEvery === 0) {
      await yieldNow();
    }
  }
  while (outstanding > 0) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    if (failure !== null) break;
  }
  if (failure !== null) throw failure;
}

export function registerBenchProduce(bench: Command): void {
  addCommonOptions(
    bench
      .command('produce')
      .description("produce throughput and latency, like kafka-producer-perf-test (its flags' names)")
      .option('--topic <topic>', 'the topic to produce to')
      .option('--num-records <n>', 'how many records to send', intArg(1))
      .option('--record-size <bytes>', 'bytes per record (value; keys are null)', intArg(0))
      .option('--throughput <n>', 'at most n records/s; -1: as fast as possible', intArg(-1), -1)
      .option('--acks <acks>', '0, 1 or all (default all)', acksArg)
      .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', compressionArg)
      .option('--linger-ms <ms>', 'linger.ms (default 5)', intArg(0))
      .option('--batch-size <bytes>', 'batch.size (default 16384)', intArg(1))
      .option('--partitions <n>', 'create the topic with n partitions if it does not exist', intArg(1))
      .option('--producer-property <name=value>', 'any Kafka producer property (repeatable)', collect, [])
      .option(
        '--producer-props <name=value...>',
        "kafka-producer-perf-test's form: producer properties, bootstrap.servers included",
      )
      .option('--reporting-interval <ms>', 'how often a progress line is printed', intArg(1), 5000),
  ).action((opts: BenchProduceOptions) => {
    // kafka-producer-perf-test takes the brokers as a producer property; --bootstrap-server wins when both are given.
    let props: Record<string, string> = {};
    try {
      props = parseKeyValues([...(opts.producerProps ?? []), ...opts.producerProperty], '--producer-props');
    } catch {
      // Reported with the usual line below.
    }
    const brokers = props['bootstrap.servers'];
    if (brokers !== undefined && opts.bootstrapServer === undefined && opts.bootstrapServers === undefined) {
      opts.bootstrapServer = brokers;
    }
    return runCommand(opts, async (s) => {
      if (opts.topic === undefined) throw new UsageError('--topic is required');
      if (opts.numRecords === undefined) throw new UsageError('--num-records is required');
      if (opts.recordSize === undefined) throw new UsageError('--record-size is required');
      if (opts.throughput === 0) throw new UsageError('--throughput must be positive, or -1 for no limit');
      const settings: ProducerSettings = {};
      for (const name of applyProducerProperties(
        parseKeyValues(opts.producerProperty, '--producer-property'),
        settings,
      )) {
        process.stderr.write(`samsa: warning: producer property '${name}' is not known here and is ignored\n`);
      }
      if (opts.acks !== undefined) settings.acks = opts.acks;
      if (opts.compression !== undefined) settings.compression = opts.compression;
      if (opts.lingerMs !== undefined) settings.lingerMs = opts.lingerMs;
      if (opts.batchSize !== undefined) settings.batchSize = opts.batchSize;
      const topic = opts.topic;
      if (opts.partitions !== undefined) {
        const partitions = opts.partitions;
        await withAdmin(s, (admin) => ensureTopic(admin, topic, partitions));
      }
      const producer = await openProducer(s, settings);
      const stats = new Stats(opts.numRecords, opts.recordSize, opts.reportingInterval);
      try {
        await run(producer, topic, opts.numRecords, opts.recordSize, opts.throughput, stats);
      } catch (e) {
        const { line, exitCode } = describeFailure(e, s.bootstrapServers);
        throw new CommandError(`${line} (after ${stats.count} records)`, exitCode);
      } finally {
        await producer.close().catch(() => {});
      }
      const r = stats.result(topic);
      print(s.output, r, () =>
        renderTable(
          ['RECORDS', 'RECORDS/S', 'MB/S', 'AVG MS', 'P50 MS', 'P95 MS', 'P99 MS', 'P99.9 MS', 'MAX MS'],
          [
            [
              r.records,
              r.recordsPerSec.toFixed(1),
              r.mbPerSec.toFixed(2),
              r.latencyMs.avg.toFixed(2),
              r.latencyMs.p50.toFixed(1),
              r.latencyMs.p95.toFixed(1),
              r.latencyMs.p99.toFixed(1),
              r.latencyMs.p999.toFixed(1),
              r.latencyMs.max.toFixed(1),
            ],
          ],
        ),
      );
    });
  });
}
