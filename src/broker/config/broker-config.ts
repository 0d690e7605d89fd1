/**
 * Loads the broker configuration from, in increasing precedence: Kafka-compatible defaults, a `server.properties`
 * style file, SAMSA_* environment variables and command-line overrides. Every value is validated up front so that a
 * bad setting stops the broker at startup with a one-line ConfigError.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { BROKER_DEFS, BROKER_DEFS_BY_NAME } from './broker-definitions.js';
import { ConfigError } from './errors.js';
import { PropertiesSyntaxError, parseProperties } from './properties.js';
import { brokerValue, buildSettings, checkKey, expectation } from './resolve.js';
import type { TopicSettings } from './topic-config.js';
import { type ConfigValue, formatValue, toNumber } from './value-types.js';

export { ConfigError } from './errors.js';

export type ConfigSource = 'default' | 'file' | 'env' | 'flag' | 'dynamic';

export interface ListenerConfig {
  name: string;
  host: string;
  port: number;
  securityProtocol: string;
}

export interface ConfigEntry {
  value: string | null;
  source: ConfigSource;
}

export interface BrokerConfig {
  /** `node.id` (alias `broker.id`). */
  nodeId: number;
  /** `listeners`; host '' means every interface, port 0 an ephemeral port. */
  listeners: ListenerConfig[];
  /** `advertised.listeners`, else the listeners with wildcard hosts replaced by os.hostname(). */
  advertisedListeners: ListenerConfig[];
  /** `log.dirs`, else `log.dir`; as given, the caller resolves relative paths. */
  logDirs: string[];
  numPartitions: number;
  defaultReplicationFactor: number;
  autoCreateTopicsEnable: boolean;
  deleteTopicEnable: boolean;
  messageMaxBytes: number;
  socketRequestMaxBytes: number;
  connectionsMaxIdleMs: number;
  maxConnections: number;
  brokerRack: string | null;
  replicaLagTimeMaxMs: number;
  replicaFetchWaitMaxMs: number;
  replicaFetchMaxBytes: number;
  replicaFetchResponseMaxBytes: number;
  controlledShutdownEnable: boolean;
  controlledShutdownMaxRetries: number;
  controlledShutdownRetryBackoffMs: number;
  autoLeaderRebalanceEnable: boolean;
  leaderImbalanceCheckIntervalMs: number;
  leaderImbalancePerBrokerPercentage: number;
  /** `zookeeper.connect`: cluster mode when set. */
  zookeeperConnect: string | null;
  zookeeperSessionTimeoutMs: number;
  zookeeperConnectionTimeoutMs: number;
  /** `samsa.cluster.id`; null when the caller should generate one at first start. */
  clusterId: string | null;
  offsetsTopicNumPartitions: number;
  offsetsTopicReplicationFactor: number;
  /** `offsets.retention.minutes` in milliseconds. */
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  logFlushOffsetCheckpointIntervalMs: number;
  logRetentionCheckIntervalMs: number;
  logCleanerEnable: boolean;
  logCleanerThreads: number;
  logCleanerBackoffMs: number;
  logCleanerDedupeBufferSize: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  consumerGroupSessionTimeoutMs: number;
  consumerGroupHeartbeatIntervalMs: number;
  consumerGroupMaxSize: number;
  consumerGroupAssignors: readonly string[];
  /** `producer.id.expiration.ms`: idle producer ids are dropped from the partitions' producer state after this. */
  producerIdExpirationMs: number;
  /** `producer.id.expiration.check.interval.ms` */
  producerIdExpirationCheckIntervalMs: number;
  /** Broker-side cap on a fetch response. */
  fetchMaxBytes: number;
  maxIncrementalFetchSessionCacheSlots: number;
  /** The broker-level defaults of every topic config (from the log.* keys and the like). */
  logDefaults: TopicSettings;
  /** Every known key with its effective value (null when unset) and origin, plus unknown keys that were given. */
  entries: ReadonlyMap<string, ConfigEntry>;
  /** Keys given in the file or overrides that the broker does not know; kept in `entries`, otherwise ignored. */
  unknownKeys: string[];
}

export interface LoadOptions {
  /** Path of a Java properties file. */
  file?: string;
  /** Environment to read SAMSA_* variables from; process.env when omitted. */
  env?: Record<string, string | undefined>;
  /** Command-line flags, by key. */
  overrides?: Record<string, string>;
}

const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);
const LISTENER_RE = /^([A-Za-z0-9_-]+):\/\/(?:\[([0-9A-Za-z:.%]*)\]|([0-9A-Za-z.%_-]*)):(\d+)$/;

/**
 * SAMSA_ + key upper-cased with dots as underscores; samsa's own `samsa.*` keys may also drop their prefix
 * (SAMSA_CLUSTER_ID for samsa.cluster.id). Listed short form first so that the full form wins when both are set.
 */
const ENV_KEYS: ReadonlyArray<readonly [string, string]> = BROKER_DEFS.flatMap((def) => {
  const envName = (key: string) => `SAMSA_${key.toUpperCase().replaceAll('.', '_')}`;
  const names = def.name.startsWith('samsa.') ? [envName(def.name.slice(6)), envName(def.name)] : [envName(def.name)];
  return names.map((n) => [n, def.name] as const);
});

interface Given {
  raw: string;
  source: ConfigSource;
}

export function loadBrokerConfig(options: LoadOptions = {}): BrokerConfig {
  const given = new Map<string, Given>();
  if (options.file !== undefined) {
    for (const [key, raw] of readPropertiesFile(options.file)) given.set(key, { raw, source: 'file' });
  }
  const env = options.env ?? process.env;
  for (const [envName, key] of ENV_KEYS) {
    const raw = env[envName];
    // Empty variables are common in container setups and mean "not set", not "set to nothing".
    if (raw !== undefined && raw !== '') given.set(key, { raw, source: 'env' });
  }
  for (const [key, raw] of Object.entries(options.overrides ?? {})) given.set(key, { raw, source: 'flag' });

  const entries = new Map<string, ConfigEntry>();
  const values = new Map<string, ConfigValue | null>();
  for (const def of BROKER_DEFS) {
    const g = given.get(def.name);
    const blank = g !== undefined && g.raw.trim() === '' && def.default === null;
    if (g === undefined || blank) {
      entries.set(def.name, { value: def.default, source: g?.source ?? 'default' });
      values.set(def.name, def.default === null ? null : (checkKey(def, def.default) as { value: ConfigValue }).value);
      continue;
    }
    const checked = checkKey(def, g.raw);
    if (!checked.ok) throw new ConfigError(`${def.name}: expected ${expectation(def)}, got '${g.raw}'`);
    entries.set(def.name, { value: formatValue(def.type, checked.value), source: g.source });
    values.set(def.name, checked.value);
  }
  const unknownKeys = [...given.keys()].filter((key) => !BROKER_DEFS_BY_NAME.has(key));
  for (const key of unknownKeys) entries.set(key, { value: given.get(key)!.raw, source: given.get(key)!.source });

  const num = (key: string): number => toNumber(values.get(key)!);
  const bool = (key: string): boolean => values.get(key) === true;
  const str = (key: string): string | null => (values.get(key) as string | null) || null;
  const list = (key: string): readonly string[] | null => values.get(key) as readonly string[] | null;

  const nodeId = resolveNodeId(entries, values);
  const protocols = parseProtocolMap(str('listener.security.protocol.map') ?? '');
  const listeners = parseListeners('listeners', list('listeners') ?? [], protocols, true);
  const advertised = list('advertised.listeners');
  const advertisedListeners =
    advertised === null ? listeners.map(advertise) : parseAdvertised(advertised, listeners, protocols);
  const logDirs = [...(list('log.dirs') ?? [str('log.dir') ?? ''])];
  if (logDirs.length === 0 || logDirs.some((d) => d === '')) {
    throw new ConfigError(
      `log.dirs: expected a comma-separated list of directories, got '${entries.get('log.dirs')?.value ?? ''}'`,
    );
  }

  return {
    nodeId,
    listeners,
    advertisedListeners,
    logDirs,
    numPartitions: num('num.partitions'),
    defaultReplicationFactor: num('default.replication.factor'),
    autoCreateTopicsEnable: bool('auto.create.topics.enable'),
    deleteTopicEnable: bool('delete.topic.enable'),
    messageMaxBytes: num('message.max.bytes'),
    socketRequestMaxBytes: num('socket.request.max.bytes'),
    connectionsMaxIdleMs: num('connections.max.idle.ms'),
    maxConnections: num('max.connections'),
    brokerRack: str('broker.rack'),
    replicaLagTimeMaxMs: num('replica.lag.time.max.ms'),
    replicaFetchWaitMaxMs: num('replica.fetch.wait.max.ms'),
    replicaFetchMaxBytes: num('replica.fetch.max.bytes'),
    replicaFetchResponseMaxBytes: num('replica.fetch.response.max.bytes'),
    controlledShutdownEnable: bool('controlled.shutdown.enable'),
    controlledShutdownMaxRetries: num('controlled.shutdown.max.retries'),
    controlledShutdownRetryBackoffMs: num('controlled.shutdown.retry.backoff.ms'),
    autoLeaderRebalanceEnable: bool('auto.leader.rebalance.enable'),
    leaderImbalanceCheckIntervalMs: num('leader.imbalance.check.interval.seconds') * 1000,
    leaderImbalancePerBrokerPercentage: num('leader.imbalance.per.broker.percentage'),
    zookeeperConnect: str('zookeeper.connect'),
    zookeeperSessionTimeoutMs: num('zookeeper.session.timeout.ms'),
    zookeeperConnectionTimeoutMs:
      values.get('zookeeper.connection.timeout.ms') === null
        ? num('zookeeper.session.timeout.ms')
        : num('zookeeper.connection.timeout.ms'),
    clusterId: str('samsa.cluster.id'),
    offsetsTopicNumPartitions: num('offsets.topic.num.partitions'),
    offsetsTopicReplicationFactor: num('offsets.topic.replication.factor'),
    offsetsRetentionMs: num('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: num('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: num('offset.metadata.max.bytes'),
    logFlushOffsetCheckpointIntervalMs: num('log.flush.offset.checkpoint.interval.ms'),
    logRetentionCheckIntervalMs: num('log.retention.check.interval.ms'),
    logCleanerEnable: bool('log.cleaner.enable'),
    logCleanerThreads: num('log.cleaner.threads'),
    logCleanerBackoffMs: num('log.cleaner.backoff.ms'),
    logCleanerDedupeBufferSize: num('log.cleaner.dedupe.buffer.size'),
    groupInitialRebalanceDelayMs: num('group.initial.rebalance.delay.ms'),
    groupMinSessionTimeoutMs: num('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: num('group.max.session.timeout.ms'),
    groupMaxSize: num('group.max.size'),
    ...consumerGroupSettings(num, list),
    producerIdExpirationMs: num('producer.id.expiration.ms'),
    producerIdExpirationCheckIntervalMs: num('producer.id.expiration.check.interval.ms'),
    fetchMaxBytes: num('fetch.max.bytes'),
    maxIncrementalFetchSessionCacheSlots: num('max.incremental.fetch.session.cache.slots'),
    logDefaults: buildSettings((def) => brokerValue(def, entries)),
    entries,
    unknownKeys,
  };
}

/** The KIP-848 group settings, checked against their bounds the way Kafka checks them at startup. */
function consumerGroupSettings(num: (key: string) => number, list: (key: string) => readonly string[] | null) {
  const within = (key: string, min: string, max: string): number => {
    const value = num(key);
    if (value < num(min)) throw new ConfigError(`${key}: must be at least ${min} (${num(min)}), got ${value}`);
    if (value > num(max)) throw new ConfigError(`${key}: must be at most ${max} (${num(max)}), got ${value}`);
    return value;
  };
  const session = within(
    'group.consumer.session.timeout.ms',
    'group.consumer.min.session.timeout.ms',
    'group.consumer.max.session.timeout.ms',
  );
  const heartbeat = within(
    'group.consumer.heartbeat.interval.ms',
    'group.consumer.min.heartbeat.interval.ms',
    'group.consumer.max.heartbeat.interval.ms',
  );
  if (heartbeat >= session) {
    throw new ConfigError(
      `group.consumer.heartbeat.interval.ms: must be less than group.consumer.session.timeout.ms (${session}), got ${heartbeat}`,
    );
  }
  const assignors = list('group.consumer.assignors') ?? [];
  const known = ['uniform', 'range'];
  const unknown = assignors.filter((a) => !known.includes(a));
  if (assignors.length === 0 || unknown.length > 0) {
    throw new ConfigError(
      `group.consumer.assignors: expected a list of ${known.join(', ')}, got '${assignors.join(',')}'`,
    );
  }
  return {
    consumerGroupSessionTimeoutMs: session,
    consumerGroupHeartbeatIntervalMs: heartbeat,
    consumerGroupMaxSize: num('group.consumer.max.size'),
    consumerGroupAssignors: assignors,
  };
}

function readPropertiesFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file: ${(err as Error).message}`);
  }
  try {
    return parseProperties(text);
  } catch (err) {
    if (err instanceof PropertiesSyntaxError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}

/** node.id and its older name broker.id must agree; both entries report the id in effect. */
function resolveNodeId(entries: Map<string, ConfigEntry>, values: Map<string, ConfigValue | null>): number {
  const node = entries.get('node.id')!;
  const broker = entries.get('broker.id')!;
  const brokerId = values.get('broker.id') as number | null;
  if (brokerId === null) {
    entries.set('broker.id', { value: node.value, source: node.source });
    return values.get('node.id') as number;
  }
  if (node.source === 'default') {
    entries.set('node.id', { value: broker.value, source: broker.source });
    return brokerId;
  }
  if (brokerId !== values.get('node.id')) {
    throw new ConfigError(`broker.id: must equal node.id (${node.value}) when both are set, got '${broker.value}'`);
  }
  return brokerId;
}

function parseProtocolMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const match = /^([A-Za-z0-9_-]+)\s*:\s*([A-Za-z_]+)$/.exec(item);
    const protocol = match ? match[2]!.toUpperCase() : '';
    if (!match || !SECURITY_PROTOCOLS.includes(protocol)) {
      throw new ConfigError(
        `listener.security.protocol.map: expected NAME:PROTOCOL pairs with a protocol among ${SECURITY_PROTOCOLS.join(', ')}, got '${item}'`,
      );
    }
    map.set(match[1]!.toUpperCase(), protocol);
  }
  return map;
}

function parseListeners(
  key: string,
  items: readonly string[],
  protocols: ReadonlyMap<string, string>,
  distinctPorts: boolean,
): ListenerConfig[] {
  if (items.length === 0) throw new ConfigError(`${key}: expected at least one NAME://host:port listener`);
  const result: ListenerConfig[] = [];
  for (const item of items) {
    const match = LISTENER_RE.exec(item);
    const port = Number(match?.[4]);
    if (!match || port > 65535) throw new ConfigError(`${key}: expected NAME://host:port, got '${item}'`);
    // Kafka treats listener names case-insensitively by upper-casing them.
    const name = match[1]!.toUpperCase();
    const securityProtocol = protocols.get(name);
    if (securityProtocol === undefined) {
      throw new ConfigError(
        `${key}: no security protocol for listener ${name}; map it in listener.security.protocol.map`,
      );
    }
    if (result.some((l) => l.name === name)) throw new ConfigError(`${key}: listener name ${name} is given twice`);
    if (distinctPorts && port !== 0 && result.some((l) => l.port === port)) {
      throw new ConfigError(`${key}: port ${port} is used by more than one listener`);
    }
    result.push({ name, host: match[2] ?? match[3]!, port, securityProtocol });
  }
  return result;
}

function advertise(listener: ListenerConfig): ListenerConfig {
  return WILDCARD_HOSTS.has(listener.host) ? { ...listener, host: os.hostname() } : listener;
}

function parseAdvertised(
  items: readonly string[],
  listeners: readonly ListenerConfig[],
  protocols: ReadonlyMap<string, string>,
): ListenerConfig[] {
  return parseListeners('advertised.listeners', items, protocols, false).map((l) => {
    if (!listeners.some((bound) => bound.name === l.name)) {
      throw new ConfigError(`advertised.listeners: listener ${l.name} is not one of the listeners`);
    }
    // Clients cannot connect to a wildcard address; an empty host still means "this machine's name".
    if (l.host !== '' && WILDCARD_HOSTS.has(l.host)) {
      throw new ConfigError(`advertised.listeners: cannot advertise the wildcard address ${l.host} for ${l.name}`);
    }
    return advertise(l);
  });
}
