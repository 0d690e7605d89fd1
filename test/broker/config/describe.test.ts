import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ConfigEntryDescription,
  describeBrokerConfigs,
  describeTopicConfigs,
  loadBrokerConfig,
  TOPIC_CONFIG_NAMES,
} from '../../../src/broker/config/index.js';

const TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;

const broker = (overrides: Record<string, string> = {}, env: Record<string, string> = {}) =>
  loadBrokerConfig({ env, overrides });

const one = (entries: ConfigEntryDescription[]): ConfigEntryDescription => {
  assert.equal(entries.length, 1);
  return entries[0]!;
};

describe('describeTopicConfigs', () => {
  it('describes every topic config when no names are given', () => {
    const all = describeTopicConfigs({}, broker(), null, false, false);
    assert.deepEqual(
      all.map((e) => e.name),
      TOPIC_CONFIG_NAMES,
    );
    assert.deepEqual(
      describeTopicConfigs({}, broker(), [], false, false).map((e) => e.name),
      TOPIC_CONFIG_NAMES,
    );
    for (const entry of all) {
      assert.equal(entry.source, DEFAULT_CONFIG, entry.name);
      assert.equal(entry.isDefault, true);
      assert.equal(entry.readOnly, false);
      assert.equal(entry.isSensitive, false);
      assert.deepEqual(entry.synonyms, []);
      assert.equal(entry.documentation, null);
    }
  });

  it('skips unknown names and keeps the order asked for', () => {
    const entries = describeTopicConfigs({}, broker(), ['segment.ms', 'nope', 'cleanup.policy'], false, true);
    assert.deepEqual(
      entries.map((e) => e.name),
      ['segment.ms', 'cleanup.policy'],
    );
    assert.ok(entries.every((e) => typeof e.documentation === 'string' && e.documentation.length > 0));
  });

  it('reports a default with its broker default synonym', () => {
    const entry = one(describeTopicConfigs({}, broker(), ['retention.ms'], true, false));
    assert.deepEqual(entry, {
      name: 'retention.ms',
      value: '604800000',
      readOnly: false,
      isDefault: true,
      source: DEFAULT_CONFIG,
      isSensitive: false,
      configType: 5,
      synonyms: [{ name: 'log.retention.hours', value: '168', source: DEFAULT_CONFIG }],
      documentation: null,
    });
  });

  it('reports a broker-level setting as STATIC_BROKER_CONFIG, converted to the topic unit', () => {
    const b = broker({ 'log.retention.minutes': '10' }, { SAMSA_LOG_RETENTION_HOURS: '2' });
    const entry = one(describeTopicConfigs({}, b, ['retention.ms'], true, false));
    assert.equal(entry.value, '600000');
    assert.equal(entry.source, STATIC_BROKER_CONFIG);
    assert.equal(entry.isDefault, false);
    assert.deepEqual(entry.synonyms, [
      { name: 'log.retention.minutes', value: '10', source: STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '2', source: STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: DEFAULT_CONFIG },
    ]);
  });

  it('reports an override as TOPIC_CONFIG, first among the synonyms', () => {
    const b = broker({ 'log.segment.bytes': '2048' });
    const entry = one(describeTopicConfigs({ 'segment.bytes': ' 4096' }, b, ['segment.bytes'], true, false));
    assert.equal(entry.value, '4096');
    assert.equal(entry.source, TOPIC_CONFIG);
    assert.deepEqual(entry.synonyms, [
      { name: 'segment.bytes', value: '4096', source: TOPIC_CONFIG },
      { name: 'log.segment.bytes', value: '2048', source: STATIC_BROKER_CONFIG },
      { name: 'log.segment.bytes', value: '1073741824', source: DEFAULT_CONFIG },
    ]);
  });

  it("shows values in Kafka's canonical form", () => {
    const overrides = { 'min.cleanable.dirty.ratio': '1', preallocate: 'TRUE', 'cleanup.policy': 'compact , delete' };
    const byName = new Map(
      describeTopicConfigs(overrides, broker(), null, false, false).map((e) => [e.name, e] as const),
    );
    assert.equal(byName.get('min.cleanable.dirty.ratio')!.value, '1.0');
    assert.equal(byName.get('preallocate')!.value, 'true');
    assert.equal(byName.get('cleanup.policy')!.value, 'compact,delete');
    assert.equal(byName.get('flush.ms')!.value, '9223372036854775807');
    assert.equal(byName.get('max.message.bytes')!.value, '1048588');
    assert.equal(byName.get('leader.replication.throttled.replicas')!.value, '');
    assert.equal(byName.get('cleanup.policy')!.configType, 7);
    assert.equal(byName.get('min.cleanable.dirty.ratio')!.configType, 6);
    assert.equal(byName.get('preallocate')!.configType, 1);
    assert.equal(byName.get('compression.type')!.configType, 2);
  });

  it('a topic config without broker synonyms has none', () => {
    const entry = one(describeTopicConfigs({}, broker(), ['remote.storage.enable'], true, false));
    assert.equal(entry.value, 'false');
    assert.deepEqual(entry.synonyms, []);
  });

  it('takes flush.ms from log.flush.scheduler.interval.ms when log.flush.interval.ms is unset', () => {
    const b = broker({ 'log.flush.scheduler.interval.ms': '3000' });
    const entry = one(describeTopicConfigs({}, b, ['flush.ms'], true, false));
    assert.equal(entry.value, '3000');
    assert.deepEqual(entry.synonyms, [
      { name: 'log.flush.scheduler.interval.ms', value: '3000', source: STATIC_BROKER_CONFIG },
      { name: 'log.flush.scheduler.interval.ms', value: '9223372036854775807', source: DEFAULT_CONFIG },
    ]);
  });
});

describe('describeBrokerConfigs', () => {
  it('describes every entry read-only, with sources', () => {
    const b = broker({ 'num.partitions': '3' });
    const all = describeBrokerConfigs(b, null, false, false);
    assert.equal(all.length, b.entries.size);
    assert.ok(all.every((e) => e.readOnly));
    const byName = new Map(all.map((e) => [e.name, e] as const));
    assert.equal(byName.get('num.partitions')!.value, '3');
    assert.equal(byName.get('num.partitions')!.source, STATIC_BROKER_CONFIG);
    assert.equal(byName.get('num.partitions')!.isDefault, false);
    assert.equal(byName.get('delete.topic.enable')!.source, DEFAULT_CONFIG);
    assert.equal(byName.get('delete.topic.enable')!.isDefault, true);
    assert.equal(byName.get('log.retention.ms')!.value, null);
  });

  it('filters by name and lists synonyms starting at the key', () => {
    const b = broker({ 'log.retention.ms': '1000', 'log.retention.hours': '5' });
    const [hours, ms, minutes] = describeBrokerConfigs(
      b,
      ['log.retention.hours', 'log.retention.ms', 'log.retention.minutes', 'nope'],
      true,
      true,
    );
    assert.deepEqual(hours!.synonyms, [
      { name: 'log.retention.hours', value: '5', source: STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: DEFAULT_CONFIG },
    ]);
    assert.deepEqual(ms!.synonyms, [
      { name: 'log.retention.ms', value: '1000', source: STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '5', source: STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: DEFAULT_CONFIG },
    ]);
    assert.equal(minutes!.value, null);
    assert.deepEqual(minutes!.synonyms, []);
    assert.equal(typeof hours!.documentation, 'string');
    assert.equal(hours!.configType, 3);
  });

  it('hides the values of keys it does not know', () => {
    const b = loadBrokerConfig({ env: {}, overrides: { 'sasl.jaas.config': 'secret' } });
    const entry = one(describeBrokerConfigs(b, ['sasl.jaas.config'], true, true));
    assert.equal(entry.value, null);
    assert.equal(entry.isSensitive, true);
    assert.equal(entry.configType, 0);
    assert.deepEqual(entry.synonyms, [{ name: 'sasl.jaas.config', value: null, source: STATIC_BROKER_CONFIG }]);
  });
});
