/**
 * Shared steps of the config module: checking one raw value against its definition, deriving a topic config's
 * broker-level default from its synonyms, and turning effective string values into TopicSettings.
 */
import type { BrokerConfig } from './broker-config.js';
import { type KeyDef, TOPIC_DEFS, type TopicKeyDef } from './definitions.js';
import { ConfigError } from './errors.js';
import type { TopicSettings } from './topic-config.js';
import { type ConfigValue, formatValue, parseValue, TYPE_NOUNS, toNumber } from './value-types.js';

export type Checked = { ok: true; value: ConfigValue } | { ok: false; reason: string; offending: string };

/** Parses and validates a raw value; on failure says why in Kafka's words. */
export function checkKey(def: KeyDef, raw: string): Checked {
  const parsed = parseValue(def.type, raw);
  if (!parsed.ok) return { ok: false, reason: parsed.reason, offending: raw };
  const violation = def.validator?.check(parsed.value);
  if (violation) return { ok: false, reason: violation.reason, offending: violation.offending ?? raw };
  return parsed;
}

/** Kafka's ConfigException wording, used for topic configs in protocol responses. */
export function kafkaMessage(name: string, failure: { reason: string; offending: string }): string {
  return `Invalid value ${failure.offending} for configuration ${name}: ${failure.reason}`;
}

/** Completes "expected ..." for startup errors. */
export function expectation(def: KeyDef): string {
  const noun = TYPE_NOUNS[def.type];
  return def.validator ? def.validator.expect(noun) : noun;
}

/** A value in the canonical form Kafka reports; unparsable input is returned as given. */
export function normalize(def: KeyDef, raw: string): string {
  const parsed = parseValue(def.type, raw);
  return parsed.ok ? formatValue(def.type, parsed.value) : raw;
}

/**
 * The broker's default for a topic config: the first of its synonyms with a value (set or defaulted), converted to
 * the topic config's unit, else the topic config's own default.
 */
export function brokerValue(def: TopicKeyDef, entries: BrokerConfig['entries']): string {
  for (const synonym of def.synonyms) {
    const raw = entries.get(synonym.name)?.value;
    if (raw === null || raw === undefined) continue;
    const parsed = parseValue(synonym.type, raw);
    if (!parsed.ok) break; // entries were validated at load; a hand-built bad one falls back to the default
    if (def.type !== 'long') return formatValue(def.type, parsed.value);
    let value = BigInt(parsed.value as number | bigint) * BigInt(synonym.scale);
    if (def.fromBroker) value = def.fromBroker(value);
    return value.toString();
  }
  return def.default ?? '';
}

/** Builds TopicSettings from each topic config's effective string value. */
export function buildSettings(effective: (def: TopicKeyDef) => string): TopicSettings {
  const settings: Record<string, unknown> = {};
  for (const def of TOPIC_DEFS) {
    if (def.field === undefined) continue;
    const raw = effective(def);
    const parsed = parseValue(def.type, raw);
    if (!parsed.ok) throw new ConfigError(`${def.name}: expected ${expectation(def)}, got '${raw}'`);
    settings[def.field] = settingValue(parsed.value);
  }
  return settings as unknown as TopicSettings;
}

function settingValue(value: ConfigValue): unknown {
  if (typeof value === 'bigint' || typeof value === 'number') return toNumber(value);
  if (Array.isArray(value)) return [...new Set(value)];
  return value;
}
