/**
 * `startBroker()`: a broker inside the calling process, for tests of Kafka code without a JVM or a container. By
 * default it listens on a free loopback port with a fresh temporary data directory, which `stop()` removes.
 *
 *     const kafka = await startBroker();
 *     // ... point any Kafka client at kafka.bootstrap ...
 *     await kafka.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../log/logger.js';
import { Broker } from './broker.js';
import { loadBrokerConfig } from './config/broker-config.js';

export interface StartBrokerOptions {
  /** Data directory (log.dirs); default: a new temporary directory removed by stop(). */
  dataDir?: string;
  /** Port to listen on; default 0 (a free port). */
  port?: number;
  /** Host to bind and advertise; default 127.0.0.1. */
  host?: string;
  /** Any broker settings by their Kafka names, e.g. { 'num.partitions': '3' }. */
  config?: Record<string, string>;
  logger?: Logger;
}

export interface StartedBroker {
  /** `host:port`, ready for bootstrap.servers / brokers. */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly broker: Broker;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<StartedBroker> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'samsa-'));
  const host = options.host ?? '127.0.0.1';
  const config = loadBrokerConfig({
    env: {},
    overrides: {
      listeners: `PLAINTEXT://${host}:${options.port ?? 0}`,
      'log.dirs': dataDir,
      ...options.config,
    },
  });
  let broker: Broker;
  try {
    broker = await Broker.start(config, options.logger ?? silentLogger);
  } catch (err) {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const l = broker.listeners[0]!;
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= broker.stop().finally(() => {
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    });
    return stopped;
  };
  return {
    bootstrap: broker.bootstrap,
    host: l.advertisedHost,
    port: l.advertisedPort,
    dataDir,
    broker,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
