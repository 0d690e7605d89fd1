/**
 * What the producing commands (`produce`, `console-producer`, `bench produce`) share: flag parsers for acks and
 * codecs, Kafka's producer property names (`--producer-property acks=all`, a `--producer.config` file) turned into
 * the Producer's options, and a Producer opened from the common options and connected first, so that an unreachable
 * cluster fails before any input is read, with the usual line and exit status 3.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { Acks, CompressionType, ProducerOptions } from '../../client/producer/index.js';
import { Producer } from '../../client/producer/index.js';
import {
  applyProperties,
  booleanProperty,
  CONNECTION_PROPERTIES,
  integerProperty,
  type PropertySetter,
} from './client-properties.js';
import type { ClientSettings } from './connection-options.js';
import { UsageError } from './errors.js';

export const CODECS: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function parseAcks(value: string): Acks | null {
  const v = value.trim().toLowerCase();
  if (v === 'all' || v === '-1') return 'all';
  if (v === '0') return 0;
  if (v === '1') return 1;
  return null;
}

/** `--acks 0|1|all` (-1 is all). */
export function acksArg(value: string): Acks {
  const acks = parseAcks(value);
  if (acks === null) throw new InvalidArgumentError('must be 0, 1, all or -1.');
  return acks;
}

/** `--compression none|gzip|snappy|lz4|zstd`. */
export function compressionArg(value: string): CompressionType {
  const v = value.trim().toLowerCase();
  if (!(CODECS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${CODECS.join(', ')}.`);
  return v as CompressionType;
}

/** The Producer options a command may set (bootstrap servers and client id come from the common options). */
export type ProducerSettings = Omit<ProducerOptions, 'bootstrapServers' | 'keySerializer' | 'valueSerializer'>;

/** Kafka's producer properties this client has, by Kafka name. */
const PROPERTIES: Record<string, PropertySetter<ProducerSettings>> = {
  ...CONNECTION_PROPERTIES,
  acks: (v, o) => {
    const acks = parseAcks(v);
    if (acks === null) throw new UsageError(`acks must be 0, 1, all or -1, got '${v}'`);
    o.acks = acks;
  },
  'linger.ms': (v, o) => {
    o.lingerMs = integerProperty('linger.ms', v, 0);
  },
  'batch.size': (v, o) => {
    o.batchSize = Math.max(1, integerProperty('batch.size', v, 0));
  },
  'compression.type': (v, o) => {
    const c = v.trim().toLowerCase();
    if (!(CODECS as readonly string[]).includes(c)) {
      throw new UsageError(`compression.type must be one of ${CODECS.join(', ')}, got '${v}'`);
    }
    o.compression = c as CompressionType;
  },
  'compression.gzip.level': (v, o) => {
    o.compressionLevel = integerProperty('compression.gzip.level', v, 1);
  },
  'compression.zstd.level': (v, o) => {
    o.compressionLevel = integerProperty('compression.zstd.level', v, 1);
  },
  retries: (v, o) => {
    o.retries = integerProperty('retries', v, 0);
  },
  'retry.backoff.max.ms': (v, o) => {
    o.retryBackoffMaxMs = integerProperty('retry.backoff.max.ms', v, 0);
  },
  'delivery.timeout.ms': (v, o) => {
    o.deliveryTimeoutMs = integerProperty('delivery.timeout.ms', v, 0);
  },
  'max.block.ms': (v, o) => {
    o.maxBlockMs = integerProperty('max.block.ms', v, 0);
  },
  'max.request.size': (v, o) => {
    o.maxRequestSize = integerProperty('max.request.size', v, 1);
  },
  'max.in.flight.requests.per.connection': (v, o) => {
    o.maxInFlightRequestsPerConnection = integerProperty('max.in.flight.requests.per.connection', v, 1);
  },
  'enable.idempotence': (v, o) => {
    o.enableIdempotence = booleanProperty('enable.idempotence', v);
  },
};

/** Properties that are fine to pass but change nothing here (the client has no such setting or needs none). */
const ACCEPTED = new Set([
  // --bootstrap-server says where the cluster is.
  'bootstrap.servers',
  'key.serializer',
  'value.serializer',
  'buffer.memory',
  'send.buffer.bytes',
  'receive.buffer.bytes',
  'partitioner.class',
  'partitioner.ignore.keys',
]);

/**
 * Applies Kafka producer properties (`name=value`) to `into`; returns the names this client does not know (the
 * caller warns about them, as Kafka's tools warn about unused configs).
 */
export function applyProducerProperties(props: Record<string, string>, into: ProducerSettings): string[] {
  return applyProperties(props, into, PROPERTIES, ACCEPTED);
}

/** A Java properties file: `name=value` (or `name: value`) lines, `#` and `!` comments. */
export function readPropertiesFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m === null) out[line] = '';
    else out[m[1]!] = m[2]!;
  }
  return out;
}

/** A connected Producer for a command (connected first: no broker answering fails here, exit status 3). */
export async function openProducer(s: ClientSettings, settings: ProducerSettings): Promise<Producer> {
  const producer = new Producer({
    clientId: s.clientId,
    requestTimeoutMs: s.requestTimeoutMs,
    // Commands fail fast when the cluster is away rather than waiting out Kafka's long default.
    maxBlockMs: 30_000,
    ...settings,
    bootstrapServers: s.bootstrapServers,
  });
  try {
    await producer.connect();
  } catch (e) {
    await producer.close().catch(() => {});
    throw e;
  }
  return producer;
}
