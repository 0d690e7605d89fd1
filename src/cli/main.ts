#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerStart } from './commands/start.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('samsa')
  .description('An Apache Kafka-compatible event streaming platform for Node.js')
  .version(pkg.version);

registerStart(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`samsa: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
