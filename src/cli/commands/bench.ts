/**
 * `samsa bench`: load tests against a running cluster, in the manner of Kafka's perf-test tools. Each kind of test
 * is a subcommand in a file of its own: `bench produce` (bench-produce.ts, kafka-producer-perf-test), `bench consume`
 * (kafka-consumer-perf-test) and `bench e2e` (end-to-end latency through the Producer and the Consumer), both in
 * bench-consume.ts.
 */
import type { Command } from 'commander';
import { registerBenchConsume, registerBenchE2e } from './bench-consume.js';
import { registerBenchProduce } from './bench-produce.js';

export function registerBench(program: Command): Command {
  const bench = program
    .command('bench')
    .description(
      'load tests against a cluster: produce and consume (like kafka-producer-perf-test and kafka-consumer-perf-test), e2e latency',
    );
  registerBenchProduce(bench);
  registerBenchConsume(bench);
  registerBenchE2e(bench);
  return bench;
}
