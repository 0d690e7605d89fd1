#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerCluster } from './commands/cluster.js';
import { registerConsoleConsumer, registerConsume } from './commands/consume.js';
import { registerDevCluster } from './commands/dev-cluster.js';
import { registerGroup } from './commands/group.js';
import { registerKafkaConsumerGroups, registerKafkaTopics } from './commands/kafka-tools.js';
import { registerConsoleProducer, registerProduce } from './commands/produce.js';
import { registerStart } from './commands/start.js';
import { registerTopic } from './commands/topic.js';
import { ExitCode } from './support/exit-codes.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('samsa')
  .description('An Apache Kafka-compatible event streaming platform for Node.js')
  .version(pkg.version)
  // Usage errors (unknown option, missing argument) exit with 2, as the exit-code table says.
  .exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(ExitCode.OK);
    process.exit(err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
  });

registerStart(program);
registerCluster(program);
registerDevCluster(program);
registerTopic(program);
registerGroup(program);
registerProduce(program);
registerConsume(program);
registerKafkaTopics(program);
registerKafkaConsumerGroups(program);
registerConsoleProducer(program);
registerConsoleConsumer(program);
registerBench(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`samsa: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
