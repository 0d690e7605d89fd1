/**
 * `samsa bench`: load tests against a running cluster, in the manner of Kafka's perf-test tools. Each kind of test
 * is a subcommand in a file of its own: `bench produce` (bench-produce.ts, kafka-producer-perf-test). Consumer
 * tests (`bench consume`, `bench e2e`) come with the Consumer and register here the same way.
 */
import type { Command } from 'commander';
import { registerBenchProduce } from './bench-produce.js';

export function registerBench(program: Command): Command {
  const bench = program
    .command('bench')
    .description('load tests against a cluster: produce (like kafka-producer-perf-test)');
  registerBenchProduce(bench);
  return bench;
}
