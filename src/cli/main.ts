#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('samsa')
  .description('An Apache Kafka-compatible event streaming platform for Node.js')
  .version(pkg.version);

program
  .command('start')
  .description('start a broker (single node, embedded metadata, localhost:9092)')
  .action(() => {
    // The broker itself lands with the single-node broker work; until then `start` says so and shows what exists.
    console.log('samsa: the broker is not part of this build yet; the protocol layer is.\n');
    program.outputHelp();
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`samsa: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
