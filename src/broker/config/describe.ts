/**
 * DescribeConfigs answers for TOPIC and BROKER resources, following Kafka's choice of value, source and synonym
 * order: a topic override, then dynamic broker keys, then static ones (file, env, flags), then defaults.
 */
import type { BrokerConfig, ConfigSource } from './broker-config.js';
import { BROKER_DEFS_BY_NAME } from './broker-definitions.js';
import { TOPIC_DEFS, TOPIC_DEFS_BY_NAME, type TopicKeyDef } from './definitions.js';
import { brokerValue, normalize } from './resolve.js';
import type { ConfigEntryDescription } from './topic-config.js';
import { CONFIG_TYPE_IDS } from './value-types.js';

const TOPIC_CONFIG = 1;
const DYNAMIC_BROKER_CONFIG = 2;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

const SOURCE_IDS: Readonly<Record<ConfigSource, number>> = {
  dynamic: DYNAMIC_BROKER_CONFIG,
  file: STATIC_BROKER_CONFIG,
  env: STATIC_BROKER_CONFIG,
  flag: STATIC_BROKER_CONFIG,
  default: DEFAULT_CONFIG,
};

type Synonym = ConfigEntryDescription['synonyms'][number];

/** Broker keys that stand in for one another (log.retention.ms/minutes/hours and the like), by member. */
const SYNONYM_GROUPS: ReadonlyMap<string, readonly string[]> = new Map(
  TOPIC_DEFS.filter((d) => d.synonyms.length > 1).flatMap((d) => {
    const names = d.synonyms.map((s) => s.name);
    return names.map((name) => [name, names] as const);
  }),
);

/** Sensitive keys, and keys the broker does not know (they might hold secrets), never show their values. */
function isSensitive(name: string): boolean {
  const def = BROKER_DEFS_BY_NAME.get(name);
  return def === undefined || def.type === 'password';
}

function brokerChain(names: readonly string[], broker: BrokerConfig): Synonym[] {
  const given: Synonym[] = [];
  const defaults: Synonym[] = [];
  for (const name of names) {
    const entry = broker.entries.get(name);
    if (entry && entry.source !== 'default' && entry.value !== null) {
      given.push({ name, value: isSensitive(name) ? null : entry.value, source: SOURCE_IDS[entry.source] });
    }
  }
  for (const name of names) {
    const fallback = BROKER_DEFS_BY_NAME.get(name)?.default;
    if (fallback !== null && fallback !== undefined) defaults.push({ name, value: fallback, source: DEFAULT_CONFIG });
  }
  return [...given.sort((a, b) => a.source - b.source), ...defaults];
}

function selected<T>(all: readonly T[], names: readonly string[] | null, find: (name: string) => T | undefined): T[] {
  if (names === null || names.length === 0) return [...all];
  return [...new Set(names)].map(find).filter((x): x is T => x !== undefined);
}

export function describeTopicConfigs(
  overrides: Readonly<Record<string, string>>,
  broker: BrokerConfig,
  names: readonly string[] | null,
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): ConfigEntryDescription[] {
  return selected(TOPIC_DEFS, names, (n) => TOPIC_DEFS_BY_NAME.get(n)).map((def) =>
    topicEntry(def, overrides, broker, includeSynonyms, includeDocumentation),
  );
}

function topicEntry(
  def: TopicKeyDef,
  overrides: Readonly<Record<string, string>>,
  broker: BrokerConfig,
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): ConfigEntryDescription {
  const raw = Object.hasOwn(overrides, def.name) ? overrides[def.name] : undefined;
  const override = raw === undefined ? undefined : normalize(def, raw);
  const chain = brokerChain(
    def.synonyms.map((s) => s.name),
    broker,
  );
  const synonyms =
    override === undefined ? chain : [{ name: def.name, value: override, source: TOPIC_CONFIG }, ...chain];
  const source = synonyms[0]?.source ?? DEFAULT_CONFIG;
  return {
    name: def.name,
    value: override ?? brokerValue(def, broker.entries),
    readOnly: false,
    isDefault: source === DEFAULT_CONFIG,
    source,
    isSensitive: false,
    configType: CONFIG_TYPE_IDS[def.type],
    synonyms: includeSynonyms ? synonyms : [],
    documentation: includeDocumentation ? def.doc : null,
  };
}

/** Every broker entry, known or not; all read-only since samsa has no dynamic broker configs yet. */
export function describeBrokerConfigs(
  broker: BrokerConfig,
  names: readonly string[] | null,
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): ConfigEntryDescription[] {
  const all = [...broker.entries.keys()];
  return selected(all, names, (n) => (broker.entries.has(n) ? n : undefined)).map((name) => {
    const entry = broker.entries.get(name)!;
    const def = BROKER_DEFS_BY_NAME.get(name);
    const sensitive = isSensitive(name);
    // Kafka lists a key's whole synonym group but starts the list at the key itself.
    const chain = brokerChain(SYNONYM_GROUPS.get(name) ?? [name], broker);
    const start = chain.findIndex((s) => s.name === name);
    const source = SOURCE_IDS[entry.source];
    return {
      name,
      value: sensitive ? null : entry.value,
      readOnly: true,
      isDefault: source === DEFAULT_CONFIG,
      source,
      isSensitive: sensitive,
      configType: def ? CONFIG_TYPE_IDS[def.type] : 0,
      synonyms: includeSynonyms && start >= 0 ? chain.slice(start) : [],
      documentation: includeDocumentation && def ? def.doc : null,
    };
  });
}
