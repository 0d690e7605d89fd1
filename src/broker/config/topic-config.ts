/**
 * Topic-level configs: validating overrides (CreateTopics, AlterConfigs) and computing a topic's effective settings
 * from the broker defaults plus its overrides.
 */
import type { LogConfig } from '../../storage/config.js';
import type { BrokerConfig } from './broker-config.js';
import { TOPIC_DEFS, TOPIC_DEFS_BY_NAME } from './definitions.js';
import { brokerValue, buildSettings, checkKey, kafkaMessage } from './resolve.js';

export { describeBrokerConfigs, describeTopicConfigs } from './describe.js';

export interface TopicSettings extends LogConfig {
  compressionType: 'producer' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Long.MAX (Number.MAX_SAFE_INTEGER) means no limit. */
  messageTimestampBeforeMaxMs: number;
  messageTimestampAfterMaxMs: number;
  /** Deprecated in Kafka; still honoured by it as a bound in both directions. */
  messageTimestampDifferenceMaxMs: number;
  minInsyncReplicas: number;
  uncleanLeaderElectionEnable: boolean;
  preallocate: boolean;
  messageDownconversionEnable: boolean;
}

/** Shaped for DescribeConfigs responses. */
export interface ConfigEntryDescription {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  /** Kafka ConfigSource ids: 1 TOPIC_CONFIG, 2 DYNAMIC_BROKER_CONFIG, 3 DYNAMIC_DEFAULT_BROKER_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG. */
  source: number;
  isSensitive: boolean;
  /** Kafka ConfigType ids: 0 UNKNOWN, 1 BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG, 6 DOUBLE, 7 LIST, 8 CLASS, 9 PASSWORD. */
  configType: number;
  /** Kafka order: topic override first, then broker keys that are set, then defaults. */
  synonyms: { name: string; value: string | null; source: number }[];
  documentation: string | null;
}

export const TOPIC_CONFIG_NAMES: readonly string[] = TOPIC_DEFS.map((d) => d.name);

const own = (o: object, key: string): boolean => Object.hasOwn(o, key);

/**
 * Validates topic overrides; null when valid, else a one-line Kafka-style message. A null value (delete the
 * override) is valid for every known key. With `broker`, checks that need the effective values of keys not in
 * `configs` use the broker defaults.
 */
export function validateTopicConfigs(
  configs: Readonly<Record<string, string | null>>,
  broker?: BrokerConfig,
): string | null {
  for (const [name, value] of Object.entries(configs)) {
    const def = TOPIC_DEFS_BY_NAME.get(name);
    if (def === undefined) return `Unknown topic config name: ${name}`;
    if (value === null) continue;
    const checked = checkKey(def, value);
    if (!checked.ok) return kafkaMessage(name, checked);
  }
  return crossCheck(configs, broker);
}

function crossCheck(configs: Readonly<Record<string, string | null>>, broker: BrokerConfig | undefined): string | null {
  const effective = (name: string): string | null => {
    const value = own(configs, name) ? configs[name] : null;
    if (value !== null && value !== undefined) return value.trim();
    return broker ? brokerValue(TOPIC_DEFS_BY_NAME.get(name)!, broker.entries) : null;
  };
  if (effective('remote.storage.enable')?.toLowerCase() === 'true') {
    return 'Tiered storage is not supported: remote.storage.enable must be false';
  }
  const minLag = effective('min.compaction.lag.ms');
  const maxLag = effective('max.compaction.lag.ms');
  if (minLag !== null && maxLag !== null && BigInt(minLag) > BigInt(maxLag)) {
    return `min.compaction.lag.ms (${minLag}) must not be greater than max.compaction.lag.ms (${maxLag})`;
  }
  return null;
}

/** The effective settings of a topic: broker defaults overlaid with the topic's overrides (already validated). */
export function topicSettings(overrides: Readonly<Record<string, string>>, broker: BrokerConfig): TopicSettings {
  return buildSettings((def) => {
    const value = own(overrides, def.name) ? overrides[def.name] : undefined;
    return value ?? brokerValue(def, broker.entries);
  });
}
