/**
 * `samsa bench consume` (kafka-consumer-perf-test for samsa's Consumer) and `samsa bench e2e` (end-to-end latency,
 * as Kafka's EndToEndLatency tool, but with a stream of records rather than one at a time).
 *
 * `bench consume` reads --messages records of --topic from the beginning (every partition assigned, or as a member
 * of --group, which then starts where the group left off) and prints one table (or --output json): records, MB
 * (MiB, as the Kafka tool counts), MB/s, records/s, the time to the first record (connecting, looking up offsets,
 * joining the group) and the total time; the rates count from the first record, as the Kafka tool's fetch rates do.
 * With no record for --timeout ms (10000, the Kafka tool's default) it stops early with a warning.
 *
 * `bench e2e` produces --num-records records of --record-size bytes with our Producer (at --throughput records/s,
 * or as fast as it takes them) and consumes them with our Consumer in the same process; each record carries its
 * send time (performance.now(), the first 8 bytes of the value), so the latency from `send` to receipt is measured
 * on one clock. The consumer is placed at the end of every partition before the first send. At most 32 MiB of
 * records are in flight (sent, not received). The table: records, records/s, and the latency average,
 * p50/p95/p99/p99.9 and maximum.
 */
import { setTimeout as sleep, setImmediate as yieldNow } from 'node:timers/promises';
import type { Command } from 'commander';
import { Consumer, type ConsumerBatch } from '../../client/consumer/index.js';
import type { ProducerRecord } from '../../client/producer/index.js';
import { collect, intArg, parseKeyValues, unwrap, withAdmin } from '../support/admin.js';
import {
  addCommonOptions,
  type ClientSettings,
  type CommonOptions,
  runCommand,
} from '../support/connection-options.js';
import { applyConsumerProperties, type ConsumerSettings, warnUnknownConsumerProperties } from '../support/consumer.js';
import { CommandError, describeFailure, UsageError } from '../support/errors.js';
import { print, renderTable } from '../support/output.js';
import { acksArg, openProducer } from '../support/producer.js';

const MIB = 1024 * 1024;
const IN_FLIGHT_BYTES = 32 * MIB;
const YIELD_BYTES = 64 * 1024;

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

async function partitionsOf(s: ClientSettings, topic: string): Promise<number[]> {
  try {
    return await withAdmin(s, async (admin) => {
      const [t] = await admin.describeTopics([topic]);
      return (t?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b);
    });
  } catch (e) {
    throw unwrap(e);
  }
}

function consumerSettings(pairs: readonly string[]): ConsumerSettings {
  const settings: ConsumerSettings = {};
  warnUnknownConsumerProperties(applyConsumerProperties(parseKeyValues(pairs, '--consumer-property'), settings));
  return settings;
}

function newConsumer(s: ClientSettings, settings: ConsumerSettings, group: string | undefined): Consumer {
  return new Consumer({
    clientId: s.clientId,
    requestTimeoutMs: s.requestTimeoutMs,
    autoOffsetReset: 'earliest',
    ...settings,
    ...(group === undefined ? {} : { groupId: group }),
    bootstrapServers: s.bootstrapServers,
  });
}

// ---- bench consume ------------------------------------------------------------------------------------------------

interface BenchConsumeOptions extends CommonOptions {
  topic?: string;
  messages?: number;
  group?: string;
  timeout: number;
  consumerProperty: string[];
}

export interface BenchConsumeResult {
  topic: string;
  records: number;
  mb: number;
  mbPerSec: number;
  recordsPerSec: number;
  firstRecordMs: number;
  seconds: number;
}

export function registerBenchConsume(bench: Command): void {
  addCommonOptions(
    bench
      .command('consume')
      .description("consume throughput, like kafka-consumer-perf-test (its flags' names)")
      .option('--topic <topic>', 'the topic to read')
      .option('--messages <n>', 'how many records to read', intArg(1))
      .option('--group <id>', 'read as a member of this group (default: no group, every partition from the start)')
      .option('--timeout <ms>', 'give up after this long without a record', intArg(1), 10_000)
      .option('--consumer-property <name=value>', 'any Kafka consumer property (repeatable)', collect, []),
  ).action((opts: BenchConsumeOptions) =>
    runCommand(opts, async (s) => {
      if (opts.topic === undefined) throw new UsageError('--topic is required');
      if (opts.messages === undefined) throw new UsageError('--messages is required');
      const topic = opts.topic;
      const total = opts.messages;
      const settings = consumerSettings(opts.consumerProperty);
      const partitions = await partitionsOf(s, topic);
      const consumer = newConsumer(s, settings, opts.group);
      const controller = new AbortController();
      let records = 0;
      let bytes = 0;
      let firstAt = 0;
      let timedOut = false;
      const started = performance.now();
      const idle = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, opts.timeout);
      const eachBatch = (batch: ConsumerBatch): void => {
        if (records === 0) firstAt = performance.now();
        idle.refresh();
        const msgs = batch.messages;
        const take = Math.min(msgs.length, total - records);
        for (let i = 0; i < take; i++) {
          const m = msgs[i]!;
          bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
        }
        records += take;
        if (records >= total) controller.abort();
      };
      try {
        await consumer.connect();
        if (opts.group === undefined) {
          consumer.assign(partitions.map((partition) => ({ topic, partition })));
          consumer.seekToBeginning();
        } else consumer.subscribe([topic]);
        await consumer.consume({ eachBatch, signal: controller.signal });
      } catch (e) {
        const { line, exitCode } = describeFailure(e, s.bootstrapServers);
        throw new CommandError(`${line} (after ${records} records)`, exitCode);
      } finally {
        clearTimeout(idle);
        await consumer.close().catch(() => {});
      }
      const ended = performance.now();
      if (timedOut) {
        process.stderr.write(
          `samsa: warning: exiting before consuming the expected number of messages: no record for ${opts.timeout} ms\n`,
        );
      }
      const fetchSeconds = records === 0 ? 0 : (ended - firstAt) / 1000;
      const mb = bytes / MIB;
      const r: BenchConsumeResult = {
        topic,
        records,
        mb: round(mb, 3),
        mbPerSec: round(fetchSeconds > 0 ? mb / fetchSeconds : 0),
        recordsPerSec: round(fetchSeconds > 0 ? records / fetchSeconds : 0, 1),
        firstRecordMs: round(records === 0 ? 0 : firstAt - started, 1),
        seconds: round((ended - started) / 1000, 3),
      };
      print(s.output, r, () =>
        renderTable(
          ['RECORDS', 'MB', 'MB/S', 'RECORDS/S', 'FIRST RECORD MS', 'SECONDS'],
          [
            [
              r.records,
              r.mb.toFixed(2),
              r.mbPerSec.toFixed(2),
              r.recordsPerSec.toFixed(1),
              r.firstRecordMs.toFixed(1),
              r.seconds.toFixed(2),
            ],
          ],
        ),
      );
    }),
  );
}

// ---- bench e2e ----------------------------------------------------------------------------------------------------

interface BenchE2eOptions extends CommonOptions {
  topic?: string;
  numRecords?: number;
  recordSize?: number;
  throughput: number;
  acks?: ReturnType<typeof acksArg>;
  lingerMs: number;
  timeout: number;
  consumerProperty: string[];
}

export interface BenchE2eResult {
  topic: string;
  records: number;
  recordSize: number;
  seconds: number;
  recordsPerSec: number;
  latencyMs: { avg: number; p50: number; p95: number; p99: number; p999: number; max: number };
}

export function registerBenchE2e(bench: Command): void {
  addCommonOptions(
    bench
      .command('e2e')
      .description('end-to-end latency: produce and consume in one process, from send to receipt')
      .option('--topic <topic>', 'the topic (its existing messages are skipped)')
      .option('--num-records <n>', 'how many records', intArg(1))
      .option('--record-size <bytes>', 'bytes per record value (at least 8: the send time)', intArg(8))
      .option('--throughput <n>', 'at most n records/s; -1: as fast as possible', intArg(-1), -1)
      .option('--acks <acks>', '0, 1 or all (default all)', acksArg)
      .option('--linger-ms <ms>', "the producer's linger.ms", intArg(0), 0)
      .option('--timeout <ms>', 'give up after this long without a record', intArg(1), 30_000)
      .option('--consumer-property <name=value>', 'any Kafka consumer property (repeatable)', collect, []),
  ).action((opts: BenchE2eOptions) =>
    runCommand(opts, async (s) => {
      if (opts.topic === undefined) throw new UsageError('--topic is required');
      if (opts.numRecords === undefined) throw new UsageError('--num-records is required');
      if (opts.recordSize === undefined) throw new UsageError('--record-size is required');
      if (opts.throughput === 0) throw new UsageError('--throughput must be positive, or -1 for no limit');
      const topic = opts.topic;
      const total = opts.numRecords;
      const size = opts.recordSize;
      const partitions = await partitionsOf(s, topic);
      const consumer = newConsumer(s, consumerSettings(opts.consumerProperty), undefined);
      const producer = await openProducer(s, {
        lingerMs: opts.lingerMs,
        ...(opts.acks === undefined ? {} : { acks: opts.acks }),
      });
      const latencies = new Float64Array(total);
      let received = 0;
      let latencySum = 0;
      let failure: Error | null = null;
      const controller = new AbortController();
      let wake: (() => void) | null = null;
      const maxInFlight = Math.max(1, Math.floor(IN_FLIGHT_BYTES / size));
      const wakeUp = (): void => {
        const w = wake;
        wake = null;
        w?.();
      };
      const idle = setTimeout(() => {
        failure ??= new CommandError(`no record for ${opts.timeout} ms (after ${received} of ${total})`);
        controller.abort();
        wakeUp();
      }, opts.timeout);
      const eachBatch = (batch: ConsumerBatch): void => {
        const now = performance.now();
        idle.refresh();
        for (const m of batch.messages) {
          if (received >= total || m.value === null || m.value.length < 8) continue;
          const latency = now - m.value.readDoubleLE(0);
          latencies[received++] = latency;
          latencySum += latency;
        }
        if (received >= total) controller.abort();
        if (wake !== null && total - received < maxInFlight) wakeUp();
      };
      let started = 0;
      try {
        await consumer.connect();
        const tps = partitions.map((partition) => ({ topic, partition }));
        consumer.assign(tps);
        consumer.seekToEnd();
        // Placed before the first send, so every record sent is received.
        await Promise.all(tps.map((tp) => consumer.position(tp.topic, tp.partition)));
        const consuming = consumer.consume({ eachBatch, signal: controller.signal });
        consuming.catch(() => {});
        started = performance.now();
        const yieldEvery = Math.max(1, Math.floor(YIELD_BYTES / size));
        for (let i = 0; i < total && failure === null; i++) {
          // Each record gets a value of its own: the send time is written into it.
          const value = Buffer.alloc(size, 65);
          value.writeDoubleLE(performance.now(), 0);
          const record: ProducerRecord = { topic, value };
          producer.send(record).catch((e: Error) => {
            failure ??= e;
            controller.abort();
            wakeUp();
          });
          if (opts.throughput > 0) {
            const ahead = ((i + 1) / opts.throughput) * 1000 - (performance.now() - started);
            if (ahead >= 1) await sleep(ahead);
          }
          if (i + 1 - received >= maxInFlight) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          } else if ((i + 1) % yieldEvery === 0) await yieldNow();
        }
        await consuming;
        if (failure !== null) throw failure;
      } catch (e) {
        const { line, exitCode } = describeFailure(e, s.bootstrapServers);
        throw new CommandError(`${line} (after ${received} records)`, exitCode);
      } finally {
        clearTimeout(idle);
        await producer.close().catch(() => {});
        await consumer.close().catch(() => {});
      }
      const seconds = (performance.now() - started) / 1000;
      const sorted = latencies.subarray(0, received).sort();
      const at = (p: number): number =>
        sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
      const r: BenchE2eResult = {
        topic,
        records: received,
        recordSize: size,
        seconds: round(seconds, 3),
        recordsPerSec: round(received / seconds, 1),
        latencyMs: {
          avg: round(received === 0 ? 0 : latencySum / received),
          p50: round(at(0.5)),
          p95: round(at(0.95)),
          p99: round(at(0.99)),
          p999: round(at(0.999)),
          max: round(sorted.length === 0 ? 0 : sorted[sorted.length - 1]!),
        },
      };
      print(s.output, r, () =>
        renderTable(
          ['RECORDS', 'RECORDS/S', 'AVG MS', 'P50 MS', 'P95 MS', 'P99 MS', 'P99.9 MS', 'MAX MS'],
          [
            [
              r.records,
              r.recordsPerSec.toFixed(1),
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
    }),
  );
}
