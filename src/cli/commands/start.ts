/**
 * `samsa start`: runs one broker in this process until SIGTERM or SIGINT, then shuts down cleanly (flush,
 * checkpoints, clean-shutdown marker). Settings come, lowest first, from Kafka's defaults, a server.properties file
 * (`--config`), SAMSA_* environment variables and flags (`--override key=value` for any Kafka setting). With no
 * arguments: node 1 on localhost:9092 with data in ./samsa-data.
 */
import type { Command } from 'commander';
import { Broker } from '../../broker/broker.js';
import { ConfigError, loadBrokerConfig } from '../../broker/config/broker-config.js';
import { createLogger, type LogFormat } from '../../log/logger.js';

interface StartOptions {
  config?: string;
  nodeId?: string;
  listeners?: string;
  advertisedListeners?: string;
  logDirs?: string;
  zookeeper?: string;
  override: string[];
  logFormat: string;
  logLevel?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start a broker (single node, embedded metadata; localhost:9092, data in ./samsa-data by default)')
    .option('-c, --config <file>', 'a server.properties file')
    .option('--node-id <id>', 'node.id (alias broker.id)')
    .option('--listeners <list>', 'listeners, e.g. PLAINTEXT://localhost:9092')
    .option('--advertised-listeners <list>', 'advertised.listeners')
    .option('--log-dirs <dirs>', 'log.dirs, comma separated')
    .option('--zookeeper <connect>', 'zookeeper.connect (host:port[/chroot]): join the cluster coordinated there')
    .option('-o, --override <key=value>', 'any broker setting by its Kafka name (repeatable)', collect, [])
    .option('--log-format <format>', 'text or json', 'text')
    .option('--log-level <level>', 'trace, debug, info, warn, error')
    .action(async (opts: StartOptions) => {
      const overrides: Record<string, string> = {};
      for (const kv of opts.override) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new ConfigError(`--override expects key=value, got '${kv}'`);
        overrides[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
      }
      if (opts.nodeId !== undefined) overrides['node.id'] = opts.nodeId;
      if (opts.listeners !== undefined) overrides.listeners = opts.listeners;
      if (opts.advertisedListeners !== undefined) overrides['advertised.listeners'] = opts.advertisedListeners;
      if (opts.logDirs !== undefined) overrides['log.dirs'] = opts.logDirs;
      if (opts.zookeeper !== undefined) overrides['zookeeper.connect'] = opts.zookeeper;
      if (opts.logFormat !== 'text' && opts.logFormat !== 'json') {
        throw new ConfigError(`--log-format must be text or json, got '${opts.logFormat}'`);
      }
      const config = loadBrokerConfig({
        ...(opts.config === undefined ? {} : { file: opts.config }),
        env: process.env,
        overrides,
      });
      const logger = createLogger({
        format: opts.logFormat as LogFormat,
        ...(opts.logLevel === undefined ? {} : { level: opts.logLevel }),
      });
      const broker = await Broker.start(config, logger);
      let signals = 0;
      const shutdown = (signal: string) => {
        signals++;
        if (signals > 1) {
          logger.warn({ signal }, 'second signal: exiting without a clean shutdown');
          process.exit(1);
        }
        logger.info({ signal }, 'shutting down');
        broker.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err: (err as Error).message }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    });
}
